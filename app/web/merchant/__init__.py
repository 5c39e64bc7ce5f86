"""The merchant console (HTMX back office) and the 商家入驻 application pages."""
from flask import Blueprint

bp = Blueprint("merchant", __name__)

from app.web.merchant import views_console  # noqa: E402,F401
