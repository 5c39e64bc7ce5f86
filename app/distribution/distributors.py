"""Becoming a distributor, review, and the admin's grant / freeze / unfreeze.

Guarantees:
- One distributor row per user; its referral code is unique and never reused.
- Every status change is an act of DISTRIBUTOR_LIFECYCLE (states.py) made by
  `app.core.lifecycle.move`: guarded, with a `DistributorEvent`; admin acts are
  audited and the user is told.
- A distributor's parent is the distributor the user was bound to at the moment
  they became active, and never changes afterwards.
- The review facts (account age, paid orders, spend, refund rate, credit score)
  are computed by one function whose formula the reviewer sees.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.core.lifecycle import move
from app.distribution import policies
from app.distribution import rules as distribution_rules
from app.distribution.errors import DistributionError
from app.distribution.models import Distributor, DistributorEvent, ReferralBinding
from app.distribution.states import DISTRIBUTOR_LIFECYCLE, DistributorStatus, Qualification
from app.extensions import db
from app.notifications import services as notifications
from app.orders.models import Order
from app.orders.states import OrderStatus

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: codes are read out and typed
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.COMPLETED,
                 OrderStatus.CLOSED)
CREDIT_FORMULA = ("信用分 = 40 + 账龄天数/365×20（最多 20） + 已付款订单数×2（最多 20） "
                  "+ 累计消费/1000 元×10（最多 20） − 退款率×40，取 0–100 之间的整数")


def _new_code() -> str:
    for _attempt in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if not db.session.scalar(sa.select(sa.literal(1)).where(Distributor.code == code)):
            return code
    raise Conflict(_("系统繁忙，请重试"), code=DistributionError.BUSY)


def for_user(user_id: int) -> Distributor | None:
    return db.session.scalar(sa.select(Distributor).where(Distributor.user_id == user_id))


def by_code(code: str) -> Distributor | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 12:
        return None
    return db.session.scalar(sa.select(Distributor).where(Distributor.code == code))


def get(distributor_id: int) -> Distributor:
    distributor = db.session.get(Distributor, int(distributor_id))
    if distributor is None:
        raise NotFound(_("分销商不存在"), code=DistributionError.DISTRIBUTOR_NOT_FOUND)
    return distributor


def bound_distributor_id(user_id: int) -> int | None:
    """Who the user is bound to now (their parent-to-be), if that binding is still valid."""
    now = utcnow()
    return db.session.scalar(sa.select(ReferralBinding.distributor_id).where(
        ReferralBinding.buyer_id == user_id, ReferralBinding.in_force(now)))


def _move(distributor: Distributor, act_name: str, actor_id: int | None, note: str | None = None,
          only_from: tuple[DistributorStatus, ...] | None = None, **values) -> Distributor:
    """Make `act_name` of DISTRIBUTOR_LIFECYCLE happen (guarded, with its DistributorEvent),
    so two racing reviewers cannot both win; raises StaleState for the loser."""
    move(DISTRIBUTOR_LIFECYCLE, Distributor, distributor.id, act_name, actor_id=actor_id, note=note, values=values,
         only_from=only_from)
    return db.session.get(Distributor, distributor.id)


def _create(user: User, status: DistributorStatus, actor_id: int | None, **values) -> Distributor:
    distributor = Distributor(user_id=user.id, status=status, code=_new_code(), **values)
    if status == DistributorStatus.ACTIVE:
        distributor.parent_id = bound_distributor_id(user.id)
        distributor.activated_at = utcnow()
    db.session.add(distributor)
    db.session.flush()
    db.session.add(Distributor.timeline_row(distributor.id, None, status, actor_id, None))
    return distributor


def _activate(distributor: Distributor, act_name: str, actor_id: int | None, note: str | None = None) -> Distributor:
    """`approve` or `grant`: active from now, under the parent the user is bound to now."""
    return _move(distributor, act_name, actor_id, note, activated_at=utcnow(), status_reason=None,
                 parent_id=distributor.parent_id or bound_distributor_id(distributor.user_id))


def open_centre(user: User) -> Distributor | None:
    """The user opens the distributor centre: under `everyone` they become active
    there and then; otherwise their row (or None) is returned as it is."""
    distributor = for_user(user.id)
    rules = distribution_rules.current()
    if distributor is None and rules.enabled and rules.qualification == Qualification.EVERYONE:
        distributor = _create(user, DistributorStatus.ACTIVE, user.id)
    return distributor


@dataclass(frozen=True)
class Facts:
    account_age_days: int
    paid_orders: int
    spend_fen: int
    refund_rate_bp: int  # refunded (closed) orders / paid orders
    credit_score: int

    def as_dict(self) -> dict:
        return {"account_age_days": self.account_age_days, "paid_orders": self.paid_orders,
                "spend_fen": self.spend_fen, "refund_rate_bp": self.refund_rate_bp,
                "credit_score": self.credit_score}


def credit_score(age_days: int, paid_orders: int, spend_fen: int, refund_rate_bp: int) -> int:
    """The formula in CREDIT_FORMULA, written once."""
    score = (40 + min(age_days / 365 * 20, 20) + min(paid_orders * 2, 20) + min(spend_fen / 100_000 * 10, 20)
             - refund_rate_bp / 10_000 * 40)
    return max(0, min(100, round(score)))


def review_facts(user_id: int) -> Facts:
    """What the platform judges an applicant on, from their account and orders."""
    user = db.session.get(User, user_id)
    age = max(0, (utcnow() - user.created_at).days)
    paid, spend, closed = db.session.execute(
        sa.select(sa.func.count(Order.id), sa.func.coalesce(sa.func.sum(Order.amount_fen), 0),
                  sa.func.count(Order.id).filter(Order.status == OrderStatus.CLOSED))
        .where(Order.buyer_id == user_id, Order.status.in_(PAID_STATUSES))).one()
    refund_rate = round(closed * 10_000 / paid) if paid else 0
    return Facts(age, paid, int(spend), refund_rate, credit_score(age, paid, int(spend), refund_rate))


def paid_spend_fen(user_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Order.amount_fen), 0)).where(
        Order.buyer_id == user_id, Order.status.in_(PAID_STATUSES))) or 0)


def apply(user: User, data: dict) -> Distributor:
    """Apply under the `application` mode (or again after a rejection)."""
    rules = distribution_rules.current()
    if not rules.enabled or rules.qualification != Qualification.APPLICATION:
        raise Conflict(_("当前无需申请"), code=DistributionError.APPLICATION_NOT_OPEN)
    real_name = (data.get("real_name") or "").strip()
    phone = "".join(ch for ch in str(data.get("phone") or "") if ch.isdigit())[-11:]
    reason = (data.get("reason") or "").strip()
    errors = {}
    if not 2 <= len(real_name) <= 20:
        errors["real_name"] = _("请填写 2–20 个字的真实姓名")
    if len(phone) != 11 or not phone.startswith("1"):
        errors["phone"] = _("请填写正确的手机号")
    if len(reason) > 300:
        errors["reason"] = _("申请理由最多 300 字")
    if errors:
        raise ValidationError(_("请检查标红的项目"), code=DistributionError.INVALID_APPLICATION, fields=errors)
    facts = review_facts(user.id).as_dict()
    values = {"real_name": real_name, "phone": phone, "reason": reason, "facts": facts, "applied_at": utcnow()}
    distributor = for_user(user.id)
    if distributor is None:
        return _create(user, DistributorStatus.PENDING, user.id, **values)
    try:
        policies.require(distributor, user, "reapply")
        return _move(distributor, "reapply", user.id, _("重新申请"), status_reason=None, **values)
    except StaleState:
        raise Conflict(_("您已是分销商或申请正在审核中"), code=DistributionError.ALREADY_APPLIED) from None


def approve(reviewer, distributor_id: int) -> Distributor:
    distributor = get(distributor_id)
    try:
        policies.require(distributor, reviewer, "approve")
        distributor = _activate(distributor, "approve", reviewer.id, _("审核通过"))
    except StaleState:
        raise Conflict(_("该申请已处理"), code=DistributionError.NOT_PENDING) from None
    audit.record(reviewer, "distributor.approve", distributor, {"status": ["pending", "active"]})
    notifications.notify(distributor.user_id, _("分销商申请已通过"), _("恭喜成为分销商，快去分享商品赚佣金吧。"),
                         link="/distributor/", kind="distribution")
    return distributor


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(message, code=DistributionError.REASON_REQUIRED, fields={"reason": message})
    return reason


def _moved_by(actor, distributor_id: int, act: str, note: str, refusal: Conflict, **values) -> Distributor:
    """Distributor `distributor_id` after the `actor`'s `act`; `refusal` when its state no longer allows it."""
    distributor = get(distributor_id)
    try:
        policies.require(distributor, actor, act)
        return _move(distributor, act, actor.id, note, **values)
    except StaleState:
        raise refusal from None


