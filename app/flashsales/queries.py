"""Reads worth naming: what the shop shows (the running or next event of a product, the
home page's running events) and the back offices' lists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Product
from app.core.clock import as_utc, utcnow
from app.extensions import db
from app.flashsales.models import FlashSale, FlashSaleItem
from app.flashsales.states import FlashSaleStatus

UPCOMING_WITHIN = timedelta(days=3)  # an event starting later is not announced on the product page


@dataclass(frozen=True)
class ShopItem:
    """An item as a shopper sees it."""

    item: FlashSaleItem
    sale: FlashSale
    running: bool

    @property
    def countdown_to(self) -> datetime:
        return self.sale.ends_at if self.running else self.sale.starts_at


def for_product(product_id: int, now: datetime | None = None) -> list[ShopItem]:
    """The product's items in an event running now, else starting within UPCOMING_WITHIN
    (one query); running first, cheapest first."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(FlashSaleItem, FlashSale).join(FlashSale)
        .where(FlashSaleItem.product_id == product_id, FlashSale.status == FlashSaleStatus.SCHEDULED,
               FlashSale.ends_at > now, FlashSale.starts_at <= now + UPCOMING_WITHIN)
        .order_by(FlashSale.starts_at, FlashSaleItem.price_fen)).all()
    shown = [ShopItem(item, sale, sale.starts_at <= now) for item, sale in rows]
    running = [s for s in shown if s.running]
    return running or shown


def running(limit: int = 10, now: datetime | None = None) -> list[ShopItem]:
    """Items of events running now, for the home page's 限时秒杀 block (two queries)."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(FlashSaleItem, FlashSale).join(FlashSale)
        .join(Product, Product.id == FlashSaleItem.product_id)
        .where(FlashSale.status == FlashSaleStatus.SCHEDULED, FlashSale.starts_at <= now, FlashSale.ends_at > now)
        .options(selectinload(FlashSaleItem.product).selectinload(Product.images), selectinload(FlashSaleItem.sku))
        .order_by(FlashSale.ends_at, FlashSaleItem.id).limit(limit)).all()
    return [ShopItem(item, sale, True) for item, sale in rows]


def next_change(now: datetime | None = None) -> datetime | None:
    """When a scheduled event next starts or ends (one query): until then, which events
    are running is fixed by the clock (the storefront's cached 限时秒杀 blocks)."""
    now = now or utcnow()
    scheduled = FlashSale.status == FlashSaleStatus.SCHEDULED
    starts = sa.select(sa.func.min(FlashSale.starts_at)).where(scheduled, FlashSale.starts_at > now)
    ends = sa.select(sa.func.min(FlashSale.ends_at)).where(scheduled, FlashSale.ends_at > now)
    times = [t for t in db.session.execute(sa.select(starts.scalar_subquery(), ends.scalar_subquery())).one() if t]
    return as_utc(min(times)) if times else None


def list_stmt(merchant_id: int | None = None, status: str | None = None, platform_view: bool = False) -> sa.Select:
    """Events for a back office, newest first: a shop's own (merchant_id), or every
    event (platform_view) optionally by status."""
    stmt = sa.select(FlashSale).options(selectinload(FlashSale.items))
    if not platform_view:
        stmt = stmt.where(FlashSale.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(FlashSale.status == status)
    return stmt.order_by(FlashSale.id.desc())
