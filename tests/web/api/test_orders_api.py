"""The buyer's order API: checkout, paying, the order lists and what a buyer does
with an order, each refusal answered cleanly and changing nothing."""
from __future__ import annotations

import base64
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.accounts.models import Address, Identity
from app.catalog.models import Sku
from app.extensions import db
from app.inventory.models import StockMovement
from app.merchants.models import MerchantMember
from app.orders.models import CartItem, Order, OrderEvent, Review
from app.payments.models import Payment
from tests.factories import png_bytes

BASE = "/api/v1"


def stock_of(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def order_state(order_no: str) -> tuple:
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_no == order_no))
    return order.status, order.stock_state, count(OrderEvent, OrderEvent.order_id == order.id)


@pytest.fixture
def buyer(make_user, make_address, api_token):
    """A buyer with a token and an address: (user, headers, address)."""

    def make():
        user = make_user()
        return user, api_token(user), make_address(user)

    return make


@pytest.fixture
def checkout(client):
    """POST /orders for `headers`; returns the response."""

    def submit(headers, address, items, key=None, **extra):
        body = {"items": [{"sku_id": s, "quantity": q} for s, q in items], "address_id": address.id,
                "idempotency_key": key or uuid.uuid4().hex, **extra}
        return client.post(f"{BASE}/orders", json=body, headers=headers)

    return submit


@pytest.fixture
def paid(buyer, make_product, checkout, pay_sandbox):
    """A paid order through the API: (buyer, headers, order_no, merchant_id, owner_id)."""

    def make(stocks=(5,)):
        user, headers, address = buyer()
        product = make_product(stocks=stocks)
        response = checkout(headers, address, [(product.skus[0].id, 1)])
        assert response.status_code == 201, response.json
        payment = response.json["payment"]
        assert pay_sandbox(SimpleNamespace(**payment)).status_code == 200
        order_no = response.json["orders"][0]["order_no"]
        owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
            MerchantMember.merchant_id == product.merchant_id))
        return user, headers, order_no, product.merchant_id, owner_id

    return make


def ship(order_no: str, merchant_id: int, owner_id: int) -> None:
    from app.core.db import transaction
    from app.orders import services

    with transaction():
        services.ship(owner_id, merchant_id, order_no, "shunfeng", "SF1234567890")


# --- checkout -------------------------------------------------------------------------------

def test_checkout_across_two_shops_and_the_same_key_again(buyer, make_product, checkout, client):
    user, headers, address = buyer()
    a, b = make_product(stocks=(5,), price_fen=1000), make_product(stocks=(3,), price_fen=2500)
    client.post(f"{BASE}/cart/items", json={"sku_id": a.skus[0].id, "quantity": 1}, headers=headers)
    key = "api-checkout-0001"
    response = checkout(headers, address, [(a.skus[0].id, 2), (b.skus[0].id, 1)], key=key,
                        notes={str(b.merchant_id): "请用纸箱"}, from_cart=True)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["payment"]["amount_fen"] == 2000 + 2500 and body["payment"]["status"] == "pending"
    assert sorted((o["merchant_id"], o["amount_fen"], o["status"]) for o in body["orders"]) == sorted(
        [(a.merchant_id, 2000, "pending_payment"), (b.merchant_id, 2500, "pending_payment")])
    assert stock_of(a.skus[0].id) == 3 and stock_of(b.skus[0].id) == 2
    assert count(CartItem, CartItem.user_id == user.id) == 0  # from_cart: the ordered line left the cart
    note = db.session.scalar(sa.select(Order.note).where(Order.merchant_id == b.merchant_id))
    assert note == "请用纸箱"

    again = checkout(headers, address, [(a.skus[0].id, 2), (b.skus[0].id, 1)], key=key)
    assert again.status_code == 201 and again.json == body
    assert count(Payment, Payment.buyer_id == user.id) == 1 and count(Order, Order.buyer_id == user.id) == 2
    assert stock_of(a.skus[0].id) == 3


