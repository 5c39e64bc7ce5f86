"""数据报表 of the platform: every shop's rows, and the platform-only types (店铺排行,
佣金明细). Finance and super admins (`reports.export`); pages in app/web/report_pages.py."""
from __future__ import annotations

from app.web import report_pages
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

ENDPOINTS = report_pages.Endpoints("admin.reports", "admin.reports_create", "admin.reports_progress",
                                   "admin.reports_download")
PAGE = "admin/reports/index.html"


@bp.get("/stats/reports")
@admin_required("reports.export")
def reports():
    return report_pages.page(PAGE, ENDPOINTS, None)


@bp.post("/stats/reports")
@admin_required("reports.export")
def reports_create():
    return report_pages.submit(PAGE, ENDPOINTS, None)


@bp.get("/stats/reports/<int:job_id>/progress")
@admin_required("reports.export")
def reports_progress(job_id: int):
    return report_pages.progress(ENDPOINTS, None, job_id)


@bp.get("/stats/reports/<int:job_id>/download")
@admin_required("reports.export")
def reports_download(job_id: int):
    return report_pages.download(None, job_id)
