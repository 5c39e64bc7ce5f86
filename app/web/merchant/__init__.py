"""The merchant console (HTMX back office) and the 商家入驻 application pages."""
from flask import Blueprint

bp = Blueprint("merchant", __name__)

from app.web.merchant import views_api_keys, views_apply, views_console, views_settings, views_staff  # noqa: E402,F401
