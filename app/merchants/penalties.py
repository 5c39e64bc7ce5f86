"""Platform actions on a shop: warning, suspension, closure, reopening.

Guarantees: each is a guarded status change (two admins cannot both act on a
stale status), is written to the shop's penalty history and the audit log,
and notifies the owner. A suspension "until a date" is lifted by the periodic
`lift_expired_suspensions` job; one "until lifted" stays until an admin reopens.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import policies as account_policies
from app.core import audit
from app.core.clock import utcnow
from app.core.db import guarded_update, transaction
from app.core.errors import Forbidden, ValidationError
from app.extensions import db
from app.merchants.models import Merchant, MerchantMember, MerchantPenalty
from app.merchants.shops import get_merchant
from app.merchants.states import MERCHANT_TRANSITIONS, MemberRole, MerchantStatus, PenaltyKind
from app.notifications import services as notifications


def _require(actor) -> None:
    if not account_policies.can(actor, "merchants.penalise"):
        raise Forbidden(_("你没有处罚店铺的权限"), code="forbidden")


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not 2 <= len(reason) <= 200:
        message = _("请填写原因（2 到 200 个字）")
        raise ValidationError(message, code="reason_required", fields={"reason": message})
    return reason


def _add(merchant: Merchant, actor, kind: str, reason: str, ends_at: datetime | None = None) -> MerchantPenalty:
    penalty = MerchantPenalty(merchant_id=merchant.id, kind=kind, reason=reason,
                              issued_by_id=getattr(actor, "id", None), ends_at=ends_at)
    db.session.add(penalty)
    db.session.flush()
    return penalty


def _notify_owner(merchant: Merchant, title: str, body: str) -> None:
    owner_ids = db.session.scalars(sa.select(MerchantMember.user_id).where(
        MerchantMember.merchant_id == merchant.id, MerchantMember.role == MemberRole.OWNER))
    for user_id in owner_ids:
        notifications.notify(user_id, title, body, link="/merchant/", kind="merchant_penalty")


def warn(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    _require(actor)
    merchant = get_merchant(merchant_id)
    reason = _reason(reason)
    penalty = _add(merchant, actor, PenaltyKind.WARNING, reason)
    audit.record(actor, "merchant.warn", merchant, note=reason)
    _notify_owner(merchant, _("店铺收到平台警告"), reason)
    return penalty


def _change_status(actor, merchant_id: int, target: MerchantStatus, kind: PenaltyKind, reason: str,
                   title: str, until: datetime | None = None) -> tuple[Merchant, MerchantPenalty]:
    """The shared path of suspend, close and reopen: a guarded status change, the
    history row, the audit row and the owner's notice."""
    _require(actor)
    merchant = get_merchant(merchant_id)
    reason = _reason(reason)
    before = merchant.status
    keeps_reason = target != MerchantStatus.ACTIVE
    guarded_update(Merchant, merchant.id, expected=MERCHANT_TRANSITIONS[target],
                   values={"status": target, "status_reason": reason if keeps_reason else None,
                           "suspended_until": until})
    penalty = _add(merchant, actor, kind, reason, until)
    audit.record(actor, f"merchant.{ACTIONS[target]}", merchant, {"status": [before, target.value]}, reason)
    _notify_owner(merchant, title, reason)
    return merchant, penalty


ACTIONS = {MerchantStatus.SUSPENDED: "suspend", MerchantStatus.CLOSED: "close", MerchantStatus.ACTIVE: "reopen"}


def suspend(actor, merchant_id: int, reason: str, until: datetime | None) -> MerchantPenalty:
    """Until a date (lifted by `lift_expired_suspensions`) or, without one, until reopened."""
    if until is not None and until <= utcnow():
        message = _("恢复时间必须晚于现在")
        raise ValidationError(message, fields={"until": message})
    return _change_status(actor, merchant_id, MerchantStatus.SUSPENDED, PenaltyKind.SUSPENSION, reason,
                          _("店铺已被暂停营业"), until)[1]


def close(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    """Close for good: the shop leaves the storefront and every product goes off sale."""
    from app.catalog.product_sale import close_shop_products  # catalog sits above merchants

    merchant, penalty = _change_status(actor, merchant_id, MerchantStatus.CLOSED, PenaltyKind.CLOSURE, reason,
                                       _("店铺已被关闭"))
    close_shop_products(merchant.id)
    return penalty


def reopen(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    """Lift a suspension or reopen a closed shop."""
    return _change_status(actor, merchant_id, MerchantStatus.ACTIVE, PenaltyKind.REOPENING, reason,
                          _("店铺已恢复营业"))[1]


def history(merchant_id: int) -> list[MerchantPenalty]:
    return list(db.session.scalars(sa.select(MerchantPenalty).where(MerchantPenalty.merchant_id == merchant_id)
                                   .order_by(MerchantPenalty.id.desc())))


def lift_expired_suspensions() -> int:
    """Periodic job: reopen shops whose suspension end date has passed. Safe to re-run."""
    lifted = 0
    with transaction():
        due = list(db.session.scalars(sa.select(Merchant.id).where(
            Merchant.status == MerchantStatus.SUSPENDED, Merchant.suspended_until.is_not(None),
            Merchant.suspended_until <= utcnow())))
        for merchant_id in due:
            result = db.session.execute(
                sa.update(Merchant).where(Merchant.id == merchant_id, Merchant.status == MerchantStatus.SUSPENDED,
                                          Merchant.suspended_until <= utcnow())
                .values(status=MerchantStatus.ACTIVE, status_reason=None, suspended_until=None)
            )
            if result.rowcount:
                merchant = db.session.get(Merchant, merchant_id)
                _add(merchant, None, PenaltyKind.REOPENING, _("暂停期满，自动恢复营业"))
                _notify_owner(merchant, _("店铺已恢复营业"), _("暂停期满，自动恢复营业"))
                lifted += 1
    return lifted