def test_short_stock_is_a_clean_409_naming_each_short_sku(buyer, make_product, checkout):
    user, headers, address = buyer()
    plenty, scarce = make_product(stocks=(9,)), make_product(stocks=(1,))
    response = checkout(headers, address, [(plenty.skus[0].id, 2), (scarce.skus[0].id, 2)])
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "out_of_stock" and error["message"]
    assert list(error["fields"]) == [str(scarce.skus[0].id)]
    assert error["skus"] == [{"sku_id": scarce.skus[0].id, "wanted": 2, "available": 1}]
    assert stock_of(plenty.skus[0].id) == 9 and stock_of(scarce.skus[0].id) == 1
    assert count(Payment, Payment.buyer_id == user.id) == 0
    assert count(StockMovement, StockMovement.reason == "order_reserve") == 0


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_bad_quantities_are_422_and_change_nothing(buyer, make_product, checkout, quantity):
    user, headers, address = buyer()
    product = make_product(stocks=(5,))
    response = checkout(headers, address, [(product.skus[0].id, quantity)])
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_quantity"
    assert stock_of(product.skus[0].id) == 5 and count(Payment, Payment.buyer_id == user.id) == 0


def test_off_sale_products_and_suspended_shops_are_refused(buyer, make_product, checkout):
    user, headers, address = buyer()
    off = make_product(status="off_sale")
    closed = make_product()
    closed.merchant.status = "suspended"
    db.session.commit()
    for product in (off, closed):
        response = checkout(headers, address, [(product.skus[0].id, 1)])
        assert response.status_code == 409 and response.json["error"]["code"] == "product_unavailable"
        assert str(product.skus[0].id) in response.json["error"]["fields"]
        assert stock_of(product.skus[0].id) == 10
    assert count(Payment, Payment.buyer_id == user.id) == 0


def test_someone_elses_address_is_404_and_nothing_is_reserved(buyer, make_product, checkout):
    user, headers, _address = buyer()
    _other, _other_headers, other_address = buyer()
    product = make_product(stocks=(5,))
    response = checkout(headers, other_address, [(product.skus[0].id, 1)])
    assert response.status_code == 404 and response.json["error"]["code"] == "address_not_found"
    assert stock_of(product.skus[0].id) == 5 and count(Payment, Payment.buyer_id == user.id) == 0


@pytest.mark.parametrize("raw, status", [
    ("{not json", 400),
    ("[]", 422),
    ('{"items": [{"sku_id": 1, "quantity": "2"}], "address_id": 1, "idempotency_key": "abcdefgh1"}', 422),
    ('{"items": [], "address_id": 1, "idempotency_key": "abcdefgh1"}', 422),
    ('{"items": [{"sku_id": 1, "quantity": 1}], "address_id": 1}', 422),
    ('{"items": [{"sku_id": 1, "quantity": 1}], "address_id": 1, "idempotency_key": "bad key!"}', 422),
])
def test_malformed_bodies_are_refused_without_a_500(buyer, client, raw, status):
    _user, headers, _address = buyer()
    response = client.post(f"{BASE}/orders", data=raw, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] in ("bad_request", "invalid", "invalid_idempotency_key")


def test_nested_field_errors_are_named(buyer, client):
    _user, headers, address = buyer()
    response = client.post(f"{BASE}/orders", headers=headers, json={
        "items": [{"sku_id": 1, "quantity": "two"}], "address_id": address.id, "idempotency_key": "abcdefgh1"})
    assert response.status_code == 422 and "items.0.quantity" in response.json["error"]["fields"]


def test_the_order_endpoints_need_a_token(client):
    for method, path in [("post", "/orders"), ("get", "/orders"), ("get", "/orders/X1"),
                         ("post", "/orders/X1/cancel"), ("post", "/payments/P1/pay")]:
        kwargs = {"json": {"provider": "sandbox"}} if path.endswith("/pay") else {}
        if method == "post" and path == "/orders":
            kwargs = {"json": {"items": [{"sku_id": 1, "quantity": 1}], "address_id": 1,
                               "idempotency_key": "abcdefgh1"}}
        response = getattr(client, method)(f"{BASE}{path}", **kwargs)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized", path


