"""What the two 经常一起买 pages share (admin: the platform's rules, `stats.view`; merchant:
the shop's own): the run panel with its recompute button, and the answers of that button
and of the panel's polling.

The button posts over HTMX (a plain post also works: flash and back to the page). While a
recompute is queued or running the panel shows it and asks again every few seconds; once
it has finished the page reloads (HX-Refresh) to show the new rules.
"""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request
from flask_babel import gettext as _

from app.analytics import rule_queries, tasks
from app.analytics.rules import Thresholds
from app.catalog.states import ProductStatus
from app.core.clock import utcnow
from app.core.db import transaction
from app.core.htmx import is_htmx, with_toast

PANEL = "backoffice/stats/_rules_run.html"


def panel_context(scope_id: int, busy_scope: int | None, recompute_endpoint: str, status_endpoint: str) -> dict:
    """The run panel: the scope's last run, whether a recompute covering it is on its way,
    and the thresholds in force now. `busy_scope`: None for the whole run (the platform),
    the shop's id for a shop."""
    return {"run": rule_queries.last_run(scope_id), "busy": tasks.is_busy(busy_scope),
            "thresholds": Thresholds.from_settings(), "recompute_endpoint": recompute_endpoint,
            "status_endpoint": status_endpoint}


def shopper_price_fen(product) -> int:
    """What a shopper pays for the product now (the promotion price inside its window)."""
    if product.promotion_live(utcnow()) and product.promotion_price_fen:
        return product.promotion_price_fen
    return product.price_fen


def bundle(row: rule_queries.RuleRow) -> dict | None:
    """The 套餐 a shop's rule suggests: both products at today's prices and together, or
    None when one of them is not on sale (nothing to bundle)."""
    products = (row.antecedent, row.consequent)
    if any(p.status != ProductStatus.ON_SALE for p in products):
        return None
    prices = [shopper_price_fen(p) for p in products]
    return {"prices": prices, "total_fen": sum(prices)}


def recompute(merchant_id: int | None, page_url: str, context: dict):
    """Ask for a recompute (the whole run, or the shop `merchant_id`): over HTMX the panel
    showing it under way, with a toast; a plain post flashes and goes back to the page.
    When the job already ran inline (no queue), the page reloads with the new rules."""
    with transaction():
        sent = tasks.request_recompute(merchant_id)
    busy = tasks.is_busy(merchant_id)
    if not sent:
        message, level = _("正在计算中，请稍候，不必重复提交"), "warning"
    elif busy:
        message, level = _("已开始重新计算，完成后即可看到新结果"), "success"
    else:
        message, level = _("已重新计算"), "success"
    if is_htmx() and busy:
        return with_toast(render_template(PANEL, **{**context, "busy": True}), message, level)
    flash(message, level)
    return _reload() if is_htmx() else redirect(page_url)


def status(context: dict):
    """The panel, polled while a recompute is on its way; once it is done, a reload."""
    if request.args.get("was_busy") and not context["busy"]:
        return _reload()
    return render_template(PANEL, **context)


def _reload():
    response = make_response("", 200)
    response.headers["HX-Refresh"] = "true"
    return response
