"""A shop's withdrawals of its available money (docs/finance.md, "Shops' money (资金) and
withdrawals"); the distributors' own are app/distribution/withdrawals.py, which this mirrors.

Guarantees:
- Only the shop's owner asks (`policies.may_withdraw`), only while the shop is open; the
  amount (yuan) is at least the `merchant_withdrawal_min_fen` setting; the fee is the
  `merchant_withdrawal_fee_bp` setting's rate of it (half up), fixed on the request and
  shown before confirming; the method is a bank account or Alipay with its details.
- The request holds the amount in the books at once (`payouts.hold`: the shop's available
  account to `payouts`), in the transaction that writes the request. The hold is a
  conditional UPDATE of the available account's balance, so two requests racing for one
  balance take it once; the loser is a form error `insufficient_balance` naming what may
  be withdrawn, and the caller's rollback leaves nothing of it.
- Finance (`withdrawals.manage`) approves, rejects (a reason; the amount goes back,
  `payouts.release`) and marks paid (a transfer reference of 4–64 characters and the
  gateway whose clearing account paid it, one of `payouts.paying_accounts()`, the first
  by default; `payouts.pay`). Each is a guarded transition: of two finance admins acting
  at once one wins and the other is told it changed. Each writes an audit row and tells
  the shop's members.
- Services flush only; the caller commits (or rolls back on any error).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.core import audit
from app.core import settings as platform_settings
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, StaleState, ValidationError
from app.core.lifecycle import move
from app.core.money import InvalidAmount, apply_rate, format_yuan, yuan_to_fen
from app.extensions import db
from app.finance import ledger, payouts, policies
from app.finance.errors import FinanceError, InsufficientBalance
from app.finance.labels import gateway_label
from app.finance.models import MerchantWithdrawal
from app.finance.states import AccountKind
from app.finance.withdrawal_states import (
    MERCHANT_WITHDRAWAL_LIFECYCLE,
    MerchantWithdrawalMethod,
)
from app.merchants import policies as merchant_policies
from app.merchants.models import Merchant, MerchantMember
from app.merchants.states import MerchantStatus
from app.notifications import services as notifications

PREFIX = "merchant-withdrawal"
LINK = "/merchant/funds/withdrawals"
METHODS = tuple(MerchantWithdrawalMethod)


def minimum_fen() -> int:
    return int(platform_settings.get("merchant_withdrawal_min_fen"))


def fee_bp() -> int:
    return int(platform_settings.get("merchant_withdrawal_fee_bp"))


def fee_for(amount_fen: int) -> int:
    return apply_rate(amount_fen, fee_bp())


def parse_amount(raw) -> int:
    """The amount typed (yuan) in fen, or a ValidationError on the `amount` field."""
    try:
        amount = yuan_to_fen(raw or "")
    except InvalidAmount:
        amount = 0
    if amount <= 0:
        raise ValidationError(_("请输入正确的金额"), code=FinanceError.INVALID_AMOUNT,
                              fields={"amount": _("请输入正确的金额")})
    return amount


def _clean_account(method: str, data: dict) -> dict:
    """The payee's details, as the distributors' withdrawals check them
    (app/distribution/withdrawals.py `_clean_account`), with finance's error code."""
    errors: dict[str, str] = {}
    name = (data.get("account_name") or "").strip()
    account = (data.get("account_no") or "").strip()
    if not 2 <= len(name) <= 40:
        errors["account_name"] = _("请填写收款户名（与账户实名一致）")
    if not 4 <= len(account) <= 40:
        errors["account_no"] = _("请填写收款账号")
    result = {"name": name, "account": account}
    if method == MerchantWithdrawalMethod.BANK:
        bank = (data.get("bank_name") or "").strip()
        if not 2 <= len(bank) <= 40:
            errors["bank_name"] = _("请填写开户银行")
        if not account.isdigit() or not 12 <= len(account) <= 19:
            errors["account_no"] = _("请填写 12–19 位银行卡号")
        result["bank"] = bank
    if errors:
        raise ValidationError(_("请检查收款信息"), code=FinanceError.INVALID_ACCOUNT, fields=errors)
    return result


