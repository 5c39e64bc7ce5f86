"""Stock history and low-stock alerts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.extensions import db


class StockMovement(db.Model):
    """One change of a SKU's available stock. Append-only."""

    __tablename__ = "stock_movements"
    __table_args__ = (sa.Index("ix_stock_movements_sku", "sku_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id", ondelete="CASCADE"))
    delta: Mapped[int]
    stock_after: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(20))
    ref_type: Mapped[str | None] = mapped_column(sa.String(20))  # "order", "after_sale", ...
    ref_id: Mapped[str | None] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LowStockAlert(db.Model):
    """A SKU fell below its threshold; the merchant is told once per episode."""

    __tablename__ = "low_stock_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    stock: Mapped[int]
    threshold: Mapped[int]
    channels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # as chosen when it fired
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
