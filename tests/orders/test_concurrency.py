"""Buyers racing for the same stock through HTTP, on PostgreSQL.

A real threaded werkzeug server (the `server` fixture) serves the app; each
buyer is a thread with their own API token, all released together by a barrier.
These tests commit for real (`live_db`): the tables are emptied afterwards."""
from __future__ import annotations

import uuid

import pytest
import requests
import sqlalchemy as sa

from app.catalog.models import Sku
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders.models import Order, OrderItem
from app.payments.models import Payment
from tests.race import at_once

pytestmark = pytest.mark.live_db

BUYERS = 50
STOCK = 10


@pytest.fixture
def buyers(make_user, make_address, api_token):
    """`n` buyers, each (headers, address id), committed."""

    def make(n: int) -> list[tuple[dict, int]]:
        out = []
        for _ in range(n):
            user = make_user()
            out.append((api_token(user), make_address(user).id))
        return out

    return make


def race(url: str, bodies: list[tuple[dict, dict]]) -> list[requests.Response | Exception]:
    """POST /api/v1/orders once per (headers, body), all threads released together."""
    return at_once(len(bodies), lambda i: requests.post(f"{url}/api/v1/orders", json=bodies[i][1],
                                                         headers=bodies[i][0], timeout=60))


def body(address_id: int, skus: list[int]) -> dict:
    return {"items": [{"sku_id": s, "quantity": 1} for s in skus], "address_id": address_id,
            "idempotency_key": uuid.uuid4().hex}


def outcome(results) -> tuple[int, int, list]:
    """(201 count, clean out_of_stock 409 count, anything else)."""
    created = sum(1 for r in results if isinstance(r, requests.Response) and r.status_code == 201)
    refused = sum(1 for r in results if isinstance(r, requests.Response) and r.status_code == 409
                  and r.json()["error"]["code"] == "out_of_stock")
    other = [r if isinstance(r, Exception) else (r.status_code, r.text[:200]) for r in results
             if not (isinstance(r, requests.Response) and r.status_code in (201, 409))]
    return created, refused, other


def stock(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def movements(sku_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(StockMovement.delta), 0))
                             .where(StockMovement.sku_id == sku_id))


def test_fifty_buyers_for_ten_units_make_exactly_ten_orders(server, buyers, make_product):
    product = make_product(stocks=(STOCK,), price_fen=990)
    sku_id = product.skus[0].id
    people = buyers(BUYERS)
    db.session.remove()

    results = race(server, [(headers, body(address_id, [sku_id])) for headers, address_id in people])
    created, refused, other = outcome(results)
    assert other == [] and (created, refused) == (STOCK, BUYERS - STOCK)
    assert stock(sku_id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == STOCK
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == STOCK
    assert db.session.scalar(sa.select(sa.func.sum(OrderItem.quantity)).where(OrderItem.sku_id == sku_id)) == STOCK
    assert movements(sku_id) == -STOCK  # one reserve movement per accepted order, none for the refused


def test_multi_sku_orders_in_opposite_orders_neither_deadlock_nor_oversell(server, buyers, make_product, make_merchant):
    shop = make_merchant()
    a = make_product(merchant=shop, stocks=(STOCK,), price_fen=500).skus[0].id
    b = make_product(merchant=shop, stocks=(STOCK + 5,), price_fen=700).skus[0].id
    people = buyers(BUYERS)
    db.session.remove()

    bodies = [(headers, body(address_id, [a, b] if i % 2 == 0 else [b, a]))
              for i, (headers, address_id) in enumerate(people)]
    results = race(server, bodies)
    created, refused, other = outcome(results)
    assert other == [], other  # no 5xx, no deadlock error, no timeout
    assert created == STOCK and refused == BUYERS - STOCK
    assert (stock(a), stock(b)) == (0, 5)
    assert movements(a) == -STOCK and movements(b) == -STOCK  # movements add up to the change
    assert db.session.scalar(sa.select(sa.func.min(Sku.stock)).where(Sku.id.in_([a, b]))) >= 0
    rows = db.session.execute(sa.select(OrderItem.sku_id, sa.func.sum(OrderItem.quantity))
                              .group_by(OrderItem.sku_id)).all()
    assert dict(rows) == {a: STOCK, b: STOCK}  # every accepted order got both SKUs
    # the refused buyers were told which SKU ran short
    short = {sku for r in results if r.status_code == 409 for sku in r.json()["error"]["fields"]}
    assert short == {str(a)}


def test_the_same_submit_sent_eight_times_at_once_makes_one_payment(server, buyers, make_product):
    """A double (or eightfold) tap: the racing submits share one idempotency key, so the
    unique key decides; every response names the same payment and stock is taken once."""
    product = make_product(stocks=(5,))
    sku_id = product.skus[0].id
    [(headers, address_id)] = buyers(1)
    body = {"items": [{"sku_id": sku_id, "quantity": 2}], "address_id": address_id,
            "idempotency_key": uuid.uuid4().hex}
    results = race(server, [(headers, body)] * 8)
    assert all(isinstance(r, requests.Response) and r.status_code == 201 for r in results), results
    assert len({r.json()["payment"]["out_trade_no"] for r in results}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id)) == 3
    assert db.session.scalar(sa.select(sa.func.sum(StockMovement.delta)).where(StockMovement.sku_id == sku_id)) == -2