def reject(reviewer, distributor_id: int, reason: str) -> Distributor:
    reason = _required_reason(reason, _("请填写驳回原因"))
    distributor = _moved_by(reviewer, distributor_id, "reject", reason,
                            Conflict(_("该申请已处理"), code=DistributionError.NOT_PENDING), status_reason=reason[:200])
    audit.record(reviewer, "distributor.reject", distributor, {"status": ["pending", "rejected"]}, note=reason)
    notifications.notify(distributor.user_id, _("分销商申请未通过"), _("原因：%(reason)s。修改后可重新申请。", reason=reason),
                         link="/distributor/", kind="distribution")
    return distributor


def grant(admin, user_id: int) -> Distributor:
    """An admin makes a user a distributor whatever the qualification mode."""
    user = db.session.get(User, int(user_id))
    if user is None:
        raise NotFound(_("用户不存在"), code=DistributionError.USER_NOT_FOUND)
    distributor = for_user(user.id)
    if distributor is None:
        distributor = _create(user, DistributorStatus.ACTIVE, admin.id)
    else:
        try:
            policies.require(distributor, admin, "grant")
            distributor = _activate(distributor, "grant", admin.id, _("平台授予"))
        except StaleState:
            raise Conflict(_("该用户已是分销商"), code=DistributionError.ALREADY_DISTRIBUTOR) from None
    audit.record(admin, "distributor.grant", distributor, {"status": [None, "active"]})
    notifications.notify(user.id, _("您已成为分销商"), _("平台已为您开通分销资格。"), link="/distributor/",
                         kind="distribution")
    return distributor


