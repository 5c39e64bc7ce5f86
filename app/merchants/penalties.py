"""Platform actions on a shop: warning, suspension, closure, reopening.

Guarantees: each status change is a `move` of `MERCHANT_LIFECYCLE` (two admins
cannot both act on a stale status) whose timeline row is the shop's penalty history
(`Merchant.timeline_row`); each action is written to the audit log and notifies the
owner; who may do which is `policies.actions_for`. Closing a shop takes its
products off sale in the same transaction. A suspension "until a date" is lifted by the periodic
`lift_expired_suspensions` job; one "until lifted" stays until an admin reopens.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.catalog.product_sale import close_shop_products
from app.core import audit, page_cache
from app.core.clock import utcnow
from app.core.db import each
from app.core.errors import ValidationError
from app.core.lifecycle import move, try_move
from app.extensions import db
from app.merchants import policies
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantMember, MerchantPenalty
from app.merchants.shops import get_merchant
from app.merchants.states import MERCHANT_LIFECYCLE, MemberRole, MerchantStatus, PenaltyKind
from app.notifications import services as notifications


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not 2 <= len(reason) <= 200:
        message = _("请填写原因（2 到 200 个字）")
        raise ValidationError(message, code=MerchantError.REASON_REQUIRED, fields={"reason": message})
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


def _latest_penalty(merchant_id: int) -> MerchantPenalty:
    return db.session.scalar(sa.select(MerchantPenalty).where(MerchantPenalty.merchant_id == merchant_id)
                             .order_by(MerchantPenalty.id.desc()).limit(1))


def warn(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    """A warning moves no status; a closed shop is not warned (StaleState)."""
    merchant = get_merchant(merchant_id)
    policies.require(merchant, actor, "warn")
    reason = _reason(reason)
    penalty = _add(merchant, actor, PenaltyKind.WARNING, reason)
    audit.record(actor, "merchant.warn", merchant, note=reason)
    _notify_owner(merchant, _("店铺收到平台警告"), reason)
    return penalty


def _change_status(actor, merchant_id: int, act_name: str, reason: str, title: str,
                   until: datetime | None = None) -> Merchant:
    """The shared path of suspend, close and reopen: the move (its timeline row is the
    history entry), the audit row and the owner's notice."""
    merchant = get_merchant(merchant_id)
    policies.require(merchant, actor, act_name)
    reason = _reason(reason)
    target = MERCHANT_LIFECYCLE.transition(act_name).target
    keeps_reason = target != MerchantStatus.ACTIVE
    before = move(MERCHANT_LIFECYCLE, Merchant, merchant.id, act_name, actor_id=actor.id, note=reason,
                  values={"status_reason": reason if keeps_reason else None, "suspended_until": until})
    audit.record(actor, f"merchant.{act_name}", merchant, {"status": [before, target]}, reason)
    page_cache.everything_changed()  # open or not: every page listing its products, and their own pages
    _notify_owner(merchant, title, reason)
    return merchant


def suspend(actor, merchant_id: int, reason: str, until: datetime | None) -> MerchantPenalty:
    """Until a date (lifted by `lift_expired_suspensions`) or, without one, until reopened."""
    if until is not None and until <= utcnow():
        message = _("恢复时间必须晚于现在")
        raise ValidationError(message, fields={"until": message})
    _change_status(actor, merchant_id, "suspend", reason, _("店铺已被暂停营业"), until)
    return _latest_penalty(merchant_id)


def close(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    """Close for good: the shop leaves the storefront and every product goes off sale."""
    _change_status(actor, merchant_id, "close", reason, _("店铺已被关闭"))
    close_shop_products(merchant_id)
    return _latest_penalty(merchant_id)


def reopen(actor, merchant_id: int, reason: str) -> MerchantPenalty:
    """Lift a suspension or reopen a closed shop."""
    _change_status(actor, merchant_id, "reopen", reason, _("店铺已恢复营业"))
    return _latest_penalty(merchant_id)


def history(merchant_id: int) -> list[MerchantPenalty]:
    return list(db.session.scalars(sa.select(MerchantPenalty).where(MerchantPenalty.merchant_id == merchant_id)
                                   .order_by(MerchantPenalty.id.desc())))


def lift_suspension(merchant_id: int) -> bool:
    """Reopen one shop whose suspension date has passed; False when it is not due (any
    more). The row is locked while deciding, so a suspension an admin renews at the same
    moment is either lifted before the renewal or not at all."""
    due = db.session.scalar(sa.select(Merchant.id).where(
        Merchant.id == merchant_id, Merchant.status == MerchantStatus.SUSPENDED,
        Merchant.suspended_until <= utcnow()).with_for_update())
    reason = _("暂停期满，自动恢复营业")
    if due is None or not try_move(MERCHANT_LIFECYCLE, Merchant, merchant_id, "lift", note=reason,
                                   values={"status_reason": None, "suspended_until": None}):
        return False
    page_cache.everything_changed()
    _notify_owner(db.session.get(Merchant, merchant_id), _("店铺已恢复营业"), reason)
    return True


def lift_expired_suspensions() -> int:
    """Periodic job: reopen shops whose suspension end date has passed, each in its own
    transaction. Safe to re-run; returns how many were reopened."""
    due = list(db.session.scalars(sa.select(Merchant.id).where(
        Merchant.status == MerchantStatus.SUSPENDED, Merchant.suspended_until.is_not(None),
        Merchant.suspended_until <= utcnow())))
    return each(due, lift_suspension, "merchant")
