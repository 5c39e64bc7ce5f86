"""Payment tables (DOMAIN.md, Orders and payments): one Payment per checkout,
every gateway notification as received, and refunds."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db
from app.payments.states import PaymentStatus, RefundStatus


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("provider", "transaction_id"),
        # A double submit with the same key finds the first payment instead of making a second.
        sa.UniqueConstraint("buyer_id", "idempotency_key"),
        sa.Index("ix_payments_status_created", "status", "created_at"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        # The sum refunded on a payment can never exceed what it collected.
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunded_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int]
    provider: Mapped[str | None] = mapped_column(sa.String(16))  # chosen when the buyer pays
    status: Mapped[str] = mapped_column(sa.String(12), default=PaymentStatus.PENDING)
    transaction_id: Mapped[str | None] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its gateway confirmed closing the trade of a closed payment; NULL while
    # `sweep_gateway_closes` still has to ask (the close job was lost or failed).
    gateway_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_queried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What refunds of this collection add up to (a second, duplicate collection's
    # refund is that collection's money and does not count).
    refunded_fen: Mapped[int] = mapped_column(default=0)

    orders = relationship("Order", back_populates="payment", order_by="Order.id", viewonly=True)

    @property
    def awaits_payment(self) -> bool:
        """The buyer can still pay it (the sandbox page offers its buttons only then)."""
        return self.status == PaymentStatus.PENDING


class PaymentNotification(db.Model):
    """A gateway notification exactly as it arrived, with what we made of it."""

    __tablename__ = "payment_notifications"
    __table_args__ = (sa.Index("ix_payment_notifications_received", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    notify_id: Mapped[str | None] = mapped_column(sa.String(80))  # as the sender claims it
    # "provider:notify_id", set only on the delivery that changed something: a repeat
    # of it collides here and is answered as a duplicate. Rejected (forged) deliveries
    # leave it NULL, so they can never shadow the real one.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    out_trade_no: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    verified: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    detail: Mapped[str | None] = mapped_column(sa.String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Refund(TimestampMixin, db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        sa.Index("ix_refunds_status", "status", "created_at"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    aftersale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("aftersales.id"), index=True)
    # Reused on every retry, so the gateway never refunds twice.
    out_refund_no: Mapped[str] = mapped_column(sa.String(40), unique=True)
    provider: Mapped[str] = mapped_column(sa.String(16))  # the gateway that took the money
    out_trade_no: Mapped[str] = mapped_column(sa.String(32))  # the trade refunded at that gateway
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(12), default=RefundStatus.PENDING)
    provider_refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment = relationship("Payment")
