"""售后明细: one row per after-sale request made in the range (by the time the buyer
applied, Shanghai days), with its items, what it asks back and what the gateway has
refunded so far."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.aftersales.labels import reason_text
from app.aftersales.models import AfterSale, AfterSaleLine
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
from app.extensions import db
from app.merchants.models import Merchant
from app.orders.models import Order, OrderItem
from app.payments.models import Refund
from app.payments.states import RefundStatus

COLUMNS = (
    Column(_l("售后单号"), width=22),
    Column(_l("订单号"), width=22),
    Column(_l("申请时间"), Kind.DATETIME, 20),
    Column(_l("店铺"), width=20),
    Column(_l("买家"), width=10),
    Column(_l("买家手机"), width=14),
    Column(_l("售后类型"), width=10),
    Column(_l("售后原因"), width=16),
    Column(_l("商品"), width=36),
    Column(_l("件数"), Kind.INT, 8),
    Column(_l("状态"), width=12),
    Column(_l("申请退款（元）"), Kind.MONEY, 14),
    Column(_l("其中运费（元）"), Kind.MONEY, 14),
    Column(_l("已退款（元）"), Kind.MONEY, 14),
    Column(_l("完结时间"), Kind.DATETIME, 20),
)


def _where(window: Window):
    return (AfterSale.created_at >= window.start, AfterSale.created_at < window.end,
            window.shop(AfterSale.merchant_id))


def count(window: Window) -> int:
    return count_of(sa.select(AfterSale.id).where(*_where(window)))


def chunks(window: Window, size: int) -> Rows:
    refunded = (sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0))
                .where(Refund.aftersale_id == AfterSale.id, Refund.status == RefundStatus.SUCCEEDED).scalar_subquery())
    stmt = (sa.select(AfterSale.id, AfterSale.aftersale_no, Order.order_no, AfterSale.created_at,
                      Merchant.name.label("shop"), User.nickname, User.phone, User.status.label("buyer_status"),
                      AfterSale.kind, AfterSale.reason, AfterSale.reason_text, AfterSale.status, AfterSale.refund_fen,
                      AfterSale.shipping_refund_fen, refunded.label("refunded_fen"), AfterSale.finished_at)
            .join(Order, Order.id == AfterSale.order_id).join(Merchant, Merchant.id == AfterSale.merchant_id)
            .join(User, User.id == AfterSale.buyer_id).where(*_where(window)))
    kinds, statuses = labels_for("aftersale_kind"), labels_for("aftersale")
    for page in by_key(stmt, AfterSale.id, lambda row: row.id, size):
        lines = _lines_of([row.id for row in page])
        rows = []
        for row in page:
            buyer, phone = person(row.nickname, row.phone, row.buyer_status)
            items = lines.get(row.id, [])
            rows.append((row.aftersale_no, row.order_no, wall_clock(row.created_at), row.shop, buyer, phone,
                         kinds.label(row.kind), reason_text(row),
                         "；".join(f"{title}（{spec}）× {n}" if spec else f"{title} × {n}" for title, spec, n in items),
                         sum(n for _title, _spec, n in items), statuses.label(row.status), row.refund_fen,
                         row.shipping_refund_fen, int(row.refunded_fen), wall_clock(row.finished_at)))
        yield rows


def _lines_of(aftersale_ids: list[int]) -> dict[int, list[tuple[str, str, int]]]:
    """The items of a page of requests, in one query: {request id: [(title, spec, units)]}."""
    found: dict[int, list[tuple[str, str, int]]] = {}
    for aftersale_id, title, spec, quantity in db.session.execute(
            sa.select(AfterSaleLine.aftersale_id, OrderItem.title, OrderItem.spec_text, AfterSaleLine.quantity)
            .join(OrderItem, OrderItem.id == AfterSaleLine.order_item_id)
            .where(AfterSaleLine.aftersale_id.in_(aftersale_ids)).order_by(AfterSaleLine.id)):
        found.setdefault(aftersale_id, []).append((title, spec or "", quantity))
    return found


register(ReportType("aftersales", _l("售后明细"), _l("每个售后申请一行：类型、原因、商品、状态、申请与已退金额"),
                    COLUMNS, frozenset({Scope.PLATFORM, Scope.SHOP}), count, chunks))
