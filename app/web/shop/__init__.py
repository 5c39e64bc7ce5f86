"""The shop: what shoppers see (mobile first)."""
from flask import Blueprint

bp = Blueprint("shop", __name__)

from app.web.shop import (  # noqa: E402,F401
    views_account,
    views_auth,
    views_cart,
    views_catalog,
    views_checkout,
    views_home,
    views_legal,
    views_media,
    views_messages,
    views_oauth,
    views_orders,
    views_referral,
    views_shops,
)
