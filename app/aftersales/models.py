"""After-sale tables (DOMAIN.md, After-sales): the request with its lines (which items,
how many), its timeline, and the dispute the platform rules on."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.aftersales.states import AfterSaleStatus
from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db


class AfterSale(TimestampMixin, db.Model):
    """One buyer's request about items of one order: money back, goods back, or a swap."""

    __tablename__ = "aftersales"
    __table_args__ = (
        sa.Index("ix_aftersales_merchant_status", "merchant_id", "status", "created_at"),
        sa.Index("ix_aftersales_buyer", "buyer_id", "created_at"),
        sa.Index("ix_aftersales_status_due", "status", "due_at"),
        sa.CheckConstraint("refund_fen >= 0 AND shipping_refund_fen >= 0 AND shipping_refund_fen <= refund_fen",
                           name="refund_amounts_valid"),
        sa.CheckConstraint("reapplied BETWEEN 0 AND 3", name="reapplied_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    aftersale_no: Mapped[str] = mapped_column(sa.String(24), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(20), default=AfterSaleStatus.PENDING)
    reason: Mapped[str] = mapped_column(sa.String(20))
    reason_text: Mapped[str] = mapped_column(sa.String(100), default="")
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    images: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)  # [{"key", "thumb_key"}]
    # What goes back to the buyer if it is refunded: the lines' shares, plus the order's
    # shipping when the whole order goes back before it was shipped.
    refund_fen: Mapped[int] = mapped_column(default=0)
    shipping_refund_fen: Mapped[int] = mapped_column(default=0)
    before_shipping: Mapped[bool] = mapped_column(default=False)  # asked while the order was paid, unshipped
    reapplied: Mapped[int] = mapped_column(default=0)
    # When the current step's party must have acted (see deadlines.py); NULL: nobody is waited for.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # {"recipient", "phone", "address"} as chosen when approved
    return_address: Mapped[dict | None] = mapped_column(sa.JSON)
    return_carrier: Mapped[str | None] = mapped_column(sa.String(32))
    return_tracking_no: Mapped[str | None] = mapped_column(sa.String(32))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the carrier's track of the return parcel said delivered (the shop's 10 days run from then).
    return_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restocked: Mapped[bool | None] = mapped_column()
    replacement_carrier: Mapped[str | None] = mapped_column(sa.String(32))
    replacement_tracking_no: Mapped[str | None] = mapped_column(sa.String(32))
    replacement_shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[AfterSaleLine]] = relationship(back_populates="aftersale", order_by="AfterSaleLine.id",
                                                      cascade="all, delete-orphan")
    order = relationship("Order")
    buyer = relationship("User")
    merchant = relationship("Merchant")
    dispute: Mapped[Dispute | None] = relationship(back_populates="aftersale", uselist=False)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    # The lifecycle's timeline is the request's own event table (app.core.lifecycle.move).
    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None) -> AfterSaleEvent:
        return AfterSaleEvent(aftersale_id=row_id, actor_id=actor_id, from_status=from_state, to_status=to_state,
                              note=note)

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(AfterSaleEvent.id))
                                 .where(AfterSaleEvent.aftersale_id == row_id)) or 0


class AfterSaleLine(db.Model):
    """One item of the order and how many of it the request is about."""

    __tablename__ = "aftersale_lines"
    __table_args__ = (
        sa.UniqueConstraint("aftersale_id", "order_item_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("refund_fen >= 0", name="refund_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    aftersale_id: Mapped[int] = mapped_column(sa.ForeignKey("aftersales.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(sa.ForeignKey("order_items.id"), index=True)
    quantity: Mapped[int]
    refund_fen: Mapped[int] = mapped_column(default=0)  # the item's paid amount pro rata, at application

    aftersale: Mapped[AfterSale] = relationship(back_populates="lines")
    item = relationship("OrderItem")


class AfterSaleEvent(db.Model):
    """The request's timeline: every status change, with who (NULL: the system) and a note.
    Steps that change no status (the merchant receives an exchange parcel) are rows too,
    with from_status == to_status."""

    __tablename__ = "aftersale_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    aftersale_id: Mapped[int] = mapped_column(sa.ForeignKey("aftersales.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dispute(TimestampMixin, db.Model):
    """平台介入: both sides' statements and evidence, a message thread, and the ruling."""

    __tablename__ = "disputes"
    __table_args__ = (sa.Index("ix_disputes_open", "ruled_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    aftersale_id: Mapped[int] = mapped_column(sa.ForeignKey("aftersales.id", ondelete="CASCADE"), unique=True)
    buyer_statement: Mapped[str] = mapped_column(sa.String(1000), default="")
    buyer_evidence: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    merchant_statement: Mapped[str | None] = mapped_column(sa.String(1000))
    merchant_evidence: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    ruling: Mapped[str | None] = mapped_column(sa.String(16))
    ruling_note: Mapped[str | None] = mapped_column(sa.String(500))
    ruled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ruled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    aftersale: Mapped[AfterSale] = relationship(back_populates="dispute")
    messages: Mapped[list[DisputeMessage]] = relationship(order_by="DisputeMessage.id", cascade="all, delete-orphan")


class DisputeMessage(db.Model):
    __tablename__ = "dispute_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(sa.ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(sa.String(10))
    body: Mapped[str] = mapped_column(sa.String(500))
    images: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
