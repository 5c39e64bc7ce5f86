"""订单明细: one row per order placed in the range (by the time it was placed, Shanghai
days), any status, with its money in yuan and its buyer masked."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.analytics.reports.people import person
from app.analytics.reports.registry import (
    Column,
    Kind,
    ReportType,
    Rows,
    Scope,
    Window,
    by_key,
    count_of,
    register,
    wall_clock,
)
from app.core.labels import labels_for
from app.merchants.models import Merchant
from app.orders import labels as _order_labels  # noqa: F401  (declares the "order" labels)
from app.orders.models import Order, OrderItem

COLUMNS = (
    Column(_l("订单号"), width=22),
    Column(_l("下单时间"), Kind.DATETIME, 20),
    Column(_l("付款时间"), Kind.DATETIME, 20),
    Column(_l("店铺"), width=20),
    Column(_l("买家"), width=10),
    Column(_l("买家手机"), width=14),
    Column(_l("订单状态"), width=10),
    Column(_l("商品件数"), Kind.INT, 10),
    Column(_l("商品总额（元）"), Kind.MONEY, 14),
    Column(_l("运费（元）"), Kind.MONEY, 12),
    Column(_l("优惠（元）"), Kind.MONEY, 12),
    Column(_l("实付金额（元）"), Kind.MONEY, 14),
    Column(_l("退款金额（元）"), Kind.MONEY, 14),
    Column(_l("收货省份"), width=12),
)


def _placed(window: Window) -> sa.Select:
    return sa.select(Order.id).where(Order.created_at >= window.start, Order.created_at < window.end,
                                     window.shop(Order.merchant_id))


def count(window: Window) -> int:
    return count_of(_placed(window))


def chunks(window: Window, size: int) -> Rows:
    # The items' sums are correlated subqueries (one index lookup per order on
    # order_items.order_id), so a page of orders is one statement with its shop and buyer joined.
    units = (sa.select(sa.func.coalesce(sa.func.sum(OrderItem.quantity), 0))
             .where(OrderItem.order_id == Order.id).scalar_subquery())
    listed = (sa.select(sa.func.coalesce(sa.func.sum(OrderItem.unit_price_fen * OrderItem.quantity), 0))
              .where(OrderItem.order_id == Order.id).scalar_subquery())
    stmt = (sa.select(Order.id, Order.order_no, Order.created_at, Order.paid_at, Merchant.name.label("shop"),
                      User.nickname, User.phone, User.status.label("buyer_status"), Order.status,
                      units.label("units"), listed.label("listed_fen"), Order.items_fen, Order.shipping_fen,
                      Order.amount_fen, Order.refunded_fen, Order.address["province"].as_string().label("province"))
            .join(Merchant, Merchant.id == Order.merchant_id).join(User, User.id == Order.buyer_id)
            .where(Order.created_at >= window.start, Order.created_at < window.end, window.shop(Order.merchant_id)))
    words = labels_for("order")
    for page in by_key(stmt, Order.id, lambda row: row.id, size):
        yield [_row(row, words) for row in page]


def _row(row, words) -> tuple:
    buyer, phone = person(row.nickname, row.phone, row.buyer_status)
    listed = int(row.listed_fen)
    return (row.order_no, wall_clock(row.created_at), wall_clock(row.paid_at), row.shop, buyer, phone,
            words.label(row.status), int(row.units), listed, row.shipping_fen,
            max(0, listed - row.items_fen),  # what the shop took off the listed prices (none today)
            row.amount_fen if row.paid_at is not None else 0,  # an order never paid was paid nothing
            row.refunded_fen, row.province or "")


register(ReportType("orders", _l("订单明细"), _l("每笔订单一行：下单与付款时间、状态、件数、金额、退款、收货省份"),
                    COLUMNS, frozenset({Scope.PLATFORM, Scope.SHOP}), count, chunks))
