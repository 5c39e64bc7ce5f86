"""Who may see which page of the centre, and what every page shares.

Pages past the centre itself need a distributor row that is active or frozen;
anyone else is sent to the centre, which shows what applies to them (the apply
form, their spend progress, "审核中" or "未开放"). Everything is loaded for the
signed-in user only, so nobody can name another distributor's rows."""
from __future__ import annotations

from functools import wraps

from flask import g, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.core.urls import external_url
from app.distribution import distributors, withdrawals
from app.distribution import rules as distribution_rules
from app.distribution.models import Distributor
from app.distribution.states import CommissionStatus, DistributorStatus, WithdrawalStatus
from app.web.distributor import bp

CENTRE_STATUSES = (DistributorStatus.ACTIVE, DistributorStatus.FROZEN)

STATUS_LABELS = {DistributorStatus.PENDING: _l("审核中"), DistributorStatus.ACTIVE: _l("正常"),
                 DistributorStatus.REJECTED: _l("未通过"), DistributorStatus.FROZEN: _l("已冻结")}
COMMISSION_LABELS = {CommissionStatus.PENDING: _l("待结算"), CommissionStatus.SETTLED: _l("已结算"),
                     CommissionStatus.VOID: _l("已失效")}
COMMISSION_BADGES = {CommissionStatus.PENDING: "pending", CommissionStatus.SETTLED: "paid",
                     CommissionStatus.VOID: "cancelled"}
WITHDRAWAL_LABELS = {WithdrawalStatus.REQUESTED: _l("审核中"), WithdrawalStatus.APPROVED: _l("待打款"),
                     WithdrawalStatus.PAID: _l("已到账"), WithdrawalStatus.REJECTED: _l("已驳回")}
WITHDRAWAL_BADGES = {WithdrawalStatus.REQUESTED: "in_review", WithdrawalStatus.APPROVED: "warning",
                     WithdrawalStatus.PAID: "paid", WithdrawalStatus.REJECTED: "rejected"}
LEVEL_LABELS = {1: _l("一级"), 2: _l("二级"), 3: _l("三级")}


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
    return {"status_labels": STATUS_LABELS, "commission_labels": COMMISSION_LABELS,
            "commission_badges": COMMISSION_BADGES, "withdrawal_labels": WITHDRAWAL_LABELS,
            "withdrawal_badges": WITHDRAWAL_BADGES, "level_labels": LEVEL_LABELS, "DistributorStatus": DistributorStatus}


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
        entry = {"status": distributor.status, "label": STATUS_LABELS.get(distributor.status), "open": True}
        if distributor.status in CENTRE_STATUSES:
            entry["earnings"] = withdrawals.earnings(distributor.id)
        return entry

    return {"distributor_entry": distributor_entry}
