"""Distribution tables (DOMAIN.md, Distribution)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.distribution.states import CommissionStatus, DistributorStatus, WithdrawalStatus
from app.extensions import db


class DistributionRules(TimestampMixin, db.Model):
    """One version of the platform's distribution rules. Rows are never edited:
    a change adds a version, orders remember the version they were placed under."""

    __tablename__ = "distribution_rules"
    __table_args__ = (sa.CheckConstraint("levels BETWEEN 1 AND 3", name="levels_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)  # the version
    enabled: Mapped[bool] = mapped_column(default=False)
    levels: Mapped[int] = mapped_column(default=2)
    level1_bp: Mapped[int] = mapped_column(default=1000)
    level2_bp: Mapped[int] = mapped_column(default=500)
    level3_bp: Mapped[int] = mapped_column(default=0)
    qualification: Mapped[str] = mapped_column(sa.String(16))
    spend_threshold_fen: Mapped[int] = mapped_column(default=0)
    binding_mode: Mapped[str] = mapped_column(sa.String(16))
    binding_days: Mapped[int] = mapped_column(default=30)
    bind_new_users_only: Mapped[bool] = mapped_column(default=False)
    self_purchase: Mapped[bool] = mapped_column(default=False)
    settlement_delay_days: Mapped[int] = mapped_column(default=7)
    withdrawal_min_fen: Mapped[int] = mapped_column(default=1000)
    withdrawal_max_fen: Mapped[int] = mapped_column(default=2_000_000)
    withdrawal_fee_bp: Mapped[int] = mapped_column(default=0)
    withdrawal_methods: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))

    def rate_bp(self, level: int) -> int:
        return (self.level1_bp, self.level2_bp, self.level3_bp)[level - 1] if level <= self.levels else 0


class Distributor(TimestampMixin, db.Model):
    __tablename__ = "distributors"
    __table_args__ = (sa.Index("ix_distributors_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=DistributorStatus.PENDING)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("distributors.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    real_name: Mapped[str] = mapped_column(sa.String(40), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))  # rejection or freeze reason
    # What the reviewer judged on, frozen at application time (see distributors.review_facts).
    facts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped (and so row-locked) by every withdrawal request: requests for one
    # distributor queue here, so two can never both spend the same balance.
    withdrawal_seq: Mapped[int] = mapped_column(default=0)

    user = relationship("User")
    parent: Mapped[Distributor | None] = relationship(remote_side=[id])

    # What the distributor pages show follows from these (templates compare no status).
    @property
    def is_active(self) -> bool:
        return self.status == DistributorStatus.ACTIVE

    @property
    def in_review(self) -> bool:
        return self.status == DistributorStatus.PENDING

    @property
    def is_rejected(self) -> bool:
        return self.status == DistributorStatus.REJECTED

    @property
    def is_frozen(self) -> bool:
        return self.status == DistributorStatus.FROZEN

    # The lifecycle's timeline is the distributor's own event table (app.core.lifecycle.move).
    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None) -> DistributorEvent:
        return DistributorEvent(distributor_id=row_id, actor_id=actor_id, from_status=from_state, to_status=to_state,
                                note=note)

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(DistributorEvent.id))
                                 .where(DistributorEvent.distributor_id == row_id)) or 0


class DistributorEvent(db.Model):
    """The distributor's timeline: applied, approved, rejected, frozen, ..."""

    __tablename__ = "distributor_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(sa.ForeignKey("distributors.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str] = mapped_column(sa.String(12))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferralBinding(db.Model):
    """Who brought a buyer in. One current binding per buyer (older ones are kept, ended)."""

    __tablename__ = "referral_bindings"
    __table_args__ = (
        sa.Index("uq_referral_bindings_current", "buyer_id", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL"), sqlite_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_referral_bindings_distributor", "distributor_id", "bound_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(sa.ForeignKey("distributors.id"))
    source: Mapped[str] = mapped_column(sa.String(8))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # days mode only
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    distributor = relationship("Distributor")

    @classmethod
    def in_force(cls, now: datetime):
        """SQL: the binding is current and, in days mode, not expired. Who counts as a
        distributor's customer and whose parent a new distributor gets both ask this."""
        return sa.and_(cls.ended_at.is_(None), sa.or_(cls.expires_at.is_(None), cls.expires_at > now))


class Commission(TimestampMixin, db.Model):
    __tablename__ = "commissions"
    __table_args__ = (
        sa.UniqueConstraint("order_item_id", "level"),
        sa.Index("ix_commissions_distributor_status", "distributor_id", "status", "created_at"),
        sa.Index("ix_commissions_status_settle", "status", "settle_after"),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="level_in_range"),
        sa.CheckConstraint("amount_fen >= 0 AND void_fen >= 0 AND void_fen <= amount_fen", name="amounts_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(sa.ForeignKey("order_items.id"))
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    level: Mapped[int]
    distributor_id: Mapped[int] = mapped_column(sa.ForeignKey("distributors.id"))
    rules_version: Mapped[int] = mapped_column(sa.ForeignKey("distribution_rules.id"))
    base_fen: Mapped[int]  # the item's paid amount, shipping excluded
    rate_bp: Mapped[int]
    amount_fen: Mapped[int]  # as computed; never edited
    void_fen: Mapped[int] = mapped_column(default=0)  # taken back by refunds (part or all)
    status: Mapped[str] = mapped_column(sa.String(10), default=CommissionStatus.PENDING)
    settle_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when the order is received
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @hybrid_property
    def payable_fen(self) -> int:
        """What the commission is worth now: as computed less what refunds took back
        (also usable in SQL: `sa.func.sum(Commission.payable_fen)`)."""
        return self.amount_fen - self.void_fen


class DistributorLedgerEntry(db.Model):
    """Append-only: every commission and every change to it or to a withdrawal."""

    __tablename__ = "distribution_ledger"
    __table_args__ = (sa.Index("ix_distribution_ledger_distributor", "distributor_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(sa.ForeignKey("distributors.id"))
    kind: Mapped[str] = mapped_column(sa.String(24))
    amount_fen: Mapped[int]
    commission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("commissions.id"))
    withdrawal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("withdrawals.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Withdrawal(TimestampMixin, db.Model):
    __tablename__ = "withdrawals"
    __table_args__ = (
        sa.Index("ix_withdrawals_status", "status", "created_at"),
        sa.CheckConstraint("amount_fen > 0 AND fee_fen >= 0 AND fee_fen <= amount_fen", name="amounts_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(sa.ForeignKey("distributors.id"), index=True)
    amount_fen: Mapped[int]  # taken from the balance
    fee_fen: Mapped[int]  # kept by the platform; the transfer is amount - fee
    method: Mapped[str] = mapped_column(sa.String(8))
    account: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"name", "account", "bank"?}
    status: Mapped[str] = mapped_column(sa.String(10), default=WithdrawalStatus.REQUESTED)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transfer_ref: Mapped[str | None] = mapped_column(sa.String(64))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))

    distributor = relationship("Distributor")

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.fee_fen
