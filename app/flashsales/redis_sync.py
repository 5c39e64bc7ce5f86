"""Redis written from PostgreSQL (the truth), as jobs and for the sweep.

- `rebuild_sale` / `rebuild_live`: each item's keys set from its rows (units left =
  stock_total - stock_sold while the event holds stock, else 0 with the window closed;
  per-buyer units from flash_sale_buyers). Idempotent; run after approval, cancel and
  end, at the start (a scheduled job) and every minute by the sweep (tasks.py).
- `give_back`: a cancelled order's units back in Redis, once per order (a marker key;
  a rebuild sets the markers of the orders PostgreSQL has taken back already, so a
  give-back arriving after the rebuild that counted it does nothing).

A rebuild racing a winner whose transaction has not committed yet counts that unit as
still left for a moment: Redis then lets one more buyer through to PostgreSQL, whose
conditional UPDATE refuses them (409 sold_out). Redis being off by a unit can only
cost a database round trip, never an oversold unit; the next sweep puts it right.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import fastpath
from app.flashsales.models import FlashSale, FlashSaleBuyer, FlashSaleItem, FlashSaleOrder
from app.flashsales.states import FlashSaleStatus

log = logging.getLogger(__name__)


def snapshot(item: FlashSaleItem, sale: FlashSale, buyers: dict[int, int],
             returned: tuple[int, ...] = ()) -> fastpath.Snapshot:
    selling = sale.status == FlashSaleStatus.SCHEDULED and item.held and item.released_units is None
    return fastpath.Snapshot(
        item_id=item.id, starts_at=sale.starts_at, ends_at=sale.ends_at if selling else sale.starts_at,
        per_buyer_limit=item.per_buyer_limit, left=item.stock_total - item.stock_sold if selling else 0,
        buyers=buyers, returned_orders=returned)


def _rebuild(sales: list[FlashSale]) -> int:
    client = get_redis()
    if client is None or not sales:
        return 0
    items = [item for sale in sales for item in sale.items]
    if not items:
        return 0
    rows = db.session.execute(sa.select(FlashSaleBuyer.item_id, FlashSaleBuyer.buyer_id, FlashSaleBuyer.quantity)
                              .where(FlashSaleBuyer.item_id.in_([i.id for i in items]))).all()
    buyers: dict[int, dict[int, int]] = {}
    for item_id, buyer_id, quantity in rows:
        buyers.setdefault(item_id, {})[buyer_id] = quantity
    returned: dict[int, list[int]] = {}
    for item_id, order_id in db.session.execute(
            sa.select(FlashSaleOrder.item_id, FlashSaleOrder.order_id).where(
                FlashSaleOrder.item_id.in_([i.id for i in items]), FlashSaleOrder.returned_at.is_not(None),
                FlashSaleOrder.returned_at > utcnow() - timedelta(seconds=fastpath.BACK_TTL_SECONDS))):
        returned.setdefault(item_id, []).append(order_id)
    for sale in sales:
        for item in sale.items:
            fastpath.rebuild(client, snapshot(item, sale, buyers.get(item.id, {}), tuple(returned.get(item.id, ()))))
    return len(items)


def rebuild_sale(sale_id: int) -> int:
    """Job: the event's items rewritten in Redis. Returns how many items."""
    sale = db.session.get(FlashSale, sale_id)
    return _rebuild([sale]) if sale is not None else 0


def live_sales() -> list[FlashSale]:
    """Events Redis should know: scheduled, or over less than a day ago (so late buyers
    are answered `ended` by Redis too)."""
    return list(db.session.scalars(sa.select(FlashSale).where(
        FlashSale.status.in_((FlashSaleStatus.SCHEDULED, FlashSaleStatus.ENDED, FlashSaleStatus.CANCELLED)),
        FlashSale.ends_at > utcnow() - fastpath.KEEP_AFTER_END)
        .options(selectinload(FlashSale.items))))


def rebuild_live() -> int:
    return _rebuild(live_sales())


def give_back(item_id: int, order_id: int, buyer_id: int, quantity: int) -> bool:
    """Job after a cancel committed: the order's units back in Redis (once per order)."""
    client = get_redis()
    if client is None:
        return False
    return fastpath.give_back(client, item_id, order_id, buyer_id, quantity)
