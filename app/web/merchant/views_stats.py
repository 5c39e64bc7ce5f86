"""数据: the current shop's sales over a range of days (tiles, charts, province ranking),
from the rollups (app/web/sales_stats.py). Only the member's own shop: the shop comes from
`g.merchant`, never from the request."""
from __future__ import annotations

from flask import g, request

from app.web import date_ranges, sales_stats
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required


@bp.get("/stats")
@merchant_required()
def stats():
    rng = date_ranges.parse(request.args)
    return sales_stats.render("merchant/stats/index.html", "merchant.stats", rng, g.merchant.id)
