"""Paid baskets: what was bought together, the input of the association rules.

A basket is a set of distinct product ids:
- **for a shop**, one of its orders (an order is one shop's part of a checkout);
- **for the platform**, one checkout (a `Payment` and every order it paid, so products of
  different shops bought together count as bought together).

Only money that stayed counts: orders paid inside the lookback window (by `paid_at`) and
still in a paid state (paid, shipped, received, completed). A closed order (every item
refunded) or a cancelled one is no basket; an item refunded in full (after-sales or a
cancel-and-refund of some items) is left out of its basket, so a product sent back is not
"bought with" the rest. How many of a product were bought does not matter.

Reads only; one query, streamed, whatever the number of orders.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.orders.models import Order, OrderItem
from app.orders.states import OrderStatus

# Paid and not (wholly) given back: cancelled orders were never paid, closed ones were refunded.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.COMPLETED)


@dataclass
class Baskets:
    platform: list[frozenset[int]] = field(default_factory=list)  # one per checkout
    shops: dict[int, list[frozenset[int]]] = field(default_factory=dict)  # merchant id -> one per order


def paid_baskets(since: datetime, merchant_id: int | None = None) -> Baskets:
    """Every paid basket since `since`, for the platform and for each shop with an order
    (with `merchant_id`, only that shop's: the platform's baskets are then partial)."""
    stmt = (sa.select(Order.payment_id, Order.id, Order.merchant_id, OrderItem.product_id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(Order.paid_at >= since, Order.status.in_(PAID_STATUSES),
                   OrderItem.refunded_quantity < OrderItem.quantity))
    if merchant_id is not None:
        stmt = stmt.where(Order.merchant_id == merchant_id)
    by_checkout: dict[int, set[int]] = defaultdict(set)
    by_order: dict[tuple[int, int], set[int]] = defaultdict(set)
    for payment_id, order_id, merchant_id, product_id in db.session.execute(stmt.execution_options(yield_per=5000)):
        by_checkout[payment_id].add(product_id)
        by_order[(merchant_id, order_id)].add(product_id)
    shops: dict[int, list[frozenset[int]]] = defaultdict(list)
    for (merchant_id, _order_id), products in by_order.items():
        shops[merchant_id].append(frozenset(products))
    return Baskets(platform=[frozenset(p) for p in by_checkout.values()], shops=dict(shops))
