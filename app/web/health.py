"""`/healthz`: is the database answering, is Redis answering."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from app.extensions import db
from app.web.security_headers import plain_http_allowed

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@plain_http_allowed  # load balancers poll over plain HTTP
def healthz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is what monitors poll
        checks["database"] = f"error: {type(exc).__name__}"
        db.session.rollback()
    client = current_app.extensions["redis"].client
    if client is None:
        checks["redis"] = "not configured (jobs run inline)"
    else:
        try:
            client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    healthy = checks["database"] == "ok" and not checks["redis"].startswith("error")
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503
