"""Withdrawals of settled commission, and the balances a distributor sees.

Guarantees:
- Available = settled commission (less voided parts) - withdrawals paid - withdrawals
  in progress; it is a sum over the records, never a stored number.
- A request takes the distributor's row lock first (an UPDATE of its
  `withdrawal_seq`), then checks the balance and reserves the amount by inserting
  the withdrawal, all in one transaction: concurrent requests queue on that lock,
  so they can never take the balance below zero.
- Frozen or inactive distributors cannot withdraw; amounts obey the rules' minimum
  and maximum; the fee is the rules' rate (half up) and is shown before confirming.
- Review steps are guarded transitions by a finance admin; a rejection releases
  the amount back to the balance; the distributor is told at each step.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.core.lifecycle import move
from app.core.money import InvalidAmount, apply_rate, format_yuan, yuan_to_fen
from app.distribution import policies
from app.distribution import rules as distribution_rules
from app.distribution.commissions import _ledger
from app.distribution.errors import DistributionError
from app.distribution.models import Distributor, Withdrawal
from app.distribution.queries import earnings
from app.distribution.states import (
    IN_PROGRESS,
    WITHDRAWAL_LIFECYCLE,
    DistributorStatus,
    LedgerKind,
    WithdrawalMethod,
)
from app.extensions import db
from app.finance import ledger, payouts
from app.finance.errors import FinanceError, InsufficientBalance
from app.finance.states import AccountKind
from app.notifications import services as notifications

PAYOUT_PREFIX = "distributor-withdrawal"  # the books' key and source for these withdrawals


def in_progress_count(user_id: int) -> int:
    """The user's withdrawals not yet paid or rejected."""
    return db.session.scalar(sa.select(sa.func.count(Withdrawal.id)).join(
        Distributor, Distributor.id == Withdrawal.distributor_id).where(
        Distributor.user_id == user_id, Withdrawal.status.in_(IN_PROGRESS))) or 0


def fee_for(amount_fen: int) -> int:
    return apply_rate(amount_fen, distribution_rules.current().withdrawal_fee_bp)


def _clean_account(method: str, data: dict) -> dict:
    errors: dict[str, str] = {}
    name = (data.get("account_name") or "").strip()
    account = (data.get("account_no") or "").strip()
    if not 2 <= len(name) <= 20:
        errors["account_name"] = _("请填写收款人真实姓名")
    if not 4 <= len(account) <= 40:
        errors["account_no"] = _("请填写收款账号")
    result = {"name": name, "account": account}
    if method == WithdrawalMethod.BANK:
        bank = (data.get("bank_name") or "").strip()
        if not 2 <= len(bank) <= 40:
            errors["bank_name"] = _("请填写开户银行")
        if not account.isdigit() or not 12 <= len(account) <= 19:
            errors["account_no"] = _("请填写 12–19 位银行卡号")
        result["bank"] = bank
    if errors:
        raise ValidationError(_("请检查收款信息"), code=DistributionError.INVALID_ACCOUNT, fields=errors)
    return result


