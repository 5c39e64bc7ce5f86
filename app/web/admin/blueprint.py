"""The `admin` blueprint, alone in its module so that the view modules can import it
without importing the package that imports them (no import cycle)."""
from flask import Blueprint

from app.core.htmx import announce_queues_changed

bp = Blueprint("admin", __name__)
bp.after_request(announce_queues_changed)
