"""Reads of a shop's money (its 资金 page, the balance API, the statement export).

Guarantees:
- `balances(shop)` is what the shop's accounts show (`ledger`'s reading: what the
  platform owes it, what it owes) and what it has been paid out, in two queries whatever
  the shop's history: pending (待结算), available (可提现), debts (欠款, 0 when none),
  withdrawn (已提现: the amounts of its paid withdrawals) and in progress (asked for, not
  yet paid or rejected).
- `statement(shop, start, end)` is every ledger line on the shop's three accounts whose
  transaction took effect in [start, end), newest first, each with its order number when
  the transaction belongs to an order, signed as the shop sees it (money to the shop is
  +). Only the shop's own accounts are ever read: the shop is part of the query.
- `settlement_fees(ids)` is the platform's fee in each settlement transaction named (one
  query for a page or a chunk of the export).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.finance.ledger import code_of
from app.finance.models import LedgerAccount, LedgerEntry, LedgerTransaction, MerchantWithdrawal
from app.finance.states import NORMAL_DEBIT, AccountKind, TransactionKind
from app.finance.withdrawal_states import IN_PROGRESS, MerchantWithdrawalStatus
from app.orders.models import Order

SHOP_ACCOUNTS = (AccountKind.MERCHANT_PENDING, AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_DEBTS)


@dataclass(frozen=True)
class Balances:
    pending_fen: int
    available_fen: int
    debts_fen: int
    withdrawn_fen: int
    in_progress_fen: int


def balances(merchant_id: int) -> Balances:
    codes = {code_of(kind, merchant_id): kind for kind in SHOP_ACCOUNTS}
    shown = {kind: 0 for kind in SHOP_ACCOUNTS}
    for code, kind, balance in db.session.execute(
            sa.select(LedgerAccount.code, LedgerAccount.kind, LedgerAccount.balance_fen)
            .where(LedgerAccount.code.in_(codes))).all():
        shown[codes[code]] = balance if kind in NORMAL_DEBIT else -balance
    paid, in_progress = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(MerchantWithdrawal.amount_fen).filter(
            MerchantWithdrawal.status == MerchantWithdrawalStatus.PAID), 0),
        sa.func.coalesce(sa.func.sum(MerchantWithdrawal.amount_fen).filter(
            MerchantWithdrawal.status.in_(IN_PROGRESS)), 0),
    ).where(MerchantWithdrawal.merchant_id == merchant_id)).one()
    return Balances(pending_fen=shown[AccountKind.MERCHANT_PENDING],
                    available_fen=shown[AccountKind.MERCHANT_AVAILABLE],
                    debts_fen=shown[AccountKind.MERCHANT_DEBTS], withdrawn_fen=int(paid),
                    in_progress_fen=int(in_progress))


def statement(merchant_id: int, start: datetime, end: datetime) -> sa.Select:
    """Rows of (entry id, effective_at, transaction id, kind, account kind, signed fen for
    the shop, order id, order number, memo), newest first."""
    return (sa.select(LedgerEntry.id.label("entry_id"), LedgerTransaction.effective_at,
                      LedgerTransaction.id.label("transaction_id"), LedgerTransaction.kind,
                      LedgerAccount.kind.label("account_kind"), (-LedgerEntry.amount_fen).label("amount_fen"),
                      LedgerTransaction.order_id, Order.order_no, LedgerTransaction.memo)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .outerjoin(Order, Order.id == LedgerTransaction.order_id)
            .where(LedgerAccount.code.in_([code_of(kind, merchant_id) for kind in SHOP_ACCOUNTS]),
                   LedgerTransaction.effective_at >= start, LedgerTransaction.effective_at < end)
            .order_by(LedgerTransaction.effective_at.desc(), LedgerEntry.id.desc()))


def settlement_fees(transaction_ids: Iterable[int]) -> dict[int, int]:
    """{settlement transaction id: the platform's fee in it} for those that took one."""
    ids = sorted(set(transaction_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(LedgerEntry.transaction_id, -sa.func.sum(LedgerEntry.amount_fen))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.transaction_id.in_(ids), LedgerAccount.kind == AccountKind.PLATFORM_FEES,
               LedgerTransaction.kind == TransactionKind.MERCHANT_SETTLEMENT)
        .group_by(LedgerEntry.transaction_id)).all()
    return {tid: int(fee) for tid, fee in rows if fee}
