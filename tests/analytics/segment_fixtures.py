"""Customers with planted histories for the segment tests, made through the real checkout
and payment services (orders paid at chosen moments) plus behaviour events.

`planted` gives three groups of 8 customers of one shop, clearly apart:
- "loyal": 3–5 paid orders of ¥350 in the last 30 days, the last one 1–5 days ago,
  15–20 product views, ~15 minutes on the pages, 3 cart adds;
- "sleeping": 2 orders of ¥69 between 100 and 150 days ago, 1–3 views back then;
- "browsing": no order, 50–70 views in the last 20 days, ~25 minutes, 1–2 cart adds.
The loyal and browsing buy / look in one top-level category, the sleeping in another.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.analytics.models import Event
from app.core.clock import travel
from app.core.db import transaction
from app.extensions import db
from app.orders import checkout
from app.orders.models import Order
from app.payments import services as payments

NOW = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
_trade = itertools.count(1)


def at(moment: datetime):
    return travel(moment - datetime.now(UTC))


def buy(buyer, address, lines, moment: datetime) -> Order:
    """A checkout paid at `moment` (through the sandbox's success path)."""
    with at(moment), transaction():
        payment = checkout.submit(buyer, lines, address.id, {}, uuid.uuid4().hex)
        payments.apply_success(payment, "sandbox", f"SBSEG{next(_trade):08d}")
    return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))


def look(user_id, product, moment: datetime, *, views=1, dwell_s=30, carts=0) -> None:
    """Behaviour events of one customer on one product (written straight to the table)."""
    for n in range(views):
        db.session.add(Event(type="page_view", user_id=user_id, product_id=product.id, merchant_id=product.merchant_id,
                             dwell_ms=dwell_s * 1000, created_at=moment - timedelta(minutes=n)))
    for n in range(carts):
        db.session.add(Event(type="add_to_cart", user_id=user_id, product_id=product.id,
                             merchant_id=product.merchant_id, created_at=moment - timedelta(seconds=n)))


@pytest.fixture
def planted(make_user, make_merchant, make_category, make_product, make_address):
    """Three groups of customers of one shop (see the module docstring) as of NOW; returns
    the shop, its products and the groups' user ids."""
    return plant(make_user, make_merchant, make_category, make_product, make_address, NOW)


def plant(make_user, make_merchant, make_category, make_product, make_address, now: datetime, owner=None) -> dict:
    """The planted groups as of `now` (the factories are the test's fixtures)."""
    shop = make_merchant(name="分群测试店", owner=owner)
    gadgets, fruit = make_category(name="数码配件"), make_category(name="水果")
    dear = make_product(merchant=shop, category=gadgets, title="降噪耳机", price_fen=35000, stocks=(500,))
    cheap = make_product(merchant=shop, category=fruit, title="脐橙 5 斤", price_fen=6900, stocks=(500,))
    groups: dict[str, list[int]] = {"loyal": [], "sleeping": [], "browsing": []}
    for i in range(8):
        user = make_user(nickname=f"常客{i}", password=None)
        home = make_address(user)
        for n in range(3 + i % 3):
            buy(user, home, [(dear.skus[0].id, 1)], now - timedelta(days=1 + i % 5 + n * 6))
        look(user.id, dear, now - timedelta(days=2), views=15 + i % 6, dwell_s=50, carts=3)
        groups["loyal"].append(user.id)
    for i in range(8):
        user = make_user(nickname=f"老客{i}", password=None)
        home = make_address(user)
        for n in range(2):
            buy(user, home, [(cheap.skus[0].id, 1)], now - timedelta(days=100 + i * 5 + n * 7))
        look(user.id, cheap, now - timedelta(days=110 + i), views=1 + i % 3, dwell_s=20)
        groups["sleeping"].append(user.id)
    for i in range(8):
        user = make_user(nickname=f"逛客{i}", password=None)
        look(user.id, dear, now - timedelta(days=1 + i * 2), views=50 + i * 3, dwell_s=25, carts=1 + i % 2)
        groups["browsing"].append(user.id)
    db.session.commit()
    return {"shop": shop, "dear": dear, "cheap": cheap, "groups": groups}


def make_run(merchant_id=None, segments=None, *, state="clustered", customers=None, computed_at=None):
    """A run written straight to the tables: `segments` maps a kind to its members' user ids
    (the name is the kind's; profiles are plausible figures), for the pages and messages."""
    from app.analytics.segments import naming
    from app.analytics.segments.models import Segment, SegmentMember, SegmentRun, scope_id_of

    segments = segments or {}
    total = sum(len(ids) for ids in segments.values())
    run = SegmentRun(scope_id=scope_id_of(merchant_id), merchant_id=merchant_id, state=state,
                     k=len(segments) if state == "clustered" else None, silhouette=0.61 if segments else None,
                     customers=total if customers is None else customers, lookback_days=180,
                     computed_at=computed_at or datetime.now(UTC))
    db.session.add(run)
    db.session.flush()
    for position, (kind, ids) in enumerate(segments.items()):
        buyer = kind in naming.BUYER_KINDS
        profile = {"customers": len(ids), "share": len(ids) / total, "recency_days": 12.0 if buyer else 180.0,
                   "last_order_days": 12.0 if buyer else None, "first_order_days": 90.0 if buyer else None,
                   "orders": 3.2 if buyer else 0.0, "buyers_share": 1.0 if buyer else 0.0,
                   "monetary_fen": 40960 if buyer else 0, "aov_fen": 12800 if buyer else 0, "views": 24.0,
                   "dwell_s": 360.0, "cart_adds": 1.5, "categories": [{"id": 1, "name": "数码家电", "share": 0.6}],
                   "variant_of": 0}
        segment = Segment(run_id=run.id, position=position, kind=kind, variant=0, name=naming.NAMES[naming.Kind(kind)],
                          size=len(ids), profile=profile)
        db.session.add(segment)
        db.session.flush()
        for user_id in ids:
            db.session.add(SegmentMember(segment_id=segment.id, user_id=user_id, orders=3 if buyer else 0,
                                         monetary_fen=38400 if buyer else 0, views=20,
                                         last_order_days=12 if buyer else None))
    db.session.commit()
    return run