# --- paying ---------------------------------------------------------------------------------

def test_pay_with_the_sandbox_and_someone_elses_payment_is_404(buyer, make_product, checkout, client):
    _user, headers, address = buyer()
    product = make_product(stocks=(5,), price_fen=1990)
    trade_no = checkout(headers, address, [(product.skus[0].id, 1)]).json["payment"]["out_trade_no"]

    _other, other_headers, _a = buyer()
    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "sandbox"}, headers=other_headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "payment_not_found"
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment.provider).where(Payment.out_trade_no == trade_no)) is None

    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "nope"}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "provider_unavailable"

    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "sandbox"}, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["out_trade_no"] == trade_no and body["amount_fen"] == 1990 and body["provider"] == "sandbox"
    assert body["pay_url"] == f"http://localhost/payments/sandbox/{trade_no}"
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment.provider).where(Payment.out_trade_no == trade_no)) == "sandbox"


def test_paying_a_paid_payment_is_409(paid, client):
    _user, headers, order_no, _m, _o = paid()
    trade_no = client.get(f"{BASE}/orders/{order_no}", headers=headers).json["out_trade_no"]
    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "sandbox"}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "already_paid"


@pytest.fixture
def wechatpay_fake(app, monkeypatch):
    from tests.payments.fakes import FakeWechatPay, WechatKeys

    fake = FakeWechatPay(WechatKeys.generate())
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


