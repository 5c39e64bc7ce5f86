"""The merchant console's entry: the landing for users without a shop, the
dashboard for members, and the switch between the shops a user works in."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.core.bounds import to_int
from app.merchants import penalties
from app.web.merchant import bp
from app.web.merchant.context import load_current, switch_to

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
                           kpis=dashboard_figures(merchant),
                           kpi_note=_("商品和订单功能上线后，这里显示本店的真实数据。"))


def dashboard_figures(merchant) -> list[dict]:
    """The shop's figures. Products, orders and sales come with the catalog and
    order features; until then they are zero (`kpi_note` says why)."""
    return [
        {"label": _("在售商品"), "value": 0, "icon": "box-seam"},
        {"label": _("今日订单"), "value": 0, "icon": "receipt"},
        {"label": _("今日销售额"), "fen": 0, "icon": "graph-up-arrow"},
    ]


@bp.post("/switch")
@login_required
def switch():
    """Work in another shop the user belongs to (404 for any other id)."""
    merchant_id = to_int(request.form.get("merchant_id"), 1) or 0
    merchant = switch_to(merchant_id)
    flash(_("已切换到「%(name)s」", name=merchant.name), "success")
    return redirect(url_for("merchant.home"))
