"""The distributor's lists: commissions, team and the orders they brought in.
Every query is scoped to `g.distributor` (the signed-in user's own row), and
each page is a fixed number of queries whatever its length."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import noload

from app.accounts.models import User
from app.core.clock import utcnow
from app.core.labels import labels_for
from app.core.pagination import paginate
from app.distribution import queries
from app.distribution.models import ReferralBinding
from app.web.distributor.access import distributor_required
from app.web.distributor.blueprint import bp
from app.web.list_filters import pick_tab

PER_PAGE = 20
COMMISSION_TABS = {"all": _l("全部"), **dict(labels_for("commission").choices())}
TEAM_TABS = {"l1": _l("一级成员"), "l2": _l("二级成员"), "customers": _l("我的客户")}


@bp.get("/commissions")
@distributor_required
def commissions():
    tab = pick_tab(request.args, "status", COMMISSION_TABS, "all")
    stmt = queries.commission_rows(distributor_id=g.distributor.id, status=None if tab == "all" else tab)
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/commissions.html", page=page, tab=tab, tabs=COMMISSION_TABS)


@bp.get("/team")
@distributor_required
def team():
    tab = pick_tab(request.args, "tab", TEAM_TABS, "l1")
    me = g.distributor.id
    if tab in ("l1", "l2"):
        stmt = queries.team_members(me, 1 if tab == "l1" else 2).options(noload(User.identities))
    else:
        stmt = (sa.select(ReferralBinding, User)
                .join(User, User.id == ReferralBinding.buyer_id)
                .where(ReferralBinding.distributor_id == me, ReferralBinding.in_force(utcnow()))
                .options(noload(User.identities))
                .order_by(ReferralBinding.bound_at.desc(), ReferralBinding.id.desc()))
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/team.html", page=page, tab=tab, tabs=TEAM_TABS,
                           counts=queries.team_count(me))


@bp.get("/orders")
@distributor_required
def orders():
    stmt = queries.commissions_by_order(g.distributor.id)
    page = paginate(stmt, request.args.get("page", 1), PER_PAGE, scalars=False)
    return render_template("distributor/orders.html", page=page)
