"""秒杀 refusals answered before Flask (app/web/api/flash_refusals.py): the same answer Flask
gives, for exactly the requests Flask would refuse so, and nothing else.

Whether Flask handled a request is read from Flask's own `request_started` signal."""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import request_started

from app.core.db import transaction
from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import fastpath
from app.flashsales.models import FlashSaleItem
from app.orders import services as order_services
from app.orders.models import Order

BASE = "/api/v1/flash-sales"


@pytest.fixture(autouse=True)
def no_answers_kept(app):
    """Each test starts with no refusal kept (the session's app keeps them across tests)."""
    app.extensions["flash_refusals"].answers.clear()


def body(address_id: int, quantity: int = 1, key: str | None = None) -> dict:
    return {"quantity": quantity, "address_id": address_id, "idempotency_key": key or uuid.uuid4().hex}


@contextmanager
def flask_requests(app):
    """The paths Flask itself handled inside the block."""
    seen: list[str] = []

    def started(sender, **_extra):
        from flask import request
        seen.append(request.path)

    with request_started.connected_to(started, app):
        yield seen


def same_answer(first, second) -> None:
    assert (second.status_code, second.data) == (first.status_code, first.data)
    assert ({k: v for k, v in second.headers.items() if k != "X-Request-Id"}
            == {k: v for k, v in first.headers.items() if k != "X-Request-Id"})
    assert second.headers["X-Request-Id"] and second.headers["X-Request-Id"] != first.headers["X-Request-Id"]


def test_a_buyer_refused_again_gets_flasks_own_answer_without_flask(app, client, make_flash_sale, make_user,
                                                                    make_address, api_token, count_queries):
    _sale, item = make_flash_sale(stock=1, limit=1)
    winner, loser = make_user(), make_user()
    win = client.post(f"{BASE}/{item.id}/buy", json=body(make_address(winner).id), headers=api_token(winner))
    assert win.status_code == 201
    headers, address_id, item_id = api_token(loser), make_address(loser).id, item.id
    with flask_requests(app) as handled:
        first = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
        assert first.status_code == 409 and first.get_json()["error"]["code"] == "sold_out"
        assert handled == [f"{BASE}/{item_id}/buy"]  # the token was new to the cache: Flask asked PostgreSQL
        with count_queries() as statements:
            again = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
            asked = client.post(f"{BASE}/{item_id}/buy", json=body(address_id),
                                headers={**headers, "X-Request-Id": "mine-0001"})
        assert len(handled) == 1 and statements == []
    same_answer(first, again)
    assert asked.headers["X-Request-Id"] == "mine-0001" and asked.data == first.data
    assert first.get_json()["error"]["message"] == "手慢了，已抢光"


def test_each_refusal_and_language_is_flasks_answer_for_that_one(app, client, make_flash_sale, make_user,
                                                                 make_address, api_token):
    """limit_reached is not sold_out, and an English buyer gets English."""
    _sale, item = make_flash_sale(stock=5, limit=1)
    buyer = make_user()
    headers, address_id, item_id = api_token(buyer), make_address(buyer).id, item.id
    assert client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers).status_code == 201
    with flask_requests(app) as handled:
        limited = [client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers) for _ in range(2)]
        client.set_cookie("lang", "en")
        english = [client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers) for _ in range(2)]
    assert len(handled) == 2  # the first of each language: Flask's answer, kept
    same_answer(*limited)
    same_answer(*english)
    assert limited[0].get_json()["error"] == {"code": "limit_reached", "message": "已达到每人限购数量"}
    assert english[0].get_json()["error"]["code"] == "limit_reached"
    assert english[0].get_json()["error"]["message"] != limited[0].get_json()["error"]["message"]


