"""佣金明细 (the platform's): one row per commission made in the range (by the time it
was made, at payment; Shanghai days), with its distributor masked."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.analytics.reports.people import masked_name, masked_phone
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
from app.core.money import BP_PER_UNIT
from app.distribution.labels import LEVEL_LABELS
from app.distribution.models import Commission, Distributor
from app.merchants.models import Merchant
from app.orders.models import Order, OrderItem

COLUMNS = (
    Column(_l("订单号"), width=22),
    Column(_l("店铺"), width=20),
    Column(_l("商品"), width=30),
    Column(_l("层级"), width=8),
    Column(_l("推广码"), width=12),
    Column(_l("分销商"), width=10),
    Column(_l("分销商手机"), width=14),
    Column(_l("计佣金额（元）"), Kind.MONEY, 14),
    Column(_l("佣金比例"), Kind.PERCENT, 10),
    Column(_l("佣金（元）"), Kind.MONEY, 12),
    Column(_l("已扣回（元）"), Kind.MONEY, 12),
    Column(_l("状态"), width=10),
    Column(_l("产生时间"), Kind.DATETIME, 20),
    Column(_l("结算时间"), Kind.DATETIME, 20),
)


def _where(window: Window):
    # A platform-only type; the shop condition is there all the same, should a shop's job ever name it.
    return (Commission.created_at >= window.start, Commission.created_at < window.end,
            window.shop(Order.merchant_id))


def count(window: Window) -> int:
    return count_of(sa.select(Commission.id).join(Order, Order.id == Commission.order_id).where(*_where(window)))


def chunks(window: Window, size: int) -> Rows:
    stmt = (sa.select(Commission.id, Order.order_no, Merchant.name.label("shop"), OrderItem.title, Commission.level,
                      Distributor.code, Distributor.real_name, Distributor.phone.label("own_phone"), User.nickname,
                      User.phone, Commission.base_fen, Commission.rate_bp, Commission.amount_fen, Commission.void_fen,
                      Commission.status, Commission.created_at, Commission.settled_at)
            .join(Order, Order.id == Commission.order_id).join(Merchant, Merchant.id == Order.merchant_id)
            .join(OrderItem, OrderItem.id == Commission.order_item_id)
            .join(Distributor, Distributor.id == Commission.distributor_id).join(User, User.id == Distributor.user_id)
            .where(*_where(window)))
    words = labels_for("commission")
    for page in by_key(stmt, Commission.id, lambda row: row.id, size):
        yield [(row.order_no, row.shop, row.title, str(LEVEL_LABELS.get(row.level, row.level)), row.code,
                masked_name(row.real_name or row.nickname), masked_phone(row.own_phone or row.phone),
                row.base_fen, row.rate_bp / BP_PER_UNIT, row.amount_fen, row.void_fen, words.label(row.status),
                wall_clock(row.created_at), wall_clock(row.settled_at)) for row in page]


register(ReportType("commissions", _l("佣金明细"), _l("每笔佣金一行：订单、商品、层级、分销商、金额、状态"),
                    COLUMNS, frozenset({Scope.PLATFORM}), count, chunks))
