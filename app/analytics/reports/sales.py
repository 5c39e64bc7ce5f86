"""Reports read from the sales rollups (app/analytics/rollups.py), so they agree with the
dashboards to the fen: 商品销售 (per product), 每日销售 (per day) and, for the platform,
店铺排行 (per shop, with its share of the platform's GMV).

Each counts paid orders on the Shanghai day their money arrived and refunds on the day
the gateway confirmed them, as the rollups do."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.analytics.models import ProductDay, SalesDay
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
)
from app.catalog.models import Product
from app.core.money import prorate
from app.extensions import db
from app.merchants.models import Merchant

BOTH = frozenset({Scope.PLATFORM, Scope.SHOP})


def _average(total_fen: int, count: int) -> int | None:
    """total / count, half up; None (an empty cell) when nothing was sold."""
    return prorate(total_fen, 1, count) if count else None


# --- 商品销售 ----------------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    Column(_l("商品ID"), Kind.INT, 10),
    Column(_l("商品名称"), width=36),
    Column(_l("店铺"), width=20),
    Column(_l("销量（件）"), Kind.INT, 12),
    Column(_l("销售额（元）"), Kind.MONEY, 14),
    Column(_l("平均成交价（元）"), Kind.MONEY, 16),
)


def _in_range(window: Window):
    return (ProductDay.day.between(window.first, window.last), window.shop(ProductDay.merchant_id))


def count_products(window: Window) -> int:
    return count_of(sa.select(ProductDay.product_id).where(*_in_range(window)).distinct())


def product_chunks(window: Window, size: int) -> Rows:
    # Pages by product id: each page reads only its products' rows (the primary key is
    # product, day), however long the range; sort by sales in the spreadsheet.
    stmt = (sa.select(ProductDay.product_id, Product.title, Merchant.name.label("shop"),
                      sa.func.sum(ProductDay.units).label("units"),
                      sa.func.sum(ProductDay.revenue_fen).label("revenue_fen"))
            .join(Product, Product.id == ProductDay.product_id).join(Merchant, Merchant.id == ProductDay.merchant_id)
            .where(*_in_range(window)).group_by(ProductDay.product_id, Product.title, Merchant.name))
    for page in by_key(stmt, ProductDay.product_id, lambda row: row.product_id, size):
        yield [(row.product_id, row.title, row.shop, int(row.units), int(row.revenue_fen),
                _average(int(row.revenue_fen), int(row.units))) for row in page]


register(ReportType("products", _l("商品销售"), _l("每个商品一行：时间范围内付款的销量、销售额、平均成交价"),
                    PRODUCT_COLUMNS, BOTH, count_products, product_chunks))


# --- 每日销售 ----------------------------------------------------------------------------------

DAILY_COLUMNS = (
    Column(_l("日期"), Kind.DATE, 12),
    Column(_l("付款订单"), Kind.INT, 10),
    Column(_l("销售件数"), Kind.INT, 10),
    Column(_l("成交金额（元）"), Kind.MONEY, 16),
    Column(_l("退款金额（元）"), Kind.MONEY, 14),
    Column(_l("净销售额（元）"), Kind.MONEY, 16),
    Column(_l("客单价（元）"), Kind.MONEY, 14),
)


def count_days(window: Window) -> int:
    return (window.last - window.first).days + 1


def daily_chunks(window: Window, size: int) -> Rows:
    """Every day of the range, days without sales too (a continuous series)."""
    first = window.first
    while first <= window.last:
        last = min(window.last, first + timedelta(days=size - 1))
        sums = {row.day: row for row in db.session.execute(
            sa.select(SalesDay.day, sa.func.sum(SalesDay.paid_orders).label("paid_orders"),
                      sa.func.sum(SalesDay.units).label("units"), sa.func.sum(SalesDay.gmv_fen).label("gmv_fen"),
                      sa.func.sum(SalesDay.refund_fen).label("refund_fen"))
            .where(SalesDay.day.between(first, last), window.shop(SalesDay.merchant_id)).group_by(SalesDay.day))}
        rows = []
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            row = sums.get(day)
            orders, units, gmv, refunds = ((int(row.paid_orders), int(row.units), int(row.gmv_fen),
                                            int(row.refund_fen)) if row else (0, 0, 0, 0))
            rows.append((day, orders, units, gmv, refunds, gmv - refunds, _average(gmv, orders)))
        yield rows
        first = last + timedelta(days=1)


register(ReportType("daily", _l("每日销售"), _l("每天一行：付款订单、件数、成交金额、退款、净销售额、客单价"),
                    DAILY_COLUMNS, BOTH, count_days, daily_chunks))


# --- 店铺排行 (the platform's) -----------------------------------------------------------------

SHOP_COLUMNS = (
    Column(_l("排名"), Kind.INT, 8),
    Column(_l("店铺ID"), Kind.INT, 10),
    Column(_l("店铺名称"), width=24),
    Column(_l("付款订单"), Kind.INT, 10),
    Column(_l("销售件数"), Kind.INT, 10),
    Column(_l("成交金额（元）"), Kind.MONEY, 16),
    Column(_l("退款金额（元）"), Kind.MONEY, 14),
    Column(_l("成交金额占比"), Kind.PERCENT, 14),
)


def _shops_in_range(window: Window):
    # A platform-only type; the shop condition is there all the same, should a shop's job ever name it.
    return sa.and_(SalesDay.day.between(window.first, window.last), window.shop(SalesDay.merchant_id))


def count_shops(window: Window) -> int:
    return count_of(sa.select(SalesDay.merchant_id).where(_shops_in_range(window)).distinct())


def shop_chunks(window: Window, size: int) -> Rows:
    """Shops by GMV, most first (ties by shop id). Each page re-groups the range's rows and
    continues after the last (GMV, id) seen: shops are few next to orders."""
    in_range = _shops_in_range(window)
    total = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(SalesDay.gmv_fen), 0)).where(in_range)) or 0)
    gmv = sa.func.sum(SalesDay.gmv_fen)
    stmt = (sa.select(SalesDay.merchant_id, Merchant.name, sa.func.sum(SalesDay.paid_orders).label("paid_orders"),
                      sa.func.sum(SalesDay.units).label("units"), gmv.label("gmv_fen"),
                      sa.func.sum(SalesDay.refund_fen).label("refund_fen"))
            .join(Merchant, Merchant.id == SalesDay.merchant_id).where(in_range)
            .group_by(SalesDay.merchant_id, Merchant.name).order_by(gmv.desc(), SalesDay.merchant_id))
    rank, last = 0, None
    while True:
        page_stmt = stmt if last is None else stmt.having(
            sa.or_(gmv < last[0], sa.and_(gmv == last[0], SalesDay.merchant_id > last[1])))
        page = db.session.execute(page_stmt.limit(size)).all()
        if not page:
            return
        rows = []
        for row in page:
            rank += 1
            rows.append((rank, row.merchant_id, row.name, int(row.paid_orders), int(row.units), int(row.gmv_fen),
                         int(row.refund_fen), int(row.gmv_fen) / total if total else 0.0))
        yield rows
        if len(page) < size:
            return
        last = (int(page[-1].gmv_fen), page[-1].merchant_id)


register(ReportType("shops", _l("店铺排行"), _l("每个店铺一行，按成交金额排名：订单、件数、成交金额、退款、占比"),
                    SHOP_COLUMNS, frozenset({Scope.PLATFORM}), count_shops, shop_chunks))
