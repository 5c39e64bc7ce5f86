"""The merchant console (HTMX back office) and the 商家入驻 application pages."""
from flask import Blueprint

bp = Blueprint("merchant", __name__)

from app.web.merchant import (  # noqa: E402,F401
    views_api_keys,
    views_apply,
    views_console,
    views_inventory,
    views_orders,
    views_products,
    views_reviews,
    views_settings,
    views_staff,
)
