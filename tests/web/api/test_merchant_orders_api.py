"""The merchant order API (X-Api-Key): the shop's orders and shipping them, scoped to the key's shop."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.merchants import api_keys
from app.orders.models import Order, OrderEvent, Shipment

BASE = "/api/v1/merchant"


@pytest.fixture
def shop(make_user, make_merchant):
    """A shop with an API key: (owner, merchant, headers)."""

    def make():
        owner = make_user()
        merchant = make_merchant(owner=owner)
        _key, raw = api_keys.create_key(owner, merchant.id, "ERP")
        db.session.commit()
        return owner, merchant, {"X-Api-Key": raw}

    return make


@pytest.fixture
def order_in(make_user, make_product, place_order, pay_sandbox):
    """An order of `merchant`'s product, paid unless asked otherwise; its order number."""

    def make(merchant, paid=True):
        product = make_product(merchant=merchant, stocks=(5,))
        payment = place_order(make_user(), [(product.skus[0].id, 1)], key=uuid.uuid4().hex)
        if paid:
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order.order_no).where(Order.payment_id == payment.id))

    return make


def state(order_no: str) -> tuple:
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no))
    shipments = db.session.scalar(sa.select(sa.func.count()).select_from(Shipment).where(Shipment.order_id == order.id))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id))
    return order.status, shipments, events


def test_list_filter_and_read_the_shops_orders(shop, order_in, client, count_queries):
    _owner, merchant, headers = shop()
    paid = [order_in(merchant) for _ in range(2)]
    unpaid = order_in(merchant, paid=False)
    _other_owner, other_shop, _h = shop()
    theirs = order_in(other_shop)

    listing = client.get(f"{BASE}/orders", headers=headers).json
    assert listing["total"] == 3 and {o["order_no"] for o in listing["items"]} == {*paid, unpaid}
    row = listing["items"][0]
    assert row["address"]["recipient"] == "王小明" and row["items"][0]["quantity"] == 1 and "out_trade_no" not in row
    to_ship = client.get(f"{BASE}/orders?status=paid", headers=headers).json
    assert {o["order_no"] for o in to_ship["items"]} == set(paid)
    assert client.get(f"{BASE}/orders?status=bogus", headers=headers).status_code == 422
    assert client.get(f"{BASE}/orders?per_page=1&page=3", headers=headers).json["items"][0]["order_no"] == paid[0]

    with count_queries() as few:
        client.get(f"{BASE}/orders?per_page=1", headers=headers)
    with count_queries() as many:
        client.get(f"{BASE}/orders?per_page=3", headers=headers)
    assert len(many) == len(few), many

    detail = client.get(f"{BASE}/orders/{paid[0]}", headers=headers).json
    assert detail["status"] == "paid" and detail["timeline"][-1]["to_status"] == "paid"
    response = client.get(f"{BASE}/orders/{theirs}", headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "order_not_found"


def test_ship_records_the_owner_and_tells_the_buyer(shop, order_in, client):
    owner, merchant, headers = shop()
    order_no = order_in(merchant)
    response = client.post(f"{BASE}/orders/{order_no}/ship", headers=headers,
                           json={"carrier": "shunfeng", "tracking_no": " sf1234567890 "})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "shipped" and body["shipment"]["tracking_no"] == "SF1234567890"
    assert body["shipment"]["carrier_name"] == "顺丰速运"
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no))
    assert order.shipment.shipped_by_id == owner.id
    event = db.session.scalar(sa.select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.to_status == "shipped"))
    assert event.actor_id == owner.id

    # shipping twice is refused and changes nothing
    before = state(order_no)
    response = client.post(f"{BASE}/orders/{order_no}/ship", headers=headers,
                           json={"carrier": "zhongtong", "tracking_no": "ZT1234567890"})
    assert response.status_code == 409 and response.json["error"]["code"] == "cannot_ship"
    assert state(order_no) == before


def test_another_shops_order_is_404_and_unchanged(shop, order_in, client):
    _owner, merchant, _headers = shop()
    _other_owner, _other_shop, other_headers = shop()
    order_no = order_in(merchant)
    before = state(order_no)
    response = client.post(f"{BASE}/orders/{order_no}/ship", headers=other_headers,
                           json={"carrier": "shunfeng", "tracking_no": "SF1234567890"})
    assert response.status_code == 404 and response.json["error"]["code"] == "order_not_found"
    assert state(order_no) == before


@pytest.mark.parametrize("body, status, code", [
    ({"carrier": "nope", "tracking_no": "SF1234567890"}, 422, "invalid_carrier"),
    ({"carrier": "shunfeng", "tracking_no": "12"}, 422, None),
    ({"carrier": "shunfeng"}, 422, "invalid"),
    ({"carrier": "shunfeng", "tracking_no": "SF1234567890", "extra": 1}, 422, "invalid"),
])
def test_bad_ship_input_is_refused(shop, order_in, client, body, status, code):
    _owner, merchant, headers = shop()
    order_no = order_in(merchant)
    before = state(order_no)
    response = client.post(f"{BASE}/orders/{order_no}/ship", headers=headers, json=body)
    assert response.status_code == status, response.json
    if code:
        assert response.json["error"]["code"] == code
    assert state(order_no) == before


def test_an_unpaid_order_cannot_be_shipped_and_keys_are_required(shop, order_in, client):
    _owner, merchant, headers = shop()
    order_no = order_in(merchant, paid=False)
    before = state(order_no)
    response = client.post(f"{BASE}/orders/{order_no}/ship", headers=headers,
                           json={"carrier": "shunfeng", "tracking_no": "SF1234567890"})
    assert response.status_code == 409 and state(order_no) == before
    for bad in ({}, {"X-Api-Key": "mk_not-a-key"}):
        assert client.get(f"{BASE}/orders", headers=bad).status_code == 401
        response = client.post(f"{BASE}/orders/{order_no}/ship", headers=bad,
                               json={"carrier": "shunfeng", "tracking_no": "SF1234567890"})
        assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"
    response = client.post(f"{BASE}/orders/{order_no}/ship", data="{oops",
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
    assert state(order_no) == before


def test_order_payloads_list_what_the_shop_may_do_now(shop, order_in, client):
    _owner, merchant, headers = shop()
    paid, unpaid = order_in(merchant), order_in(merchant, paid=False)
    assert client.get(f"{BASE}/orders/{paid}", headers=headers).json["actions"] == ["ship"]
    assert client.get(f"{BASE}/orders/{unpaid}", headers=headers).json["actions"] == []
    rows = {o["order_no"]: o["actions"] for o in client.get(f"{BASE}/orders", headers=headers).json["items"]}
    assert rows == {paid: ["ship"], unpaid: []}
    shipped = client.post(f"{BASE}/orders/{paid}/ship", headers=headers,
                          json={"carrier": "shunfeng", "tracking_no": "SF1234567890"}).json
    assert shipped["actions"] == ["add_tracking"]
    _other_owner, _other_shop, other_headers = shop()
    assert client.get(f"{BASE}/orders/{paid}", headers=other_headers).status_code == 404
