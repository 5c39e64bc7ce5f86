"""Who may see which page of the centre, and what every page shares.

Pages past the centre itself need a distributor row that is active or frozen;
anyone else is sent to the centre, which shows what applies to them (the apply
form, their spend progress, "审核中" or "未开放"). Everything is loaded for the
signed-in user only, so nobody can name another distributor's rows."""
from __future__ import annotations

from functools import wraps

from flask import g, redirect, url_for
from flask_login import current_user, login_required

from app.core.labels import labels_for
from app.core.urls import external_url
from app.distribution import distributors, policies, queries
from app.distribution import rules as distribution_rules
from app.distribution.labels import LEVEL_LABELS, METHOD_LABELS
from app.distribution.models import Distributor
from app.distribution.states import COMMISSION_LIFECYCLE, DistributorStatus
from app.web.distributor.blueprint import bp

CENTRE_STATUSES = (DistributorStatus.ACTIVE, DistributorStatus.FROZEN)



def me():
    return current_user._get_current_object()


def distributor_required(view):
    """The signed-in user's active or frozen distributor row in `g.distributor`;
    everyone else goes to the centre."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        distributor = distributors.for_user(current_user.id)
        if distributor is None or distributor.status not in CENTRE_STATUSES:
            return redirect(url_for("distributor.centre"))
        g.distributor = distributor
        return view(*args, **kwargs)

    return wrapped


def shop_link(distributor: Distributor, product_id: int | None = None, qr: bool = False) -> str:
    extra = {"s": "qr"} if qr else {}
    if product_id:
        return external_url("shop.referral_product", code=distributor.code, product_id=product_id, **extra)
    return external_url("shop.referral_shop", code=distributor.code, **extra)


@bp.context_processor
def centre_context():
    """Labels, and what the signed-in distributor may do now (app.distribution.policies):
    pages draw the withdraw button from `'withdraw' in own_actions(distributor)`."""
    return {"level_labels": LEVEL_LABELS, "method_labels": METHOD_LABELS,
            "own_actions": lambda distributor: policies.actions_for(distributor, current_user),
            "may_settle": lambda commission: COMMISSION_LIFECYCLE.allows("settle", commission.status)}


@bp.app_context_processor
def distributor_entry_context():
    """`distributor_entry()` for 我的: the user's distributor status and available
    earnings (queried only when a page draws the entry)."""

    def distributor_entry() -> dict | None:
        if not current_user.is_authenticated:
            return None
        distributor = distributors.for_user(current_user.id)
        if distributor is None:
            rules = distribution_rules.current()
            return {"status": None, "open": rules.enabled}
        entry = {"status": distributor.status, "label": labels_for("distributor").label(distributor.status, "distributor"),
                 "frozen": distributor.is_frozen, "open": True}
        if distributor.status in CENTRE_STATUSES:
            entry["earnings"] = queries.earnings(distributor.id)
        return entry

    return {"distributor_entry": distributor_entry}
