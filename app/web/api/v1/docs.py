"""A readable API docs page rendered from our own OpenAPI document (no CDN)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/docs")
def docs():
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec)
