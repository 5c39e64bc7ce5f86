"""Order tables (DOMAIN.md, Orders and payments): cart, orders and their items,
the order timeline, shipments with tracking events, and reviews."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.core.models import StateChange
from app.extensions import db
from app.orders.states import STOCK_LIFECYCLE, OrderStatus, StockState


class CartItem(TimestampMixin, db.Model):
    __tablename__ = "cart_items"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "sku_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(default=1)
    selected: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sku = relationship("Sku")


class Order(TimestampMixin, db.Model):
    """One shop's part of a checkout. Amounts are snapshots taken at submit."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.Index("ix_orders_buyer_status", "buyer_id", "status", "created_at"),
        sa.Index("ix_orders_merchant_status", "merchant_id", "status", "created_at"),
        sa.Index("ix_orders_status_expires", "status", "pay_expires_at"),
        sa.CheckConstraint("amount_fen = items_fen + shipping_fen", name="amount_adds_up"),
        sa.CheckConstraint("items_fen >= 0 AND shipping_fen >= 0", name="amounts_non_negative"),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunded_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(sa.String(24), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=OrderStatus.PENDING_PAYMENT)
    # {"recipient", "phone", "region", "detail", "province", "city", "district"} as it was at submit
    address: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    items_fen: Mapped[int] = mapped_column(default=0)
    shipping_fen: Mapped[int] = mapped_column(default=0)
    amount_fen: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    # The buyer's promoter chain at order time, for distribution:
    # {"rules_version", "chain": [level-1, level-2, level-3 distributor id or None]} ({} when none).
    referral_snapshot: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    stock_mode: Mapped[str] = mapped_column(sa.String(12))  # the stock_deduction setting at submit
    stock_state: Mapped[str] = mapped_column(sa.String(12), default=StockState.NONE)
    pay_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(20))
    to_review: Mapped[bool] = mapped_column(default=False)  # received with items not yet reviewed
    # Money decided to go back to the buyer (after-sales and cancel-and-refund), whatever
    # the gateway has confirmed so far; never above what the order cost.
    refunded_fen: Mapped[int] = mapped_column(default=0)
    # Set at receipt: the last moment any of its items may be taken to after-sales (the
    # longest window of its items' categories). The order completes after it, once no
    # request is open.
    aftersale_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When finance moved what the order left the shop from pending to available (at
    # completion); a refund after it is taken from the shop's available money.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")
    merchant = relationship("Merchant")
    buyer = relationship("User")
    payment = relationship("Payment", back_populates="orders")
    shipment: Mapped[Shipment | None] = relationship(back_populates="order", uselist=False)

    # The timeline `app.core.lifecycle.move` writes for both of the order's lifecycles:
    # a status change is an OrderEvent (the timeline buyers, merchants and operators
    # see); a stock_state change is bookkeeping, kept as a StateChange row instead, so
    # it never shows on that timeline. The two sets of states do not overlap.
    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None):
        if to_state in STOCK_LIFECYCLE.states:
            return StateChange(entity=STOCK_LIFECYCLE.name, column=STOCK_LIFECYCLE.column, entity_id=row_id,
                               from_state=from_state, to_state=to_state, actor_id=actor_id, note=note)
        return OrderEvent(order_id=row_id, actor_id=actor_id, from_status=from_state, to_status=to_state, note=note)

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        """Timeline rows of both lifecycles (the lifecycle walk counts one per move)."""
        events = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                                   .where(OrderEvent.order_id == row_id))
        stock = db.session.scalar(sa.select(sa.func.count()).select_from(StateChange).where(
            StateChange.entity == STOCK_LIFECYCLE.name, StateChange.entity_id == row_id))
        return events + stock


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(sa.String(60))
    spec_text: Mapped[str] = mapped_column(sa.String(200), default="")
    image_key: Mapped[str | None] = mapped_column(sa.String(200))  # the thumbnail at order time
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    paid_fen: Mapped[int]  # this item's share of what the buyer paid (no discounts yet: price x quantity)
    refunded_quantity: Mapped[int] = mapped_column(default=0)
    # The platform's fee on this item (basis points) as it was when the order was placed:
    # the shop's own rate, else its category's (app/catalog/categories.platform_fee_bp).
    platform_fee_bp: Mapped[int] = mapped_column(default=0)
    reviewed: Mapped[bool] = mapped_column(default=False)
    # The after-sale request holding this item now (one at a time), set and cleared by
    # after-sales with guarded UPDATEs; NULL when none is open.
    open_aftersale_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("aftersales.id", use_alter=True, name="fk_order_items_open_aftersale_id_aftersales"))

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity

    order: Mapped[Order] = relationship(back_populates="items")


class OrderEvent(db.Model):
    """The order's timeline: every status change with who and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship("Order")


class Shipment(db.Model):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    tracking_no: Mapped[str] = mapped_column(sa.String(32))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    delivered: Mapped[bool] = mapped_column(default=False)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    poll_error: Mapped[str | None] = mapped_column(sa.String(200))

    order: Mapped[Order] = relationship(back_populates="shipment")
    events: Mapped[list[TrackingEvent]] = relationship(
        order_by="TrackingEvent.occurred_at.desc()", cascade="all, delete-orphan")


class TrackingEvent(db.Model):
    __tablename__ = "tracking_events"
    # A refresh re-reads the whole track: the same event twice is stored once.
    __table_args__ = (sa.UniqueConstraint("shipment_id", "occurred_at", "description"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(sa.String(100), default="")
    description: Mapped[str] = mapped_column(sa.String(300))
    source: Mapped[str] = mapped_column(sa.String(16))  # kuaidi100 | manual | system


class Review(TimestampMixin, db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_in_range"),
        sa.Index("ix_reviews_product_visible", "product_id", "visible", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_item_id: Mapped[int] = mapped_column(sa.ForeignKey("order_items.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    images: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)  # [{"key", "thumb_key"}]
    anonymous: Mapped[bool] = mapped_column(default=False)
    spec_text: Mapped[str] = mapped_column(sa.String(200), default="")
    reply: Mapped[str | None] = mapped_column(sa.String(500))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visible: Mapped[bool] = mapped_column(default=True)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(200))

    buyer = relationship("User")
