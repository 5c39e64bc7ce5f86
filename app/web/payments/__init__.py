"""Payment gateway webhooks (server to server). The orders issue adds the
notification endpoints; this answers gateways' reachability checks."""
from flask import Blueprint, jsonify

bp = Blueprint("payments", __name__)


@bp.get("/ping")
def ping():
    return jsonify(ok=True)
