"""数据报表 of the current shop (any member): its own rows only. The shop is `g.merchant`,
never a value from the request; another shop's report is a 404. Pages in
app/web/report_pages.py."""
from __future__ import annotations

from flask import g

from app.web import report_pages
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

ENDPOINTS = report_pages.Endpoints("merchant.reports", "merchant.reports_create", "merchant.reports_progress",
                                   "merchant.reports_download")
PAGE = "merchant/reports/index.html"


@bp.get("/stats/reports")
@merchant_required()
def reports():
    return report_pages.page(PAGE, ENDPOINTS, g.merchant.id)


@bp.post("/stats/reports")
@merchant_required()
def reports_create():
    return report_pages.submit(PAGE, ENDPOINTS, g.merchant.id)


@bp.get("/stats/reports/<int:job_id>/progress")
@merchant_required()
def reports_progress(job_id: int):
    return report_pages.progress(ENDPOINTS, g.merchant.id, job_id)


@bp.get("/stats/reports/<int:job_id>/download")
@merchant_required()
def reports_download(job_id: int):
    return report_pages.download(g.merchant.id, job_id)
