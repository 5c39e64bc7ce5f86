"""The shop: what shoppers see (mobile first)."""
from app.web.shop import (  # noqa: F401  (each module registers its routes on bp)
    full_pages,
    views_account,
    views_aftersales,
    views_auth,
    views_cart,
    views_catalog,
    views_checkout,
    views_flash,
    views_home,
    views_legal,
    views_media,
    views_messages,
    views_oauth,
    views_orders,
    views_referral,
    views_shops,
    views_tracking,
)
from app.web.shop.blueprint import bp

__all__ = ["bp"]
