"""The buy endpoint tells who is calling from the token cache in Redis: a loser's whole
request (authentication included) runs no SQL, a revoked token stops working at once,
and a token the cache still vouches for wrongly can never buy."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.accounts import admin_services, token_cache
from app.accounts.models import ApiToken
from app.core.clock import utcnow
from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import buying, fastpath
from app.flashsales.models import FlashSaleItem
from app.orders.models import Order

BASE = "/api/v1/flash-sales"


def body(address_id: int) -> dict:
    return {"quantity": 1, "address_id": address_id, "idempotency_key": uuid.uuid4().hex}


def code(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["error"]["code"]


def token_of(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def test_a_losers_whole_request_runs_no_sql_even_to_authenticate(client, make_flash_sale, make_user, make_address,
                                                                  api_token, count_queries):
    _sale, item = make_flash_sale(stock=1, limit=1)
    winner, loser = make_user(), make_user()
    wh, lh = api_token(winner), api_token(loser)
    wa, la = make_address(winner), make_address(loser)
    item_id, loser_address = item.id, la.id
    assert client.post(f"{BASE}/{item_id}/buy", json=body(wa.id), headers=wh).status_code == 201
    db.session.remove()
    with count_queries() as statements:
        answer = client.post(f"{BASE}/{item_id}/buy", json=body(loser_address), headers=lh)
    assert code(answer) == (409, "sold_out") and statements == [], statements


def test_a_token_not_in_the_cache_is_checked_in_postgresql_and_then_remembered(client, make_flash_sale, make_user,
                                                                                make_address, api_token,
                                                                                count_queries):
    _sale, item = make_flash_sale(stock=1, limit=1)
    buyer = make_user()
    headers, address = api_token(buyer), make_address(buyer)
    item_id, address_id = item.id, address.id
    get_redis().delete(f"apitoken:{token_cache.digest(token_of(headers))}")  # e.g. Redis restarted
    get_redis().set(f"flash:{{{item_id}}}:left", 0)
    with count_queries() as first:
        assert code(client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)) == (409, "sold_out")
    assert any("api_tokens" in s for s in first)
    with count_queries() as second:
        assert code(client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)) == (409, "sold_out")
    assert second == []


def test_signing_out_or_a_ban_stops_the_token_at_once(client, make_flash_sale, make_user, make_address, api_token,
                                                     operator):
    _sale, item = make_flash_sale(stock=1, limit=1)
    get_redis().set(f"flash:{{{item.id}}}:left", 0)
    item_id = item.id
    leaving, banned = make_user(), make_user()
    lh, bh = api_token(leaving), api_token(banned)
    la, ba = make_address(leaving).id, make_address(banned).id
    assert code(client.post(f"{BASE}/{item_id}/buy", json=body(la), headers=lh)) == (409, "sold_out")
    assert code(client.post(f"{BASE}/{item_id}/buy", json=body(ba), headers=bh)) == (409, "sold_out")

    assert client.post("/api/v1/auth/logout", headers=lh).status_code in (200, 204)
    admin_services.ban_user(operator, banned, "刷单", None)
    db.session.commit()

    assert code(client.post(f"{BASE}/{item_id}/buy", json=body(la), headers=lh)) == (401, "unauthorized")
    assert code(client.post(f"{BASE}/{item_id}/buy", json=body(ba), headers=bh)) == (401, "unauthorized")


def test_a_token_the_cache_still_vouches_for_cannot_buy_and_its_unit_goes_back(client, make_flash_sale, make_user,
                                                                              make_address, api_token):
    _sale, item = make_flash_sale(stock=2, limit=1)
    buyer = make_user()
    headers, address = api_token(buyer), make_address(buyer)
    item_id, address_id = item.id, address.id
    # Revoked behind the services' back: the cache was not told (the documented bound).
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == buyer.id).values(revoked_at=utcnow()))
    db.session.commit()
    answer = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
    assert code(answer) == (401, "unauthorized")
    assert fastpath.left(get_redis(), item_id) == 2 and fastpath.buyer_units(get_redis(), item_id, buyer.id) == 0
    db.session.expire_all()
    assert db.session.get(FlashSaleItem, item_id).stock_sold == 0
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    # PostgreSQL said no: the cache stops vouching for it, so even a refusal now needs a live token.
    get_redis().set(f"flash:{{{item_id}}}:left", 0)
    assert code(client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)) == (401, "unauthorized")


def test_unknown_tokens_are_refused_before_the_body_is_read(client, make_flash_sale):
    _sale, item = make_flash_sale(stock=1)
    answer = client.post(f"{BASE}/{item.id}/buy", json={}, headers={"Authorization": "Bearer nope"})
    assert code(answer) == (401, "unauthorized")


def test_with_redis_unreachable_postgresql_decides_alone(app, client, make_flash_sale, make_user, make_address,
                                                        api_token):
    _sale, item = make_flash_sale(stock=1, limit=1)
    buyer, other = make_user(), make_user()
    bh, oh = api_token(buyer), api_token(other)
    ba, oa = make_address(buyer).id, make_address(other).id
    item_id = item.id
    holder = app.extensions["redis"]
    real = holder.client
    # Nothing listens there: every call is refused at once (no retries, as the app's own client).
    holder.client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    try:
        assert client.post(f"{BASE}/{item_id}/buy", json=body(ba), headers=bh).status_code == 201
        assert code(client.post(f"{BASE}/{item_id}/buy", json=body(oa), headers=oh)) == (409, "sold_out")
        assert code(client.post(f"{BASE}/{item_id}/buy", json=body(oa),
                                headers={"Authorization": "Bearer nope"})) == (401, "unauthorized")
    finally:
        holder.client = real
    db.session.expire_all()
    assert db.session.get(FlashSaleItem, item_id).stock_sold == 1


@pytest.fixture(autouse=True)
def _close_the_breakers(app):
    """The breakers are per app, and the session's app lives across tests: a test that
    took its Redis away must not leave them open for the next."""
    yield
    app.extensions.pop(token_cache.DOWN_UNTIL, None)
    app.extensions.pop(buying.GATE_KEY, None)
