"""经常一起买 for the platform (/admin/stats/rules, `stats.view`): the rules mined from
whole checkouts (or, chosen in the filter, one shop's), sortable by lift, confidence or
support, paginated; the last run and a button that recomputes every scope
(app/web/bought_together.py)."""
from __future__ import annotations

from flask import render_template, request, url_for

from app.analytics import rule_queries
from app.analytics.recompute import PLATFORM
from app.core.bounds import to_int
from app.core.htmx import is_htmx
from app.web import bought_together
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

LIST = "admin/stats/_rules_table.html"


def _panel() -> dict:
    return bought_together.panel_context(PLATFORM, None, "admin.stats_rules_recompute", "admin.stats_rules_status")


@bp.get("/stats/rules")
@admin_required("stats.view")
def stats_rules():
    shops = rule_queries.scopes_with_runs()
    shop_id = to_int(request.args.get("shop"), 1)
    if shop_id not in {sid for sid, _name in shops}:
        shop_id = None
    sort = rule_queries.pick_sort(request.args.get("sort"))
    page = rule_queries.platform_rules(shop_id or PLATFORM, sort, request.args.get("page", 1),
                                       request.args.get("per_page", 20))
    args = {k: v for k, v in {"sort": sort, "shop": shop_id}.items() if v and not (k == "sort" and v == "lift")}
    context = {"page": page, "sort": sort, "shop_id": shop_id, "shops": shops, "args": args,
               "sorts": rule_queries.SORTS, "scope_run": rule_queries.last_run(shop_id or PLATFORM), **_panel()}
    if is_htmx() and request.headers.get("HX-Target") == "rules-list":
        return render_template(LIST, **context)
    return render_template("admin/stats/rules.html", **context)


@bp.post("/stats/rules/recompute")
@admin_required("stats.view")
def stats_rules_recompute():
    return bought_together.recompute(None, url_for("admin.stats_rules"), _panel())


@bp.get("/stats/rules/status")
@admin_required("stats.view")
def stats_rules_status():
    return bought_together.status(_panel())
