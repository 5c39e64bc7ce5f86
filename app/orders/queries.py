"""Order lists for each audience. Every list loads items and shops in a fixed
number of queries (no N+1), newest first, paginated."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import SHANGHAI
from app.core.pagination import Page, paginate
from app.extensions import db
from app.orders.models import Order, OrderItem
from app.orders.states import BUYER_TAB_STATUSES, UNFINISHED_STATUSES, OrderStatus


def _listing(stmt: sa.Select) -> sa.Select:
    return stmt.options(selectinload(Order.items), selectinload(Order.merchant), selectinload(Order.shipment))


def for_buyer(buyer_id: int, tab: str = "all", page=1, per_page=10) -> Page:
    stmt = sa.select(Order).where(Order.buyer_id == buyer_id)
    if tab in BUYER_TAB_STATUSES:
        stmt = stmt.where(Order.status.in_(BUYER_TAB_STATUSES[tab]))
    if tab == "to_review":
        stmt = stmt.where(Order.to_review)
    return paginate(_listing(stmt).order_by(Order.created_at.desc(), Order.id.desc()), page, per_page)


def buyer_counts(buyer_id: int) -> dict[str, int]:
    """Badge counts for the 我的订单 tabs."""
    rows = db.session.execute(sa.select(Order.status, sa.func.count()).where(Order.buyer_id == buyer_id)
                              .group_by(Order.status)).all()
    by_status = dict(rows)
    counts = {tab: sum(by_status.get(s, 0) for s in statuses) for tab, statuses in BUYER_TAB_STATUSES.items()}
    counts["to_review"] = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.buyer_id == buyer_id, Order.to_review)) or 0
    return counts


def unfinished_count(buyer_id: int) -> int:
    """The buyer's orders still under way (unpaid, to ship, on the way, in the return window)."""
    return db.session.scalar(sa.select(sa.func.count(Order.id)).where(
        Order.buyer_id == buyer_id, Order.status.in_(UNFINISHED_STATUSES))) or 0


@dataclass
class OrderFilters:
    """Filters of the merchant's and the admin's order lists (all optional)."""

    status: str | None = None
    q: str = ""  # order number, buyer phone or product title
    date_from: date | None = None  # Shanghai dates, inclusive
    date_to: date | None = None
    merchant_id: int | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _filtered(filters: OrderFilters) -> sa.Select:
    stmt = sa.select(Order)
    if filters.merchant_id is not None:
        stmt = stmt.where(Order.merchant_id == filters.merchant_id)
    if filters.status in {s.value for s in OrderStatus}:
        stmt = stmt.where(Order.status == filters.status)
    q = (filters.q or "").strip()
    if q:
        # What the operator typed is text, not a pattern: `%` and `_` match themselves.
        stmt = stmt.where(sa.or_(
            Order.order_no == q,
            Order.buyer_id.in_(sa.select(User.id).where(User.phone.contains(q, autoescape=True))),
            Order.id.in_(sa.select(OrderItem.order_id).where(OrderItem.title.icontains(q, autoescape=True))),
            sa.cast(Order.address["phone"], sa.String).contains(q, autoescape=True),
        ))
    if filters.date_from:
        stmt = stmt.where(Order.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(Order.created_at < _day_start(filters.date_to + timedelta(days=1)))
    return stmt


def for_merchant(merchant_id: int, filters: OrderFilters, page=1, per_page=20) -> Page:
    filters.merchant_id = merchant_id
    stmt = _filtered(filters).options(selectinload(Order.buyer))
    return paginate(_listing(stmt).order_by(Order.created_at.desc(), Order.id.desc()), page, per_page)


def merchant_counts(merchant_id: int) -> dict[str, int]:
    return dict(db.session.execute(sa.select(Order.status, sa.func.count()).where(Order.merchant_id == merchant_id)
                                   .group_by(Order.status)).all())


def for_admin(filters: OrderFilters, page=1, per_page=30) -> Page:
    stmt = _filtered(filters).options(selectinload(Order.buyer))
    return paginate(_listing(stmt).order_by(Order.created_at.desc(), Order.id.desc()), page, per_page)
