"""销售数据: the whole platform's sales over a range of days (tiles, charts, the shops'
ranking and share, provinces), from the rollups (app/web/sales_stats.py). Operators,
finance and super admins (`stats.view`)."""
from __future__ import annotations

from flask import request

from app.web import date_ranges, sales_stats
from app.web.admin.blueprint import bp
from app.web.auth import admin_required


@bp.get("/stats")
@admin_required("stats.view")
def stats():
    rng = date_ranges.parse(request.args)
    return sales_stats.render("admin/stats/index.html", "admin.stats", rng)
