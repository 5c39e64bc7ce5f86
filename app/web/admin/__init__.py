"""The platform operator's back office."""
from app.web.admin import (  # noqa: F401  (each module registers its routes on bp)
    views_aftersales,
    views_categories,
    views_dashboard,
    views_distribution,
    views_distribution_queues,
    views_finance,
    views_flash_sales,
    views_jobs,
    views_merchant_review,
    views_merchants,
    views_orders,
    views_product_review,
    views_reconciliation,
    views_reports,
    views_reviews,
    views_rules,
    views_segments,
    views_stats,
    views_system,
    views_users,
)
from app.web.admin.blueprint import bp

__all__ = ["bp"]
