"""Flash-sale tables: the event, its items (one SKU each, with the event price and
stock), how many units each buyer holds per item, and which order took which units
(so a cancelled order gives its units back exactly once)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db
from app.flashsales.states import FlashSaleStatus


class FlashSale(TimestampMixin, db.Model):
    """A 秒杀 event: a platform event (merchant_id NULL) or a merchant's own, which the
    platform approves. Its status moves only through FLASH_SALE_LIFECYCLE."""

    __tablename__ = "flash_sales"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="window_valid"),
        sa.Index("ix_flash_sales_status_window", "status", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(40))
    merchant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=FlashSaleStatus.DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[FlashSaleItem]] = relationship(back_populates="flash_sale", order_by="FlashSaleItem.id",
                                                      cascade="all, delete-orphan")

    def running(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.status == FlashSaleStatus.SCHEDULED and self.starts_at <= now < self.ends_at

    def upcoming(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.status == FlashSaleStatus.SCHEDULED and now < self.starts_at


class FlashSaleItem(db.Model):
    """One SKU in an event. `stock_total` units are carved out of the SKU's stock when
    the event is scheduled (`held`), `stock_sold` counts the units orders hold (a
    cancelled unpaid order gives its units back), and when the event is over what is
    left goes back to the SKU once (`released_units` records how many)."""

    __tablename__ = "flash_sale_items"
    __table_args__ = (
        sa.UniqueConstraint("flash_sale_id", "sku_id"),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("stock_total > 0", name="stock_positive"),
        sa.CheckConstraint("stock_sold >= 0 AND stock_sold <= stock_total", name="sold_in_range"),
        sa.CheckConstraint("per_buyer_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flash_sale_id: Mapped[int] = mapped_column(sa.ForeignKey("flash_sales.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    price_fen: Mapped[int]
    stock_total: Mapped[int]
    stock_sold: Mapped[int] = mapped_column(default=0)
    per_buyer_limit: Mapped[int] = mapped_column(default=1)
    held: Mapped[bool] = mapped_column(default=False)  # its stock_total was taken from the SKU
    released_units: Mapped[int | None]  # set once, when what was left went back to the SKU

    flash_sale: Mapped[FlashSale] = relationship(back_populates="items")
    sku = relationship("Sku")
    product = relationship("Product")

    @property
    def remaining(self) -> int:
        return self.stock_total - self.stock_sold

    @property
    def sold_percent(self) -> int:
        return min(100, self.stock_sold * 100 // self.stock_total) if self.stock_total else 100


class FlashSaleBuyer(db.Model):
    """Units a buyer holds of an item (orders not cancelled): the per-buyer limit in SQL."""

    __tablename__ = "flash_sale_buyers"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "buyer_id"),
        sa.CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("flash_sale_items.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(default=0)


class FlashSaleOrder(db.Model):
    """The units an order took from an item; `returned_at` is set once, by the guarded
    UPDATE that gives them back when the unpaid order is cancelled."""

    __tablename__ = "flash_sale_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("flash_sale_items.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    quantity: Mapped[int]
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
