"""Stock reads worth naming: a SKU's movements and the low-stock alerts."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.clock import utcnow
from app.extensions import db
from app.inventory.models import LowStockAlert, StockMovement


def history(sku_id: int, limit: int = 50) -> list[StockMovement]:
    """A SKU's stock movements, newest first."""
    return list(db.session.scalars(sa.select(StockMovement).where(StockMovement.sku_id == sku_id)
                                   .order_by(StockMovement.id.desc()).limit(limit)))


def alerts_for(merchant_id: int, limit: int = 50) -> list[LowStockAlert]:
    """A shop's low-stock alerts, newest first."""
    return list(db.session.scalars(sa.select(LowStockAlert).where(LowStockAlert.merchant_id == merchant_id)
                                   .order_by(LowStockAlert.id.desc()).limit(limit)))


def unnotified_alert_ids(older_than_seconds: int = 60, limit: int = 200) -> list[int]:
    """Alerts still not notified `older_than_seconds` after they fired (their job was
    lost), from the last day only: older ones report stock that is history by then."""
    now = utcnow()
    return list(db.session.scalars(
        sa.select(LowStockAlert.id).where(LowStockAlert.notified_at.is_(None),
                                          LowStockAlert.created_at <= now - timedelta(seconds=older_than_seconds),
                                          LowStockAlert.created_at > now - timedelta(days=1))
        .order_by(LowStockAlert.id).limit(limit)))