def test_not_started_is_answered_before_flask_too(app, client, make_flash_sale, make_user, make_address, api_token):
    _sale, item = make_flash_sale(stock=5, starts_in=timedelta(minutes=10))
    buyer = make_user()
    headers, address_id, item_id = api_token(buyer), make_address(buyer).id, item.id
    with flask_requests(app) as handled:
        answers = [client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [422] * 3 and len(handled) == 1
    assert answers[2].get_json()["error"]["code"] == "not_started"
    assert fastpath.left(get_redis(), item_id) == 5


def test_a_winner_repeating_their_key_after_the_sell_out_still_gets_their_payment(
        app, client, make_flash_sale, make_user, make_address, api_token):
    _sale, item = make_flash_sale(stock=1, limit=1)
    winner, loser = make_user(), make_user()
    item_id = item.id
    loser_headers, loser_address = api_token(loser), make_address(loser).id
    headers, address_id = api_token(winner), make_address(winner).id
    first = client.post(f"{BASE}/{item_id}/buy", json=body(address_id, key="winner-key-01"), headers=headers)
    assert first.status_code == 201
    for _ in range(2):  # a refusal kept for this language
        assert client.post(f"{BASE}/{item_id}/buy", json=body(loser_address), headers=loser_headers).status_code == 409
    with flask_requests(app) as handled:
        again = client.post(f"{BASE}/{item_id}/buy", json=body(address_id, key="winner-key-01"), headers=headers)
        other = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
    assert again.status_code == 201 and again.get_json()["payment"] == first.get_json()["payment"]
    assert len(handled) == 1  # the repeat went to Flask; the new key was refused before it
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "sold_out"
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1


def test_what_flask_would_answer_otherwise_goes_to_flask(app, client, make_flash_sale, make_user, make_address,
                                                         api_token):
    _sale, item = make_flash_sale(stock=1, limit=1)
    winner, loser = make_user(), make_user()
    client.post(f"{BASE}/{item.id}/buy", json=body(make_address(winner).id), headers=api_token(winner))
    headers, address_id, item_id = api_token(loser), make_address(loser).id, item.id
    for _ in range(2):
        assert client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers).status_code == 409
    url = f"{BASE}/{item_id}/buy"
    cases = [
        ({"Authorization": "Bearer not-a-token"}, body(address_id), 401),
        ({}, body(address_id), 401),
        (headers, {**body(address_id), "quantity": "1"}, 422),
        (headers, {**body(address_id), "quantity": 0}, 422),
        (headers, {**body(address_id), "note": "x"}, 422),
        (headers, {"quantity": 1, "idempotency_key": uuid.uuid4().hex}, 422),
        (headers, {**body(address_id), "idempotency_key": "short"}, 422),
        (headers, {**body(address_id), "address_id": True}, 422),
        (headers, {**body(address_id), "address_id": 2**40}, 422),
    ]
    with flask_requests(app) as handled:
        for sent_headers, sent, status in cases:
            answer = client.post(url, json=sent, headers=sent_headers)
            assert answer.status_code == status, (sent, answer.get_json())
        not_json = client.post(url, data="quantity=1", headers={**headers, "Content-Type": "text/plain"})
        assert not_json.status_code == 422
        almost = client.post(url, data=json.dumps(body(address_id)),
                             headers={**headers, "Content-Type": "application/jsonx"})
        assert almost.status_code == 422
        unknown_item = client.post(f"{BASE}/999999/buy", json=body(address_id), headers=headers)
        assert unknown_item.status_code in (404, 409)
    assert len(handled) == len(cases) + 3


def test_a_unit_given_back_goes_to_the_next_buyer_through_flask(app, client, make_flash_sale, make_user,
                                                                 make_address, api_token, run_jobs):
    _sale, item = make_flash_sale(stock=1, limit=1)
    winner, loser = make_user(), make_user()
    win = client.post(f"{BASE}/{item.id}/buy", json=body(make_address(winner).id), headers=api_token(winner))
    headers, address_id, item_id, winner_id = api_token(loser), make_address(loser).id, item.id, winner.id
    for _ in range(2):
        assert client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers).status_code == 409
    with transaction():
        order_services.cancel_by_buyer(winner_id, win.get_json()["orders"][0]["order_no"])
    run_jobs()
    assert fastpath.left(get_redis(), item_id) == 1
    answer = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert db.session.scalar(sa.select(FlashSaleItem.stock_sold).where(FlashSaleItem.id == item_id)) == 1


def test_the_check_takes_nothing(make_flash_sale, make_user):
    _sale, item = make_flash_sale(stock=2, limit=1)
    buyer = make_user()
    redis = get_redis()
    from app.core.clock import utcnow
    assert fastpath.check(redis, item.id, buyer.id, 1, "check-key-01", utcnow()) == fastpath.Take.TAKEN
    assert fastpath.check(redis, item.id, buyer.id, 2, "check-key-01", utcnow()) == fastpath.Take.LIMIT_REACHED
    assert fastpath.check(redis, item.id, buyer.id, 3, "check-key-01", utcnow()) == fastpath.Take.SOLD_OUT
    assert fastpath.left(redis, item.id) == 2 and fastpath.buyer_units(redis, item.id, buyer.id) == 0
    assert not redis.exists(f"flash:{{{item.id}}}:req:{buyer.id}:check-key-01")


def test_with_redis_stopped_every_buy_goes_to_flask(redis_server, app_on, make_flash_sale, make_user, make_address,
                                                    api_token):
    sale, item = make_flash_sale(stock=1, limit=1, load=False)
    sale_id = sale.id
    winner, loser = make_user(), make_user()
    winner_headers, winner_address = api_token(winner), make_address(winner).id
    headers, address_id, item_id = api_token(loser), make_address(loser).id, item.id
    db.session.remove()
    shop = app_on(redis_server)
    with shop.app_context():
        from app.flashsales import redis_sync
        redis_sync.rebuild_sale(sale_id)
    shop_client = shop.test_client()
    assert shop_client.post(f"{BASE}/{item_id}/buy", json=body(winner_address),
                            headers=winner_headers).status_code == 201
    for _ in range(2):
        assert shop_client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers).status_code == 409
    redis_server.kill()
    with flask_requests(shop) as handled:
        answer = shop_client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "sold_out"
    assert len(handled) == 1  # PostgreSQL refused it, in Flask
