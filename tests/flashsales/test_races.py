"""Flash sales under real concurrency, on PostgreSQL and a real Redis: buyers as
threads released together (over HTTP through the threaded test server, or straight
into the service with Redis stopped). These tests commit for real (`live_db`)."""
from __future__ import annotations

import logging
import uuid
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Sku
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import buying, fastpath
from app.flashsales.models import FlashSaleBuyer, FlashSaleItem, FlashSaleOrder
from app.orders import services as order_services
from app.orders.models import Order, OrderItem
from tests.race import at_once

pytestmark = pytest.mark.live_db


@pytest.fixture
def buyers(make_user, make_address, api_token):
    def make(n: int) -> list[tuple[int, dict, int]]:
        out = []
        for _ in range(n):
            user = make_user()
            out.append((user.id, api_token(user), make_address(user).id))
        return out

    return make


def statuses(results) -> Counter:
    """201, or "409 sold_out" / "422 ended"..., or the exception's name: every buyer answered."""
    seen = Counter()
    for r in results:
        if isinstance(r, requests.Response):
            seen[r.status_code if r.status_code == 201 else f"{r.status_code} {r.json()['error']['code']}"] += 1
        elif isinstance(r, DomainError):
            seen[f"{r.status} {r.code}"] += 1
        elif r is not None and not isinstance(r, Exception):
            seen[201] += 1
        else:
            seen[type(r).__name__] += 1
    return seen


def item_numbers(item_id: int) -> tuple[int, int]:
    db.session.expire_all()
    item = db.session.get(FlashSaleItem, item_id)
    return item.stock_total, item.stock_sold


def orders_of(item_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(OrderItem.quantity), 0))
                             .join(FlashSaleOrder, FlashSaleOrder.order_id == OrderItem.order_id)
                             .where(FlashSaleOrder.item_id == item_id))


def post_buy(url: str, item_id: int, headers: dict, address_id: int, quantity: int = 1):
    return requests.post(f"{url}/api/v1/flash-sales/{item_id}/buy", headers=headers, timeout=60,
                         json={"quantity": quantity, "address_id": address_id, "idempotency_key": uuid.uuid4().hex})


def test_sixty_buyers_for_ten_units_make_exactly_ten_orders(server, buyers, make_flash_sale):
    _sale, item = make_flash_sale(stock=10, limit=1, sku_stock=30)
    item_id, sku_id = item.id, item.sku_id
    people = buyers(60)
    db.session.remove()

    results = at_once(60, lambda i: post_buy(server, item_id, people[i][1], people[i][2]))
    assert statuses(results) == {201: 10, "409 sold_out": 50}  # every buyer answered, nothing else
    assert item_numbers(item_id) == (10, 10)
    assert orders_of(item_id) == 10
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 10
    assert db.session.get(Sku, sku_id).stock == 20  # carved once at publish, not again per order
    assert fastpath.left(get_redis(), item_id) == 0


def test_one_buyer_racing_themself_gets_only_their_limit(server, buyers, make_flash_sale):
    _sale, item = make_flash_sale(stock=10, limit=2)
    [(buyer_id, headers, address_id)] = buyers(1)
    item_id = item.id
    db.session.remove()

    results = at_once(12, lambda i: post_buy(server, item_id, headers, address_id))
    assert statuses(results) == {201: 2, "409 limit_reached": 10}
    assert item_numbers(item_id) == (10, 2)
    assert db.session.scalar(sa.select(FlashSaleBuyer.quantity).where(FlashSaleBuyer.buyer_id == buyer_id)) == 2


def test_a_cancel_raced_eight_times_gives_the_unit_back_once(make_flash_sale, make_user, make_address, app, run_jobs):
    _sale, item = make_flash_sale(stock=3, limit=1)
    buyer = make_user()
    address = make_address(buyer)
    with transaction():
        order_no = buying.buy(buyer, item.id, 1, address.id, uuid.uuid4().hex).orders[0].order_no
    item_id, buyer_id = item.id, buyer.id
    db.session.remove()

    def cancel(_i):
        with transaction():
            return order_services.cancel_by_buyer(buyer_id, order_no).status

    results = at_once(8, cancel, app=app)
    assert sum(1 for r in results if r == "cancelled") == 1
    assert all(r == "cancelled" or isinstance(r, DomainError) for r in results), results
    run_jobs()
    run_jobs()
    assert item_numbers(item_id) == (3, 0)
    assert fastpath.left(get_redis(), item_id) == 3 and fastpath.buyer_units(get_redis(), item_id, buyer_id) == 0


def test_with_redis_stopped_postgresql_alone_keeps_every_rule(redis_server, app_on, make_flash_sale, make_user,
                                                             make_address, caplog):
    """The fallback: Redis is down (killed), so every buyer reaches PostgreSQL; the
    conditional UPDATEs still sell exactly the event stock and hold the limit."""
    _sale, item = make_flash_sale(stock=5, limit=2, sku_stock=20, load=False)
    item_id, sku_id = item.id, item.sku_id
    people = [(u.id, make_address(u).id) for u in (make_user() for _ in range(30))]
    db.session.remove()
    shop = app_on(redis_server)
    redis_server.kill()

    def buy(i: int):
        buyer_id, address_id = people[i % 20]  # ten buyers try twice at once, with a limit of 2
        return _buy_and_commit(buyer_id, address_id)

    def _buy_and_commit(buyer_id: int, address_id: int):
        with transaction():
            return buying.buy(db.session.get(User, buyer_id), item_id, 1, address_id, uuid.uuid4().hex).id

    with caplog.at_level(logging.WARNING):
        results = at_once(30, buy, app=shop)
    assert sum("flash-sale Redis unreachable" in r.getMessage() for r in caplog.records) == 1  # logged once
    counted = statuses(results)
    assert counted[201] == 5 and counted["409 sold_out"] + counted["409 limit_reached"] == 25, counted
    assert item_numbers(item_id) == (5, 5) and orders_of(item_id) == 5
    assert db.session.scalar(sa.select(sa.func.max(FlashSaleBuyer.quantity))) <= 2
    assert db.session.get(Sku, sku_id).stock == 15


def test_one_key_sent_eight_times_at_once_buys_once(redis_server, app_on, make_flash_sale, make_user, make_address):
    """A double submit with Redis down (PostgreSQL decides): whoever loses the race on the
    payment's key takes no unit, even though the limit (3) would allow more."""
    _sale, item = make_flash_sale(stock=5, limit=3, load=False)
    item_id = item.id
    buyer = make_user()
    buyer_id, address_id = buyer.id, make_address(buyer).id
    db.session.remove()
    shop = app_on(redis_server)
    redis_server.kill()

    def buy(_i: int):
        with transaction():
            return buying.buy(db.session.get(User, buyer_id), item_id, 1, address_id, "same-key-for-all-8").id

    results = at_once(8, buy, app=shop)
    payment_ids = {r for r in results if isinstance(r, int)}
    assert len(payment_ids) == 1, results
    assert all(isinstance(r, int) or (isinstance(r, DomainError) and r.code == "busy") for r in results), results
    assert item_numbers(item_id) == (5, 1) and orders_of(item_id) == 1
    assert db.session.scalar(sa.select(FlashSaleBuyer.quantity).where(FlashSaleBuyer.buyer_id == buyer_id)) == 1
