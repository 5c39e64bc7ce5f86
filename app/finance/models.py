"""The platform's books: an append-only double-entry ledger (DOMAIN.md, Finance).

A `LedgerTransaction` is one money event (a payment collected, a refund, a settlement...)
with an idempotency key; its `LedgerEntry` rows move signed fen between `LedgerAccount`s
and sum to zero. Debits are positive, credits negative. An account's `balance_fen` is the
sum of its entries (kept by `app/finance/ledger.py` under the account's row lock); what it
shows people is that sum turned by its normal side (`LedgerAccount.shown_fen`).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db
from app.finance.states import NORMAL_DEBIT
from app.finance.withdrawal_states import MerchantWithdrawalStatus


class LedgerAccount(db.Model):
    """One account: a kind (`AccountKind`), and whose it is (a shop, a distributor) or which
    gateway (`provider`) where the kind says so. `code` names it uniquely
    (`merchant_pending:12`, `clearing:wechat`, `platform_fees`)."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    owner_id: Mapped[int | None] = mapped_column()  # the shop or distributor, by kind
    provider: Mapped[str | None] = mapped_column(sa.String(20))
    balance_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # sum of the entries (debit +)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def shown_fen(self) -> int:
        """The balance as people read it: what a debit-normal account holds, what a
        credit-normal one owes or has earned."""
        return self.balance_fen if self.kind in NORMAL_DEBIT else -self.balance_fen


class LedgerTransaction(db.Model):
    """One money event. `idempotency_key` makes posting it twice post it once; `source`
    and `source_id` name the business row it belongs to (`order`, 42)."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (sa.Index("ix_ledger_transactions_source", "source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    source: Mapped[str | None] = mapped_column(sa.String(30))
    source_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The order the money belongs to, when one does: what a shop's order still holds in
    # pending is the sum of its transactions' lines there (settlement reads it), and the
    # shop's statement shows the order's number.
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    memo: Mapped[str | None] = mapped_column(sa.String(200))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(db.Model):
    """One line: `amount_fen` into (debit, +) or out of (credit, -) an account."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.CheckConstraint("amount_fen <> 0", name="not_zero"),
        sa.Index("ix_ledger_entries_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()


class MerchantWithdrawal(TimestampMixin, db.Model):
    """A shop's request to be paid (part of) its available money
    (app/finance/merchant_withdrawals.py). The amount leaves the shop's available account
    when asked for; the transfer is `amount_fen - fee_fen`."""

    __tablename__ = "merchant_withdrawals"
    __table_args__ = (
        sa.Index("ix_merchant_withdrawals_status", "status", "created_at"),
        sa.CheckConstraint("amount_fen > 0 AND fee_fen >= 0 AND fee_fen <= amount_fen", name="amounts_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    amount_fen: Mapped[int]  # taken from the shop's available balance
    fee_fen: Mapped[int]  # kept by the platform
    method: Mapped[str] = mapped_column(sa.String(8))
    account: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"name", "account", "bank"?}
    status: Mapped[str] = mapped_column(sa.String(10), default=MerchantWithdrawalStatus.REQUESTED)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_from: Mapped[str | None] = mapped_column(sa.String(20))  # the gateway whose clearing account paid it
    transfer_ref: Mapped[str | None] = mapped_column(sa.String(64))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))

    merchant = relationship("Merchant")

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.fee_fen
