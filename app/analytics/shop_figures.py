"""The merchant dashboard's figures for one shop: what is on sale, what was paid
today and yesterday, and what waits for the shop (orders to ship, low stock,
reviews to answer). One SELECT of scalar subqueries, whatever the shop's size.

Days are Asia/Shanghai days. "Paid today" counts the orders whose payment arrived
today (`paid_at`), whatever they became afterwards, with what the buyer paid for
them (goods and shipping). "Reviews to answer" are the shop's reviews without a
reply, as the 未回复 filter of 评价管理 counts them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.catalog.states import ProductStatus
from app.core.clock import SHANGHAI, utcnow
from app.extensions import db
from app.orders.models import Order, Review
from app.orders.states import OrderStatus


@dataclass(frozen=True)
class ShopFigures:
    on_sale: int
    paid_orders_today: int
    paid_fen_today: int
    paid_orders_yesterday: int
    paid_fen_yesterday: int
    to_ship: int
    low_stock_skus: int
    unreplied_reviews: int


def start_of_day(now: datetime | None = None, days_ago: int = 0) -> datetime:
    """Midnight in Shanghai, `days_ago` days before the day of `now`."""
    local = (now or utcnow()).astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def for_merchant(merchant_id: int, now: datetime | None = None) -> ShopFigures:
    today, yesterday = start_of_day(now), start_of_day(now, 1)
    tomorrow = start_of_day(now, -1)

    def count(column, *where):
        return sa.select(sa.func.count(column)).where(*where).scalar_subquery()

    def paid_between(start, end):
        scope = (Order.merchant_id == merchant_id, Order.paid_at >= start, Order.paid_at < end)
        return (count(Order.id, *scope),
                sa.select(sa.func.coalesce(sa.func.sum(Order.amount_fen), 0)).where(*scope).scalar_subquery())

    row = db.session.execute(sa.select(
        count(Product.id, Product.merchant_id == merchant_id, Product.status == ProductStatus.ON_SALE),
        *paid_between(today, tomorrow),
        *paid_between(yesterday, today),
        count(Order.id, Order.merchant_id == merchant_id, Order.status == OrderStatus.PAID),
        # The same SKUs as the inventory page's 库存预警 filter.
        sa.select(sa.func.count(Sku.id)).join(Product, Product.id == Sku.product_id)
        .where(Product.merchant_id == merchant_id, Sku.active.is_(True), Sku.stock < Sku.low_stock_threshold)
        .scalar_subquery(),
        count(Review.id, Review.merchant_id == merchant_id, Review.reply.is_(None)),
    )).one()
    return ShopFigures(*(int(value or 0) for value in row))
