"""The distributor's lists: commissions, team and the orders they brought in.
Every query is scoped to `g.distributor` (the signed-in user's own row), and
each page is a fixed number of queries whatever its length."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, noload

from app.accounts.models import User
from app.core.clock import utcnow
from app.core.pagination import paginate
from app.distribution.models import Commission, Distributor, ReferralBinding
from app.distribution.states import CommissionStatus
from app.orders.models import Order, OrderItem
from app.web.distributor import bp
from app.web.distributor.access import distributor_required
from app.web.distributor.views_centre import team_counts

PER_PAGE = 20
COMMISSION_TABS = {"all": _l("全部"), CommissionStatus.PENDING: _l("待结算"),
                   CommissionStatus.SETTLED: _l("已结算"), CommissionStatus.VOID: _l("已失效")}
TEAM_TABS = {"l1": _l("一级成员"), "l2": _l("二级成员"), "customers": _l("我的客户")}
ORDER_STATUS_LABELS = {"pending_payment": _l("待付款"), "paid": _l("已付款"), "shipped": _l("已发货"),
                       "received": _l("已收货"), "completed": _l("已完成"), "cancelled": _l("已取消"),
                       "closed": _l("已关闭")}


@bp.get("/commissions")
@distributor_required
def commissions():
    tab = request.args.get("status") or "all"
    if tab not in COMMISSION_TABS:
        tab = "all"
    stmt = (sa.select(Commission, Order.order_no, OrderItem.title, OrderItem.spec_text)
            .join(Order, Order.id == Commission.order_id)
            .join(OrderItem, OrderItem.id == Commission.order_item_id)
            .where(Commission.distributor_id == g.distributor.id)
            .order_by(Commission.id.desc()))
    if tab != "all":
        stmt = stmt.where(Commission.status == tab)
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/commissions.html", page=page, tab=tab, tabs=COMMISSION_TABS)


def _members(parent_ids) -> sa.Select:
    """Distributors whose parent is one of `parent_ids` (a list or a subquery), with
    their user and the size of their own first level."""
    child = aliased(Distributor)
    their_team = (sa.select(sa.func.count(child.id)).where(child.parent_id == Distributor.id)
                  .correlate(Distributor).scalar_subquery())
    return (sa.select(Distributor, User, their_team.label("team_size"))
            .join(User, User.id == Distributor.user_id)
            .where(Distributor.parent_id.in_(parent_ids))
            .options(noload(User.identities))
            .order_by(Distributor.activated_at.desc().nulls_last(), Distributor.id.desc()))


@bp.get("/team")
@distributor_required
def team():
    tab = request.args.get("tab") or "l1"
    if tab not in TEAM_TABS:
        tab = "l1"
    me = g.distributor.id
    if tab == "l1":
        stmt = _members([me])
    elif tab == "l2":
        stmt = _members(sa.select(Distributor.id).where(Distributor.parent_id == me).scalar_subquery())
    else:
        stmt = (sa.select(ReferralBinding, User)
                .join(User, User.id == ReferralBinding.buyer_id)
                .where(ReferralBinding.distributor_id == me, ReferralBinding.in_force(utcnow()))
                .options(noload(User.identities))
                .order_by(ReferralBinding.bound_at.desc(), ReferralBinding.id.desc()))
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/team.html", page=page, tab=tab, tabs=TEAM_TABS,
                           counts=team_counts(me))


@bp.get("/orders")
@distributor_required
def orders():
    payable = Commission.amount_fen - Commission.void_fen
    stmt = (sa.select(Order.order_no, Order.created_at, Order.status, Order.amount_fen,
                      sa.func.sum(payable).label("commission_fen"), sa.func.min(Commission.level).label("level"),
                      sa.func.count(Commission.id).label("lines"))
            .join(Commission, Commission.order_id == Order.id)
            .where(Commission.distributor_id == g.distributor.id)
            .group_by(Order.id, Order.order_no, Order.created_at, Order.status, Order.amount_fen)
            .order_by(Order.id.desc()))
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/orders.html", page=page, order_status_labels=ORDER_STATUS_LABELS)
