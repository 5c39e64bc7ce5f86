"""The merchant console (HTMX back office) and the 商家入驻 application pages."""
from app.web.merchant import (  # noqa: F401  (each module registers its routes on bp)
    views_aftersales,
    views_api_keys,
    views_apply,
    views_console,
    views_flash_sales,
    views_funds,
    views_funds_withdrawals,
    views_inventory,
    views_orders,
    views_products,
    views_products_form,
    views_reports,
    views_reviews,
    views_rules,
    views_segments,
    views_settings,
    views_staff,
    views_stats,
)
from app.web.merchant.blueprint import bp

__all__ = ["bp"]