def _members(merchant_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant_id)
                                   .order_by(MerchantMember.id)))


def _tell_shop(merchant_id: int, title: str, body: str) -> None:
    for user_id in _members(merchant_id):
        notifications.notify(user_id, title, body, link=LINK, kind="merchant_finance")


def _short_of(available_fen: int) -> Conflict:
    message = _("可提现余额不足（可提现 %(yuan)s）", yuan=format_yuan(available_fen))
    return Conflict(message, code=FinanceError.INSUFFICIENT_BALANCE, fields={"amount": message})


def request(user, merchant_id: int, data: dict) -> MerchantWithdrawal:
    """The shop's owner asks to withdraw `data["amount"]` (yuan) to a bank account or Alipay."""
    member = merchant_policies.membership(user.id, merchant_id)
    if member is None:
        raise NotFound(_("店铺不存在"), code="merchant_not_found")
    if not policies.may_withdraw(member):
        raise Forbidden(_("只有店主可以申请提现"), code=FinanceError.NOT_ALLOWED_TO_WITHDRAW)
    merchant = db.session.get(Merchant, merchant_id)
    if merchant.status != MerchantStatus.ACTIVE:
        raise Conflict(_("店铺已暂停营业或已关闭，暂不能提现"), code=FinanceError.CANNOT_WITHDRAW)
    amount = parse_amount(data.get("amount"))
    minimum = minimum_fen()
    if amount < minimum:
        message = _("单次提现不能低于 %(min)s", min=format_yuan(minimum))
        raise ValidationError(message, code=FinanceError.BELOW_MINIMUM, fields={"amount": message})
    method = str(data.get("method") or "")
    if method not in METHODS:
        raise ValidationError(_("请选择提现方式"), code=FinanceError.INVALID_METHOD, fields={"method": _("请选择提现方式")})
    account = _clean_account(method, data)
    available = ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, merchant_id)
    if amount > available:  # the usual case, told before anything is written
        raise _short_of(available)
    withdrawal = MerchantWithdrawal(merchant_id=merchant_id, requested_by_id=user.id, amount_fen=amount,
                                    fee_fen=fee_for(amount), method=method, account=account)
    db.session.add(withdrawal)
    db.session.flush()
    try:
        # The race: another request may have taken the balance since it was read. The
        # hold's conditional UPDATE decides; the caller rolls the request back.
        payouts.hold(PREFIX, withdrawal.id, AccountKind.MERCHANT_AVAILABLE, merchant_id, amount)
    except InsufficientBalance:
        raise _short_of(ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, merchant_id)) from None
    _tell_shop(merchant_id, _("提现申请已提交"),
               _("提现 %(yuan)s（手续费 %(fee)s）已提交，平台审核后打款。", yuan=format_yuan(amount),
                 fee=format_yuan(withdrawal.fee_fen)))
    return withdrawal


def get(withdrawal_id) -> MerchantWithdrawal:
    row_id = to_int(withdrawal_id, 1)
    withdrawal = db.session.get(MerchantWithdrawal, row_id) if row_id is not None else None
    if withdrawal is None:
        raise NotFound(_("提现申请不存在"), code=FinanceError.WITHDRAWAL_NOT_FOUND)
    return withdrawal


def get_for_shop(merchant_id: int, withdrawal_id) -> MerchantWithdrawal:
    """The shop's own withdrawal; another shop's is NotFound, as if it did not exist."""
    withdrawal = get(withdrawal_id)
    if withdrawal.merchant_id != merchant_id:
        raise NotFound(_("提现申请不存在"), code=FinanceError.WITHDRAWAL_NOT_FOUND)
    return withdrawal


