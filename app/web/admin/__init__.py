"""The platform operator's back office."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.web.admin import (  # noqa: E402,F401
    views_categories,
    views_dashboard,
    views_distribution,
    views_distribution_queues,
    views_jobs,
    views_merchant_review,
    views_merchants,
    views_orders,
    views_product_review,
    views_reviews,
    views_system,
    views_users,
)
