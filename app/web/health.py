"""`/healthz`: is the database answering, is Redis answering.

What a load balancer should do with a node decides the status code:

- `ok`, 200: everything answers.
- `degraded`, 200: Redis does not answer. The node still serves every page,
  sign-in and checkout (rate limits count in the process, jobs are left to their
  sweeps), and every node shares the same Redis, so taking nodes out of the
  pool would turn a partial outage into a full one. Monitoring alerts on the
  body's `status`, not on the code.
- `down`, 503: the database does not answer; nothing useful can be served.

Cheap by construction: one `SELECT 1` and one PING, the PING bounded by the
Redis client's short timeouts (REDIS_CONNECT_TIMEOUT_SECONDS,
REDIS_SOCKET_TIMEOUT_SECONDS, one retry).
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from app.core import ratelimit
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
    down_since = ratelimit.storage_down_since()
    if down_since is not None:
        since = datetime.fromtimestamp(down_since, UTC).isoformat(timespec="seconds")
        checks["rate_limits"] = f"counted in this process since {since} (storage unreachable)"
    if checks["database"] != "ok":
        return jsonify(status="down", checks=checks), 503
    degraded = checks["redis"].startswith("error") or down_since is not None
    return jsonify(status="degraded" if degraded else "ok", checks=checks), 200
