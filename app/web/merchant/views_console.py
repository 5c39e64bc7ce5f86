"""The merchant console's entry: the landing for users without a shop, the
dashboard for members, and the switch between the shops a user works in."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.analytics import shop_figures
from app.core import money
from app.core.bounds import to_int
from app.merchants import penalties
from app.web.merchant.blueprint import bp
from app.web.merchant.context import load_current, merchant_required, switch_to

NOTICE_LIMIT = 5


@bp.get("/")
@login_required
def home():
    """The dashboard of the current shop; users without one see how to open a shop."""
    if load_current() is None:
        return render_template("merchant/home.html")
    merchant = g.merchant
    notices = penalties.history(merchant.id)[:NOTICE_LIMIT]
    return render_template("merchant/dashboard.html", merchant=merchant, notices=notices,
                           kpis=dashboard_figures(merchant))


def dashboard_figures(merchant) -> list[dict]:
    """The shop's cards: today's payments (with yesterday's beside them), then what
    waits for the shop, each linking to the page where it is dealt with."""
    f = shop_figures.for_merchant(merchant.id)
    return [
        {"label": _("今日付款订单"), "value": f.paid_orders_today, "icon": "receipt",
         "sub": _("昨日 %(n)d", n=f.paid_orders_yesterday)},
        {"label": _("今日付款金额"), "fen": f.paid_fen_today, "icon": "graph-up-arrow",
         "sub": _("昨日 %(amount)s", amount=money.format_yuan(f.paid_fen_yesterday))},
        {"label": _("待发货"), "value": f.to_ship, "icon": "box-seam", "alert": f.to_ship > 0,
         "url": url_for("merchant.orders_list", status="paid")},
        {"label": _("在售商品"), "value": f.on_sale, "icon": "bag-check",
         "url": url_for("merchant.products_list", status="on_sale")},
        {"label": _("库存预警"), "value": f.low_stock_skus, "icon": "exclamation-triangle",
         "alert": f.low_stock_skus > 0, "url": url_for("merchant.inventory", filter="low")},
        {"label": _("待回复评价"), "value": f.unreplied_reviews, "icon": "chat-square-text",
         "url": url_for("merchant.reviews_list", filter="unreplied")},
    ]


@bp.get("/nav/badges")
@merchant_required()
def nav_badges():
    """The current shop's sidebar counts, out of band (the sidebar asks after each write:
    see app.core.htmx.announce_queues_changed)."""
    return render_template("merchant/_sidebar.html", nav_badges_oob=True)


@bp.post("/switch")
@login_required
def switch():
    """Work in another shop the user belongs to (404 for any other id)."""
    merchant_id = to_int(request.form.get("merchant_id"), 1) or 0
    merchant = switch_to(merchant_id)
    flash(_("已切换到「%(name)s」", name=merchant.name), "success")
    return redirect(url_for("merchant.home"))