def test_wechat_jsapi_pays_as_the_buyers_mini_program_openid(buyer, make_product, checkout, client, wechatpay_fake):
    user, headers, address = buyer()
    product = make_product(stocks=(5,), price_fen=1990)
    trade_no = checkout(headers, address, [(product.skus[0].id, 1)]).json["payment"]["out_trade_no"]
    # without a mini-program identity there is no payer to name
    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "wechatpay"}, headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "wechat_openid_required"

    db.session.add(Identity(user_id=user.id, provider="wechat_web", subject="o-web-openid"))
    db.session.add(Identity(user_id=user.id, provider="wechat_mp", subject="o-mini-program-openid"))
    db.session.commit()
    response = client.post(f"{BASE}/payments/{trade_no}/pay", json={"provider": "wechatpay", "channel": "jsapi"},
                           headers=headers)
    assert response.status_code == 200, response.json
    params = response.json["request_payment"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"].startswith("prepay_id=") and "pay_url" not in response.json
    assert wechatpay_fake.trades[trade_no].openid == "o-mini-program-openid"


# --- the buyer's orders -----------------------------------------------------------------------

def test_order_list_tabs_detail_and_query_count(paid, buyer, make_product, checkout, client, count_queries):
    user, headers, paid_no, _merchant_id, _owner = paid()
    address = db.session.scalar(sa.select(Address).where(Address.user_id == user.id))
    for _ in range(3):
        product = make_product(stocks=(5,))
        assert checkout(headers, address, [(product.skus[0].id, 1)]).status_code == 201

    listing = client.get(f"{BASE}/orders", headers=headers).json
    assert listing["total"] == 4 and len(listing["items"]) == 4
    first = listing["items"][0]
    assert first["status"] == "pending_payment" and first["out_trade_no"] and first["items"][0]["quantity"] == 1
    assert first["merchant"]["name"]
    tabs = {tab: client.get(f"{BASE}/orders?status={tab}", headers=headers).json["total"]
            for tab in ("all", "pending_payment", "to_ship", "to_receive", "to_review")}
    assert tabs == {"all": 4, "pending_payment": 3, "to_ship": 1, "to_receive": 0, "to_review": 0}
    page = client.get(f"{BASE}/orders?page=2&per_page=3", headers=headers).json
    assert (page["total"], len(page["items"]), page["page"]) == (4, 1, 2)
    assert client.get(f"{BASE}/orders?status=bogus", headers=headers).status_code == 422

    with count_queries() as few:
        client.get(f"{BASE}/orders?per_page=1", headers=headers)
    with count_queries() as many:
        client.get(f"{BASE}/orders?per_page=4", headers=headers)
    assert len(many) == len(few), many

    detail = client.get(f"{BASE}/orders/{paid_no}", headers=headers).json
    assert detail["status"] == "paid" and detail["payment_status"] == "paid"
    assert detail["address"]["recipient"] == "王小明" and detail["address"]["phone"] == "13900001111"
    assert [e["to_status"] for e in detail["timeline"]] == ["pending_payment", "paid"]
    assert detail["shipment"] is None

    # another buyer sees none of it
    _other, other_headers, _a = buyer()
    assert client.get(f"{BASE}/orders", headers=other_headers).json["total"] == 0
    response = client.get(f"{BASE}/orders/{paid_no}", headers=other_headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "order_not_found"


def test_cancel_an_unpaid_order_and_refusals(buyer, paid, make_product, checkout, client):
    user, headers, address = buyer()
    product = make_product(stocks=(5,))
    order_no = checkout(headers, address, [(product.skus[0].id, 2)]).json["orders"][0]["order_no"]
    assert stock_of(product.skus[0].id) == 3

    _other, other_headers, _a = buyer()
    before = order_state(order_no)
    response = client.post(f"{BASE}/orders/{order_no}/cancel", headers=other_headers)
    assert response.status_code == 404 and order_state(order_no) == before

    response = client.post(f"{BASE}/orders/{order_no}/cancel", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] == "buyer" and stock_of(product.skus[0].id) == 5
    response = client.post(f"{BASE}/orders/{order_no}/cancel", headers=headers)
    assert response.status_code == 409 and stock_of(product.skus[0].id) == 5

    # a paid order cannot be cancelled here (after-sales refunds it)
    _u, paid_headers, paid_no, _m, _o = paid()
    before = order_state(paid_no)
    response = client.post(f"{BASE}/orders/{paid_no}/cancel", headers=paid_headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "cannot_cancel"
    assert order_state(paid_no) == before


def test_confirm_receipt_tracking_and_reviews(paid, buyer, client):
    user, headers, order_no, merchant_id, owner_id = paid()
    response = client.post(f"{BASE}/orders/{order_no}/confirm-receipt", headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "cannot_confirm"
    assert order_state(order_no)[0] == "paid"
    response = client.get(f"{BASE}/orders/{order_no}/tracking", headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "not_shipped"
    item_id = client.get(f"{BASE}/orders/{order_no}", headers=headers).json["items"][0]["id"]
    response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=headers,
                           json={"item_id": item_id, "rating": 5, "text": "好"})
    assert response.status_code == 409 and response.json["error"]["code"] == "not_received"

    ship(order_no, merchant_id, owner_id)
    tracking = client.get(f"{BASE}/orders/{order_no}/tracking", headers=headers).json
    assert tracking["carrier"] == "shunfeng" and tracking["carrier_name"] == "顺丰速运"
    assert tracking["tracking_no"] == "SF1234567890" and tracking["events"][0]["description"] == "商家已发货"

    _other, other_headers, _a = buyer()
    assert client.post(f"{BASE}/orders/{order_no}/confirm-receipt", headers=other_headers).status_code == 404
    assert client.get(f"{BASE}/orders/{order_no}/tracking", headers=other_headers).status_code == 404
    assert order_state(order_no)[0] == "shipped"

    response = client.post(f"{BASE}/orders/{order_no}/confirm-receipt", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "received" and response.json["to_review"]

    # someone else cannot review it, and an item id must belong to the order in the path
    response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=other_headers,
                           json={"item_id": item_id, "rating": 5})
    assert response.status_code == 404
    response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=headers,
                           json={"item_id": item_id + 10_000, "rating": 5})
    assert response.status_code == 404 and response.json["error"]["code"] == "order_item_not_found"
    for bad in ({"item_id": item_id, "rating": 6}, {"item_id": item_id, "rating": 5, "images": ["%%%"]},
                {"item_id": item_id, "rating": 5, "images": [base64.b64encode(b"not an image").decode()]}):
        response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=headers, json=bad)
        assert response.status_code == 422, (bad, response.json)
    assert count(Review, Review.buyer_id == user.id) == 0

    response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=headers, json={
        "item_id": item_id, "rating": 4, "text": "很新鲜", "anonymous": True,
        "images": [base64.b64encode(png_bytes()).decode()]})
    assert response.status_code == 201, response.json
    assert response.json["rating"] == 4 and response.json["image_count"] == 1 and response.json["anonymous"]
    response = client.post(f"{BASE}/orders/{order_no}/reviews", headers=headers,
                           json={"item_id": item_id, "rating": 5, "text": "再评"})
    assert response.status_code == 409 and response.json["error"]["code"] == "already_reviewed"
    assert count(Review, Review.buyer_id == user.id) == 1
    detail = client.get(f"{BASE}/orders/{order_no}", headers=headers).json
    assert detail["items"][0]["reviewed"] and not detail["to_review"]
    assert client.get(f"{BASE}/orders?status=to_review", headers=headers).json["total"] == 0


# --- what the caller may do (actions) and the changed-total check ------------------------------

def test_each_order_payload_lists_what_the_buyer_may_do_now(buyer, paid, make_product, checkout, client):
    user, headers, address = buyer()
    product = make_product(stocks=(5,))
    created = checkout(headers, address, [(product.skus[0].id, 1)])
    assert created.json["orders"][0]["actions"] == ["pay", "cancel"]
    unpaid_no = created.json["orders"][0]["order_no"]
    assert client.get(f"{BASE}/orders/{unpaid_no}", headers=headers).json["actions"] == ["pay", "cancel"]

    _u, paid_headers, order_no, merchant_id, owner_id = paid()
    # paid: nothing for the buyer to do (a paid order is not cancelled here; after-sales refunds it)
    assert client.get(f"{BASE}/orders/{order_no}", headers=paid_headers).json["actions"] == []
    ship(order_no, merchant_id, owner_id)
    listing = client.get(f"{BASE}/orders?status=to_receive", headers=paid_headers).json
    assert [o["actions"] for o in listing["items"]] == [["confirm_receipt"]]
    received = client.post(f"{BASE}/orders/{order_no}/confirm-receipt", headers=paid_headers).json
    assert received["actions"] == ["review"]
    cancelled = client.post(f"{BASE}/orders/{unpaid_no}/cancel", headers=headers).json
    assert cancelled["actions"] == []
    # another buyer's order is still a 404, not an empty list of actions
    assert client.get(f"{BASE}/orders/{order_no}", headers=headers).status_code == 404


def test_checkout_refuses_a_total_the_buyer_did_not_see(buyer, make_product, checkout):
    user, headers, address = buyer()
    product = make_product(stocks=(5,), price_fen=1000)
    sku_id = product.skus[0].id
    db.session.execute(sa.update(Sku).where(Sku.id == sku_id).values(price_fen=1500))
    db.session.commit()
    response = checkout(headers, address, [(sku_id, 2)], expected_total_fen=2000)
    assert response.status_code == 409 and response.json["error"]["code"] == "total_changed"
    assert "价格或运费有变化" in response.json["error"]["message"]
    assert count(Payment, Payment.buyer_id == user.id) == 0 and count(Order, Order.buyer_id == user.id) == 0
    assert stock_of(sku_id) == 5
    response = checkout(headers, address, [(sku_id, 2)], expected_total_fen=3000)
    assert response.status_code == 201 and response.json["payment"]["amount_fen"] == 3000
    # without it, the total is not checked (older clients)
    assert checkout(headers, address, [(sku_id, 1)]).status_code == 201
