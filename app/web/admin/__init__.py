"""The platform operator's back office."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.web.admin import views_dashboard, views_jobs, views_merchant_review, views_merchants, views_system, views_users  # noqa: E402,F401
