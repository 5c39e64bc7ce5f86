"""Sales rollups: the tables the dashboards and the merchant stats API read, kept up to
date as money moves, so a figure costs a row per shop and day, not a scan of orders.

Guarantees:
- Each paid order is counted once, on the Shanghai day and hour its payment arrived
  (`add_paid_order`, a receiver of `order_paid`, which orders send once per order from
  the guarded pay move); each refund the gateway confirmed is counted once, on the day
  it was confirmed (`add_refund`, a receiver of `refund_succeeded`, sent once per
  refund). Both write in the transaction of the move that announced them.
- Commissions count when they settle (positive) and when a refund after settlement takes
  some back (negative), on those days (`add_commission`, receivers of the distribution
  signals): what the shop's sales cost in commission, net.
- Only money of paid orders counts: a refund of an order cancelled before its money
  arrived (or of a duplicate collection) is not a sale given back.
- Increments are single upserts (`INSERT ... ON CONFLICT DO UPDATE SET n = n + :d`), so
  two shops' orders paid at once never lose a count; the same SQL runs on SQLite.
- `rebuild` recomputes everything from orders and refunds (`flask analytics rebuild`),
  for data that predates the rollups; it gives the same rows the receivers would have.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.analytics.models import (
    BuyerDay,
    FirstPurchase,
    HourSales,
    KeywordDay,
    PeopleDay,
    ProductDay,
    ProvinceSales,
    SalesDay,
    SettledDay,
)
from app.core.clock import SHANGHAI, as_utc
from app.core.db import upsert
from app.distribution.models import Commission, DistributorLedgerEntry
from app.distribution.states import LedgerKind
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Refund
from app.payments.states import RefundStatus

PLATFORM = 0  # FirstPurchase scope of the whole platform
UNKNOWN_PROVINCE = "未知"


def local_day_hour(moment: datetime) -> tuple[date, int]:
    local = as_utc(moment).astimezone(SHANGHAI)
    return local.date(), local.hour



def _bump(model, keys: dict, deltas: dict, fixed: dict | None = None) -> None:
    """Add `deltas` to the row `keys` names, making it (with `fixed` values) when absent."""
    stmt = upsert(model).values(**keys, **deltas, **(fixed or {}))
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={name: getattr(model, name) + stmt.excluded[name] for name in deltas})
    db.session.execute(stmt)


def _once(model, **values) -> None:
    """Insert the row unless it exists (the first one stays)."""
    db.session.execute(upsert(model).values(**values).on_conflict_do_nothing())


def add_paid_order(order: Order) -> None:
    """Count `order` (just paid) in every rollup."""
    if order.paid_at is None:
        return
    day, hour = local_day_hour(order.paid_at)
    units = sum(item.quantity for item in order.items)
    _bump(SalesDay, {"merchant_id": order.merchant_id, "day": day},
          {"paid_orders": 1, "units": units, "gmv_fen": order.amount_fen})
    _once(BuyerDay, merchant_id=order.merchant_id, day=day, buyer_id=order.buyer_id)
    _once(FirstPurchase, scope_id=order.merchant_id, buyer_id=order.buyer_id, day=day)
    _once(FirstPurchase, scope_id=PLATFORM, buyer_id=order.buyer_id, day=day)
    for item in order.items:
        _bump(ProductDay, {"product_id": item.product_id, "day": day},
              {"units": item.quantity, "revenue_fen": item.paid_fen}, fixed={"merchant_id": order.merchant_id})
    province = str((order.address or {}).get("province") or UNKNOWN_PROVINCE)[:20]
    # The shop's rows only: the platform's are written once the day settles (settled_days.py),
    # so no row is shared by every payment on the platform.
    _bump(HourSales, {"scope_id": order.merchant_id, "day": day, "hour": hour}, {"paid_orders": 1})
    _bump(ProvinceSales, {"scope_id": order.merchant_id, "day": day, "province": province},
          {"paid_orders": 1, "gmv_fen": order.amount_fen})


def add_refund(refund: Refund) -> None:
    """Count a confirmed refund of a paid order on the day it was confirmed."""
    if refund.order_id is None or refund.finished_at is None:
        return
    order = db.session.get(Order, refund.order_id)
    if order is None or order.paid_at is None:
        return
    day, _hour = local_day_hour(refund.finished_at)
    _bump(SalesDay, {"merchant_id": order.merchant_id, "day": day}, {"refund_fen": refund.amount_fen})


def add_commission(order_id: int, amount_fen: int, moment: datetime) -> None:
    """Count commission money that became (positive) or stopped being (negative, a
    clawback) a distributor's, against the order's shop, on the day it happened."""
    merchant_id = db.session.scalar(sa.select(Order.merchant_id).where(Order.id == order_id))
    if merchant_id is None or not amount_fen:
        return
    day, _hour = local_day_hour(moment)
    _bump(SalesDay, {"merchant_id": merchant_id, "day": day}, {"commission_fen": amount_fen})


def rebuild(batch: int = 500) -> tuple[int, int]:
    """Empty the rollups and count every paid order and confirmed refund again, oldest
    first (so first purchases are the first). Returns (orders, refunds) counted. What the
    settled days kept goes too: run `settled_days.settle_due(limit=None)` afterwards."""
    for model in (SalesDay, BuyerDay, FirstPurchase, ProductDay, HourSales, ProvinceSales, SettledDay, PeopleDay,
                  KeywordDay):
        db.session.execute(sa.delete(model))
    orders = _each(sa.select(Order).where(Order.paid_at.is_not(None)).options(selectinload(Order.items))
                   .order_by(Order.paid_at, Order.id), batch, add_paid_order)
    refunds = _each(sa.select(Refund).where(Refund.status == RefundStatus.SUCCEEDED).order_by(Refund.id), batch,
                    add_refund)
    booked = (sa.select(DistributorLedgerEntry.amount_fen, DistributorLedgerEntry.created_at, Commission.order_id)
              .join(Commission, Commission.id == DistributorLedgerEntry.commission_id)
              .where(DistributorLedgerEntry.kind.in_((LedgerKind.COMMISSION_SETTLED, LedgerKind.COMMISSION_CLAWBACK)))
              .order_by(DistributorLedgerEntry.id))
    for amount_fen, created_at, order_id in db.session.execute(booked):
        add_commission(order_id, amount_fen, created_at)  # clawback entries are negative already
    db.session.flush()
    return orders, refunds


def _each(stmt: sa.Select, batch: int, count) -> int:
    done = 0
    for row in _batched(stmt, batch):
        count(row)
        done += 1
    return done


def _batched(stmt: sa.Select, batch: int) -> Iterable:
    offset = 0
    while True:
        rows = list(db.session.scalars(stmt.limit(batch).offset(offset)))
        if not rows:
            return
        yield from rows
        offset += batch