def request(user, data: dict) -> Withdrawal:
    """The distributor asks to withdraw `data["amount"]` (yuan) by a method the rules allow."""
    distributor = db.session.scalar(sa.select(Distributor).where(Distributor.user_id == user.id))
    if distributor is None:
        raise NotFound(_("您还不是分销商"), code=DistributionError.NOT_DISTRIBUTOR)
    rules = distribution_rules.current()
    try:
        amount = yuan_to_fen(data.get("amount") or "")
    except InvalidAmount:
        raise ValidationError(_("请输入正确的金额"), code=DistributionError.INVALID_AMOUNT, fields={"amount": _("请输入正确的金额")}) from None
    if amount < rules.withdrawal_min_fen:
        raise ValidationError(_("单次提现不能低于 %(min)s", min=format_yuan(rules.withdrawal_min_fen)),
                              code=DistributionError.BELOW_MINIMUM, fields={"amount": _("单次提现不能低于 %(min)s",
                                                                       min=format_yuan(rules.withdrawal_min_fen))})
    if amount > rules.withdrawal_max_fen:
        raise ValidationError(_("单次提现不能高于 %(max)s", max=format_yuan(rules.withdrawal_max_fen)),
                              code=DistributionError.ABOVE_MAXIMUM, fields={"amount": _("单次提现不能高于 %(max)s",
                                                                       max=format_yuan(rules.withdrawal_max_fen))})
    method = str(data.get("method") or "")
    if method not in rules.withdrawal_methods:
        raise ValidationError(_("请选择提现方式"), code=DistributionError.INVALID_METHOD, fields={"method": _("请选择提现方式")})
    account = _clean_account(method, data)
    # The row lock: every request of this distributor waits here for the one before.
    locked = db.session.execute(
        sa.update(Distributor).where(Distributor.id == distributor.id, Distributor.status == DistributorStatus.ACTIVE)
        .values(withdrawal_seq=Distributor.withdrawal_seq + 1).execution_options(synchronize_session=False)).rowcount
    if locked != 1:
        raise Conflict(_("分销资格已冻结或未开通，暂不能提现"), code=DistributionError.CANNOT_WITHDRAW)
    available = earnings(distributor.id).available_fen
    if amount > available:
        raise Conflict(_("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(available)), code=DistributionError.INSUFFICIENT_BALANCE,
                       fields={"amount": _("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(available))})
    withdrawal = Withdrawal(distributor_id=distributor.id, amount_fen=amount, fee_fen=fee_for(amount), method=method,
                            account=account)
    db.session.add(withdrawal)
    db.session.flush()
    _ledger(distributor.id, LedgerKind.WITHDRAWAL_REQUESTED, -amount, withdrawal_id=withdrawal.id)
    try:
        payouts.hold(PAYOUT_PREFIX, withdrawal.id, AccountKind.DISTRIBUTOR_AVAILABLE, distributor.id, amount)
    except InsufficientBalance:
        # The books hold less than the records say: refuse rather than pay out money not held.
        raise Conflict(_("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(ledger.shown_balance(
            AccountKind.DISTRIBUTOR_AVAILABLE, distributor.id))), code=DistributionError.INSUFFICIENT_BALANCE) from None
    notifications.notify(user.id, _("提现申请已提交"),
                         _("提现 %(yuan)s（手续费 %(fee)s）已提交，平台审核后打款。", yuan=format_yuan(amount),
                           fee=format_yuan(withdrawal.fee_fen)), link="/distributor/withdrawals", kind="distribution")
    return withdrawal


def _get(withdrawal_id) -> Withdrawal:
    try:
        withdrawal = db.session.get(Withdrawal, int(withdrawal_id))
    except (TypeError, ValueError):
        withdrawal = None
    if withdrawal is None:
        raise NotFound(_("提现申请不存在"), code=DistributionError.WITHDRAWAL_NOT_FOUND)
    return withdrawal


def _move(admin, withdrawal: Withdrawal, act_name: str, note: str | None = None, **values) -> Withdrawal:
    try:
        policies.require(withdrawal, admin, act_name)
        move(WITHDRAWAL_LIFECYCLE, Withdrawal, withdrawal.id, act_name, actor_id=admin.id, note=note,
             values={"reviewed_by_id": admin.id, **values})
    except StaleState:
        raise Conflict(_("该提现申请状态已变化，请刷新"), code=DistributionError.STALE_WITHDRAWAL) from None
    return db.session.get(Withdrawal, withdrawal.id)


def _user_of(withdrawal: Withdrawal) -> int:
    return db.session.scalar(sa.select(Distributor.user_id).where(Distributor.id == withdrawal.distributor_id))


def approve(admin, withdrawal_id) -> Withdrawal:
    withdrawal = _move(admin, _get(withdrawal_id), "approve", reviewed_at=utcnow())
    audit.record(admin, "withdrawal.approve", withdrawal, {"status": ["requested", "approved"]})
    notifications.notify(_user_of(withdrawal), _("提现申请已通过"),
                         _("提现 %(yuan)s 已审核通过，将尽快打款。", yuan=format_yuan(withdrawal.amount_fen)),
                         link="/distributor/withdrawals", kind="distribution")
    return withdrawal


def mark_paid(admin, withdrawal_id, transfer_ref: str, paid_from: str | None = None) -> Withdrawal:
    """Finance transferred the money (`transfer_ref`) from the gateway `paid_from` (default:
    the clearing account holding most, `finance.payouts.paying_accounts`)."""
    transfer_ref = (transfer_ref or "").strip()
    if not 4 <= len(transfer_ref) <= 64:
        raise ValidationError(_("请填写转账流水号"), code=DistributionError.TRANSFER_REF_REQUIRED,
                              fields={"transfer_ref": _("请填写转账流水号")})
    paid_from = payouts.choose_paying_account(paid_from)
    withdrawal = _move(admin, _get(withdrawal_id), "mark_paid", transfer_ref, paid_at=utcnow(),
                       transfer_ref=transfer_ref)
    try:
        payouts.pay(PAYOUT_PREFIX, withdrawal.id, withdrawal.amount_fen, withdrawal.fee_fen, paid_from,
                    memo=transfer_ref)
    except InsufficientBalance:
        message = _("该打款账户余额不足，请选择其他账户")
        raise Conflict(message, code=FinanceError.PAYING_ACCOUNT_SHORT, fields={"paid_from": message}) from None
    _ledger(withdrawal.distributor_id, LedgerKind.WITHDRAWAL_PAID, 0, withdrawal_id=withdrawal.id, note=transfer_ref)
    audit.record(admin, "withdrawal.paid", withdrawal, {"status": ["approved", "paid"]}, note=transfer_ref)
    notifications.notify(_user_of(withdrawal), _("提现已到账"),
                         _("提现 %(yuan)s 已打款（实际到账 %(net)s），流水号 %(ref)s。", yuan=format_yuan(withdrawal.amount_fen),
                           net=format_yuan(withdrawal.net_fen), ref=transfer_ref),
                         link="/distributor/withdrawals", kind="distribution")
    return withdrawal


def reject(admin, withdrawal_id, reason: str) -> Withdrawal:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写驳回原因"), code=DistributionError.REASON_REQUIRED, fields={"reason": _("请填写驳回原因")})
    before = _get(withdrawal_id)
    was = before.status
    withdrawal = _move(admin, before, "reject", reason, reviewed_at=utcnow(), reject_reason=reason[:200])
    _ledger(withdrawal.distributor_id, LedgerKind.WITHDRAWAL_RELEASED, withdrawal.amount_fen,
            withdrawal_id=withdrawal.id, note=reason[:200])
    payouts.release(PAYOUT_PREFIX, withdrawal.id, AccountKind.DISTRIBUTOR_AVAILABLE, withdrawal.distributor_id,
                    withdrawal.amount_fen, memo=reason[:200])
    audit.record(admin, "withdrawal.reject", withdrawal, {"status": [was, "rejected"]}, note=reason)
    notifications.notify(_user_of(withdrawal), _("提现申请被驳回"),
                         _("提现 %(yuan)s 被驳回：%(reason)s。金额已退回可提现余额。", yuan=format_yuan(withdrawal.amount_fen),
                           reason=reason), link="/distributor/withdrawals", kind="distribution")
    return withdrawal