def freeze(admin, distributor_id: int, reason: str) -> Distributor:
    reason = _required_reason(reason, _("请填写冻结原因"))
    distributor = _moved_by(admin, distributor_id, "freeze", reason,
                            Conflict(_("只有正常状态的分销商可以冻结"), code=DistributionError.NOT_ACTIVE),
                            status_reason=reason[:200])
    audit.record(admin, "distributor.freeze", distributor, {"status": ["active", "frozen"]}, note=reason)
    notifications.notify(distributor.user_id, _("分销资格已冻结"), _("原因：%(reason)s。冻结期间不产生新佣金，也不能提现。",
                                                                 reason=reason), link="/distributor/", kind="distribution")
    return distributor


def unfreeze(admin, distributor_id: int) -> Distributor:
    distributor = _moved_by(admin, distributor_id, "unfreeze", _("解除冻结"),
                            Conflict(_("该分销商未被冻结"), code=DistributionError.NOT_FROZEN), status_reason=None)
    audit.record(admin, "distributor.unfreeze", distributor, {"status": ["frozen", "active"]})
    notifications.notify(distributor.user_id, _("分销资格已恢复"), _("您的分销资格已解除冻结。"), link="/distributor/",
                         kind="distribution")
    return distributor


def retire_for_deleted_account(user_id: int) -> None:
    """The user is deleting their account: an active distributor is frozen (their code
    binds no one and earns nothing new), a pending application is rejected, and the
    name and phone they applied with are erased. Commissions and the ledger stay."""
    distributor = for_user(user_id)
    if distributor is None:
        return
    note = _("账号已注销")
    act_name = {DistributorStatus.ACTIVE: "freeze",
                DistributorStatus.PENDING: "reject"}.get(DistributorStatus(distributor.status))
    if act_name is not None:
        distributor = _move(distributor, act_name, user_id, note, (DistributorStatus(distributor.status),),
                            status_reason=note)
    distributor.real_name, distributor.phone, distributor.reason = "", "", ""
    db.session.flush()


def on_paid(buyer_id: int) -> None:
    """Called when a buyer's order is paid: under `spend_threshold`, reaching the
    threshold makes them an active distributor."""
    rules = distribution_rules.current()
    if not rules.enabled or rules.qualification != Qualification.SPEND_THRESHOLD:
        return
    distributor = for_user(buyer_id)
    if distributor is not None and not DISTRIBUTOR_LIFECYCLE.allows("grant", distributor.status):
        return
    if paid_spend_fen(buyer_id) < rules.spend_threshold_fen:
        return
    user = db.session.get(User, buyer_id)
    if distributor is None:
        _create(user, DistributorStatus.ACTIVE, None)
    else:
        _activate(distributor, "grant", None, _("累计消费达到门槛"))
    notifications.notify(buyer_id, _("您已成为分销商"), _("累计消费已达到门槛，分销资格已自动开通。"), link="/distributor/",
                         kind="distribution")


def timeline(distributor_id: int) -> list[DistributorEvent]:
    return list(db.session.scalars(sa.select(DistributorEvent).where(DistributorEvent.distributor_id == distributor_id)
                                   .order_by(DistributorEvent.id)))
