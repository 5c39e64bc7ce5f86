"""经常一起买 for a shop (/merchant/stats/rules): the rules mined from the shop's own
orders, each pair a suggested bundle (可组成套餐) with the two products' price together;
the last run and a button that recomputes this shop only. The shop comes from
`g.merchant`, never from the request."""
from __future__ import annotations

from flask import g, render_template, request, url_for

from app.analytics import rule_queries
from app.core.htmx import is_htmx
from app.web import bought_together
from app.web.merchant.blueprint import bp
from app.web.merchant.context import merchant_required

LIST = "merchant/stats/_rules_list.html"


def _panel() -> dict:
    return bought_together.panel_context(g.merchant.id, g.merchant.id, "merchant.stats_rules_recompute",
                                         "merchant.stats_rules_status")


@bp.get("/stats/rules")
@merchant_required()
def stats_rules():
    sort = rule_queries.pick_sort(request.args.get("sort"))
    page = rule_queries.shop_rules(g.merchant.id, sort, request.args.get("page", 1), request.args.get("per_page", 20))
    context = {"page": page, "sort": sort, "args": {"sort": sort} if sort != rule_queries.DEFAULT_SORT else {},
               "sorts": rule_queries.SORTS, "bundles": {row.rule.id: bought_together.bundle(row) for row in page.items},
               **_panel()}
    if is_htmx() and request.headers.get("HX-Target") == "rules-list":
        return render_template(LIST, **context)
    return render_template("merchant/stats/rules.html", **context)


@bp.post("/stats/rules/recompute")
@merchant_required()
def stats_rules_recompute():
    return bought_together.recompute(g.merchant.id, url_for("merchant.stats_rules"), _panel())


@bp.get("/stats/rules/status")
@merchant_required()
def stats_rules_status():
    return bought_together.status(_panel())
