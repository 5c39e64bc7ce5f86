"""`/api/v1/flash-sales`: the buy endpoint's answers and its OpenAPI description."""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import fastpath
from app.flashsales.models import FlashSaleItem
from app.orders.models import Order

BASE = "/api/v1/flash-sales"


def body(address_id: int, quantity: int = 1, key: str | None = None) -> dict:
    return {"quantity": quantity, "address_id": address_id, "idempotency_key": key or uuid.uuid4().hex}


def test_a_winner_gets_201_like_a_checkout_and_a_repeat_gets_the_same(client, make_flash_sale, make_user,
                                                                      make_address, api_token):
    _sale, item = make_flash_sale(stock=2, limit=1, price_fen=1990)
    buyer = make_user()
    headers, address = api_token(buyer), make_address(buyer)
    item_id = item.id
    first = client.post(f"{BASE}/{item_id}/buy", json=body(address.id, key="same-key-001"), headers=headers)
    assert first.status_code == 201, first.get_json()
    data = first.get_json()
    assert data["payment"]["amount_fen"] == 1990 and data["orders"][0]["status"] == "pending_payment"
    assert "pay" in data["orders"][0]["actions"]
    again = client.post(f"{BASE}/{item_id}/buy", json=body(address.id, key="same-key-001"), headers=headers)
    assert again.status_code == 201 and again.get_json()["payment"] == data["payment"]
    other_key = client.post(f"{BASE}/{item_id}/buy", json=body(address.id), headers=headers)
    assert other_key.status_code == 409 and other_key.get_json()["error"]["code"] == "limit_reached"
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    listed = client.get(BASE).get_json()["items"]
    assert [(i["item_id"], i["price_fen"], i["sold_percent"], i["running"]) for i in listed] == [(item_id, 1990, 50, True)]


def test_a_winners_request_reads_each_thing_once(client, make_flash_sale, make_user, make_address, api_token,
                                                 count_queries):
    """The winner's checkout is the flash sale's cost (docs/flash-sales.md): the settings
    and the category tree in one read each, the key not looked up (the Lua take found it
    new), the new numbers checked in one statement, and the answer made before the commit
    instead of read back after it."""
    _sale, item = make_flash_sale(stock=2, limit=1)
    buyer = make_user()
    headers, address = api_token(buyer), make_address(buyer)
    item_id, address_id = item.id, address.id
    db.session.remove()
    with count_queries() as statements:
        answer = client.post(f"{BASE}/{item_id}/buy", json=body(address_id), headers=headers)
    assert answer.status_code == 201
    assert len([s for s in statements if "FROM platform_settings" in s]) == 1
    assert not [s for s in statements if "FROM payments" in s and "idempotency_key =" in s]
    assert len([s for s in statements if "FROM categories" in s]) == 1
    assert len([s for s in statements if "order_no IN" in s]) == 1
    assert len(statements) <= 17, "\n".join(statements)


def test_a_repeat_whose_redis_marker_was_lost_gets_its_payment_and_takes_nothing(client, make_flash_sale, make_user,
                                                                                 make_address, api_token):
    """Redis forgot the key (a restart): the Lua take lets the repeat through, and the
    payment's unique key, not a lookup first, finds the payment made before; the unit the
    repeat took in Redis goes back."""
    _sale, item = make_flash_sale(stock=5, limit=2)
    buyer = make_user()
    headers, address = api_token(buyer), make_address(buyer)
    item_id = item.id
    first = client.post(f"{BASE}/{item_id}/buy", json=body(address.id, key="lost-marker-01"), headers=headers)
    assert first.status_code == 201, first.get_json()
    redis = get_redis()
    assert redis.delete(f"flash:{{{item_id}}}:req:{buyer.id}:lost-marker-01") == 1
    again = client.post(f"{BASE}/{item_id}/buy", json=body(address.id, key="lost-marker-01"), headers=headers)
    assert again.status_code == 201 and again.get_json()["payment"] == first.get_json()["payment"]
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1
    assert db.session.scalar(sa.select(FlashSaleItem.stock_sold).where(FlashSaleItem.id == item_id)) == 1
    assert fastpath.left(redis, item_id) == 4 and fastpath.buyer_units(redis, item_id, buyer.id) == 1


def test_losers_and_bad_input_get_their_codes(client, make_flash_sale, make_user, make_address, api_token):
    _s1, sold = make_flash_sale(stock=1, limit=1)
    _s2, later = make_flash_sale(stock=1, starts_in=timedelta(hours=2))
    first, second = make_user(), make_user()
    h1, h2 = api_token(first), api_token(second)
    a1, a2 = make_address(first), make_address(second)
    sold_id, later_id = sold.id, later.id
    assert client.post(f"{BASE}/{sold_id}/buy", json=body(a1.id), headers=h1).status_code == 201
    cases = [
        (sold_id, body(a2.id), 409, "sold_out"),
        (later_id, body(a2.id), 422, "not_started"),
        (sold_id, body(a2.id, quantity=0), 422, "invalid_quantity"),
        (sold_id, body(a2.id, quantity=10**12), 422, "invalid"),
        (sold_id, {"address_id": a2.id, "idempotency_key": "short"}, 422, "invalid_idempotency_key"),
        (2**31 - 1, body(a2.id), 404, "flash_sale_item_not_found"),
    ]
    for item_id, payload, status, code in cases:
        answer = client.post(f"{BASE}/{item_id}/buy", json=payload, headers=h2)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code), (payload, answer.get_json())
    assert client.post(f"{BASE}/{sold_id}/buy", json=body(a2.id)).status_code == 401
    db.session.expire_all()
    assert db.session.get(FlashSaleItem, sold_id).stock_sold == 1


def test_someone_elses_address_is_refused_and_the_unit_stays(client, make_flash_sale, make_user, make_address,
                                                            api_token):
    _sale, item = make_flash_sale(stock=1)
    buyer, other = make_user(), make_user()
    headers, address = api_token(buyer), make_address(other)
    item_id = item.id
    answer = client.post(f"{BASE}/{item_id}/buy", json=body(address.id), headers=headers)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "address_not_found"
    db.session.expire_all()
    assert db.session.get(FlashSaleItem, item_id).stock_sold == 0


def test_the_openapi_document_states_the_buy_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    buy = spec["paths"]["/api/v1/flash-sales/{item_id}/buy"]["post"]
    assert {"201", "401", "404", "409", "422"} <= set(buy["responses"])
    assert "sold_out" in buy["responses"]["409"]["description"]
    assert "get" in spec["paths"]["/api/v1/flash-sales"]
