"""The figures segments are made from: one row per customer of a scope over the lookback
window (the `segments_lookback_days` setting, 180 days by default).

Who is a customer:
- the platform: every account (not deleted) with a paid order, or any behaviour event, in
  the window;
- a shop: every account that paid one of the shop's orders, or viewed, clicked or carted
  one of its products, in the window; its figures come from that shop's orders and
  products only, so a shop never learns what its customers did elsewhere.

Each customer's figures (`BEHAVIOUR`):
- `recency_days`: days since the last paid order in the window; `lookback_days` when none;
- `orders`: paid orders; `monetary_fen`: what they paid, less what was refunded;
- `views`: product page views; `dwell_s`: seconds spent on pages (the page views' dwell);
- `cart_adds`: products added to the cart;
plus the category mix: the share of the customer's spend in each top-level category (of
their product views when they bought nothing), for the scope's `TOP_CATEGORIES` biggest
top-level categories and the rest together as one more column; and, outside the
clustering, the days since the first paid order ever (the sales rollup `FirstPurchase`),
which the naming rules use to tell new customers.

Every figure is one grouped query (GROUP BY customer, or customer and category), never a
query per customer: seven queries whatever the number of customers.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.states import UserStatus
from app.analytics.models import Event, FirstPurchase
from app.analytics.rollups import PLATFORM
from app.catalog.models import Category, Product
from app.core import settings
from app.core.clock import SHANGHAI, as_utc, utcnow
from app.extensions import db
from app.orders.models import Order, OrderItem

BEHAVIOUR = ("recency_days", "orders", "monetary_fen", "views", "dwell_s", "cart_adds")
TOP_CATEGORIES = 4
OTHER_CATEGORY = 0  # the id of the mix column holding every smaller top-level category


@dataclass
class Features:
    """The customers of a scope (`user_ids`, ascending) and their figures: `values` has a
    column per name in BEHAVIOUR, `mix` a column per entry of `categories` ((top-level
    category id or OTHER_CATEGORY, name)); `first_order_days` is NaN for customers who
    never paid the scope."""

    merchant_id: int | None
    lookback_days: int
    computed_at: datetime
    user_ids: np.ndarray
    values: np.ndarray
    mix: np.ndarray
    categories: list[tuple[int, str]]
    first_order_days: np.ndarray

    def __len__(self) -> int:
        return len(self.user_ids)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, BEHAVIOUR.index(name)]


def lookback_days() -> int:
    return int(settings.get("segments_lookback_days"))


def _scope(column, merchant_id: int | None) -> list:
    return [] if merchant_id is None else [column == merchant_id]


def _paid_in(since: datetime, now: datetime, merchant_id: int | None) -> list:
    return [Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at <= now,
            *_scope(Order.merchant_id, merchant_id)]


def _events_in(since: datetime, now: datetime, merchant_id: int | None) -> list:
    return [Event.user_id.is_not(None), Event.created_at >= since, Event.created_at <= now,
            *_scope(Event.merchant_id, merchant_id)]


def _not_deleted(user_id_column):
    return sa.exists().where(User.id == user_id_column, User.status != UserStatus.DELETED)


def build(merchant_id: int | None = None, *, now: datetime | None = None, days: int | None = None) -> Features:
    """The figures of every customer of the shop `merchant_id` (the platform when None)."""
    now = now or utcnow()
    days = days or lookback_days()
    since = now - timedelta(days=days)
    paid = _paid_in(since, now, merchant_id)
    seen = _events_in(since, now, merchant_id)

    orders = db.session.execute(
        sa.select(Order.buyer_id, sa.func.count(Order.id), sa.func.sum(Order.amount_fen - Order.refunded_fen),
                  sa.func.max(Order.paid_at))
        .where(*paid, _not_deleted(Order.buyer_id)).group_by(Order.buyer_id)).all()
    is_view = sa.and_(Event.type == "page_view", Event.product_id.is_not(None))
    behaviour = db.session.execute(
        sa.select(Event.user_id, sa.func.sum(sa.case((is_view, 1), else_=0)),
                  sa.func.sum(sa.func.coalesce(Event.dwell_ms, 0)),
                  sa.func.sum(sa.case((Event.type == "add_to_cart", 1), else_=0)))
        .where(*seen, _not_deleted(Event.user_id)).group_by(Event.user_id)).all()

    ids = sorted({row[0] for row in orders} | {row[0] for row in behaviour})
    index = {user_id: i for i, user_id in enumerate(ids)}
    values = np.zeros((len(ids), len(BEHAVIOUR)))
    values[:, 0] = days  # no paid order in the window: as long ago as the window goes
    for buyer_id, count, money, last_paid in orders:
        row = values[index[buyer_id]]
        row[0] = min(days, max(0.0, (now - as_utc(last_paid)).total_seconds() / 86400))
        row[1], row[2] = count, max(0, int(money or 0))
    for user_id, views, dwell_ms, carts in behaviour:
        row = values[index[user_id]]
        row[3], row[4], row[5] = int(views or 0), int(dwell_ms or 0) / 1000, int(carts or 0)

    mix, categories = _category_mix(index, since, now, merchant_id)
    return Features(merchant_id=merchant_id, lookback_days=days, computed_at=now,
                    user_ids=np.array(ids, dtype=np.int64), values=values, mix=mix, categories=categories,
                    first_order_days=_first_order_days(index, since, now, merchant_id))


def _roots() -> dict[int, tuple[int, str]]:
    """Every category id -> (its top-level category's id, name): one query for the tree."""
    rows = {cid: (parent, name) for cid, parent, name in
            db.session.execute(sa.select(Category.id, Category.parent_id, Category.name)).all()}
    roots: dict[int, tuple[int, str]] = {}
    for cid in rows:
        node, hops = cid, 0
        while rows[node][0] is not None and rows[node][0] in rows and hops < 10:  # the tree is 3 deep
            node, hops = rows[node][0], hops + 1
        roots[cid] = (node, rows[node][1])
    return roots


def _category_mix(index: dict[int, int], since: datetime, now: datetime,
                  merchant_id: int | None) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Each customer's share of spend per top-level category (of product views when they
    spent nothing), in the scope's biggest TOP_CATEGORIES top-level categories plus one
    column for the rest."""
    spend = db.session.execute(
        sa.select(Order.buyer_id, Product.category_id, sa.func.sum(OrderItem.paid_fen))
        .join(OrderItem, OrderItem.order_id == Order.id).join(Product, Product.id == OrderItem.product_id)
        .where(*_paid_in(since, now, merchant_id)).group_by(Order.buyer_id, Product.category_id)).all()
    views = db.session.execute(
        sa.select(Event.user_id, Product.category_id, sa.func.count())
        .join(Product, Product.id == Event.product_id)
        .where(*_events_in(since, now, merchant_id), Event.type == "page_view")
        .group_by(Event.user_id, Product.category_id)).all()
    roots = _roots()
    weights: dict[str, dict[int, dict[int, float]]] = {"spend": defaultdict(lambda: defaultdict(float)),
                                                       "views": defaultdict(lambda: defaultdict(float))}
    for source, rows in (("spend", spend), ("views", views)):
        for user_id, category_id, amount in rows:
            if user_id in index and category_id in roots and amount:
                weights[source][user_id][roots[category_id][0]] += float(amount)

    shares: dict[int, dict[int, float]] = {}
    for user_id in index:
        picked = weights["spend"].get(user_id) or weights["views"].get(user_id) or {}
        total = sum(picked.values())
        if total > 0:
            shares[user_id] = {root: amount / total for root, amount in picked.items()}
    size: dict[int, float] = defaultdict(float)
    for row in shares.values():
        for root, share in row.items():
            size[root] += share
    names = {root_id: name for root_id, name in roots.values()}
    top = sorted(size, key=lambda root: (-size[root], root))[:TOP_CATEGORIES]
    categories = [(root, names[root]) for root in top]
    if len(size) > len(top):
        categories.append((OTHER_CATEGORY, "其他"))
    column = {root: i for i, (root, _name) in enumerate(categories)}
    mix = np.zeros((len(index), len(categories)))
    for user_id, row in shares.items():
        for root, share in row.items():
            mix[index[user_id], column.get(root, column.get(OTHER_CATEGORY, 0))] += share
    return mix, categories


def _first_order_days(index: dict[int, int], since: datetime, now: datetime, merchant_id: int | None) -> np.ndarray:
    """Days since each customer's first paid order ever with the scope (NaN: never paid)."""
    buyers = sa.select(Order.buyer_id).where(*_paid_in(since, now, merchant_id)).distinct()
    rows = db.session.execute(
        sa.select(FirstPurchase.buyer_id, FirstPurchase.day)
        .where(FirstPurchase.scope_id == (PLATFORM if merchant_id is None else merchant_id),
               FirstPurchase.buyer_id.in_(buyers))).all()
    today = now.astimezone(SHANGHAI).date()
    out = np.full(len(index), np.nan)
    for buyer_id, day in rows:
        if buyer_id in index:
            out[index[buyer_id]] = max(0, (today - day).days)
    return out