def _move(admin, withdrawal: MerchantWithdrawal, act_name: str, note: str | None = None,
          **values) -> MerchantWithdrawal:
    try:
        policies.require(withdrawal, admin, act_name)
        move(MERCHANT_WITHDRAWAL_LIFECYCLE, MerchantWithdrawal, withdrawal.id, act_name, actor_id=admin.id,
             note=note, values={"reviewed_by_id": admin.id, **values})
    except StaleState:
        raise Conflict(_("该提现申请状态已变化，请刷新"), code=FinanceError.STALE_WITHDRAWAL) from None
    return db.session.get(MerchantWithdrawal, withdrawal.id)


def _reviewer(admin) -> None:
    """Finance's acts are refused to anyone else before their input is even read."""
    if not policies.may_review(admin):
        raise Forbidden(_("没有权限执行此操作"))


def approve(admin, withdrawal_id) -> MerchantWithdrawal:
    withdrawal = _move(admin, get(withdrawal_id), "approve", reviewed_at=utcnow())
    audit.record(admin, "merchant_withdrawal.approve", withdrawal, {"status": ["requested", "approved"]})
    _tell_shop(withdrawal.merchant_id, _("提现申请已通过"),
               _("提现 %(yuan)s 已审核通过，将尽快打款。", yuan=format_yuan(withdrawal.amount_fen)))
    return withdrawal


def reject(admin, withdrawal_id, reason: str) -> MerchantWithdrawal:
    _reviewer(admin)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError(_("请填写驳回原因"), code=FinanceError.REASON_REQUIRED, fields={"reason": _("请填写驳回原因")})
    before = get(withdrawal_id)
    was = before.status
    withdrawal = _move(admin, before, "reject", reason, reviewed_at=utcnow(), reject_reason=reason)
    payouts.release(PREFIX, withdrawal.id, AccountKind.MERCHANT_AVAILABLE, withdrawal.merchant_id,
                    withdrawal.amount_fen, memo=reason)
    audit.record(admin, "merchant_withdrawal.reject", withdrawal, {"status": [was, "rejected"]}, note=reason)
    _tell_shop(withdrawal.merchant_id, _("提现申请被驳回"),
               _("提现 %(yuan)s 被驳回：%(reason)s。金额已退回可提现余额。", yuan=format_yuan(withdrawal.amount_fen),
                 reason=reason))
    return withdrawal


def mark_paid(admin, withdrawal_id, transfer_ref: str, paid_from: str | None = None) -> MerchantWithdrawal:
    _reviewer(admin)
    transfer_ref = (transfer_ref or "").strip()
    if not 4 <= len(transfer_ref) <= 64:
        raise ValidationError(_("请填写转账流水号（4–64 位）"), code=FinanceError.TRANSFER_REF_REQUIRED,
                              fields={"transfer_ref": _("请填写转账流水号（4–64 位）")})
    withdrawal = get(withdrawal_id)
    _reviewer(admin)
    gateway = payouts.choose_paying_account(paid_from)
    withdrawal = _move(admin, withdrawal, "mark_paid", transfer_ref, paid_at=utcnow(), transfer_ref=transfer_ref,
                       paid_from=gateway)
    try:
        payouts.pay(PREFIX, withdrawal.id, withdrawal.amount_fen, withdrawal.fee_fen, gateway, memo=transfer_ref)
    except InsufficientBalance:
        message = _("所选打款账户（%(gateway)s）余额不足以支付 %(net)s，请选择其他账户",
                    gateway=gateway_label(gateway), net=format_yuan(withdrawal.net_fen))
        raise Conflict(message, code=FinanceError.PAYING_ACCOUNT_SHORT, fields={"paid_from": message}) from None
    audit.record(admin, "merchant_withdrawal.paid", withdrawal,
                 {"status": ["approved", "paid"], "paid_from": [None, gateway]}, note=transfer_ref)
    _tell_shop(withdrawal.merchant_id, _("提现已到账"),
               _("提现 %(yuan)s 已打款（实际到账 %(net)s），流水号 %(ref)s。", yuan=format_yuan(withdrawal.amount_fen),
                 net=format_yuan(withdrawal.net_fen), ref=transfer_ref))
    return withdrawal
