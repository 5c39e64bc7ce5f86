"""The merchant after-sales API (X-Api-Key, issue 12): the shop's requests listed and
read, and its answers (approve, reject, receive, refund, ship-replacement), scoped to the
key's shop (another shop's number is a 404 and changes nothing), bad bodies a 422 that
changes nothing, stale answers a 409; the contract's shapes."""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import User
from app.aftersales import disputes, services
from app.aftersales.models import AfterSale, AfterSaleEvent
from app.catalog.models import Sku
from app.core.db import transaction
from app.extensions import db
from app.merchants import api_keys
from tests.aftersales.conftest import apply, default_address_id, owner_of, receive, ship
from tests.factories import png_bytes

BASE = "/api/v1/merchant"


def key_for(order) -> dict:
    owner = db.session.get(User, owner_of(order).user_id)
    _key, raw = api_keys.create_key(owner, order.merchant_id, "ERP")
    db.session.commit()
    return {"X-Api-Key": raw}


def state(aftersale) -> tuple:
    db.session.expire_all()
    status = db.session.scalar(sa.select(AfterSale.status).where(AfterSale.id == aftersale.id))
    events = db.session.scalar(sa.select(sa.func.count(AfterSaleEvent.id))
                               .where(AfterSaleEvent.aftersale_id == aftersale.id))
    return status, events


def received(bought, **kwargs):
    return receive(ship(bought(**kwargs)))


def test_list_filter_page_and_read_the_shops_requests(bought, client, count_queries):
    order = received(bought, quantity=1, products=3)
    headers = key_for(order)
    first = apply(order, kind="return_refund", item=0, description="盒子压坏了", images=[png_bytes()])
    second = apply(order, kind="exchange", item=1, reason="size_color")
    theirs = apply(received(bought), kind="return_refund")

    listing = client.get(f"{BASE}/aftersales", headers=headers).json
    assert listing["total"] == 2 and [a["aftersale_no"] for a in listing["items"]] == [second.aftersale_no,
                                                                                     first.aftersale_no]
    row = listing["items"][1]
    assert row["status"] == "pending" and row["kind"] == "return_refund" and row["reason"] == "quality"
    assert row["reason_text"] == "质量问题" and row["refund_fen"] == 9900 and row["order_no"] == order.order_no
    assert row["actions"] == ["approve", "refund", "reject"] and row["due_at"] and row["quantity"] == 1
    assert row["lines"][0]["order_item_id"] == order.items[0].id and row["lines"][0]["quantity"] == 1
    assert set(row["lines"][0]) == {"order_item_id", "product_id", "sku_id", "title", "spec_text", "image_url",
                                    "quantity", "item_quantity", "refunded_quantity", "refund_fen"}
    assert client.get(f"{BASE}/aftersales?status=awaiting_return", headers=headers).json["total"] == 0
    assert client.get(f"{BASE}/aftersales?status=pending&per_page=1&page=2",
                      headers=headers).json["items"][0]["aftersale_no"] == first.aftersale_no
    for bad in ("status=bogus", "page=0", "per_page=1000", "page=abc"):
        response = client.get(f"{BASE}/aftersales?{bad}", headers=headers)
        assert response.status_code == 422 and response.json["error"]["code"] == "invalid", bad

    apply(order, kind="refund_only", item=2)
    with count_queries() as few:
        client.get(f"{BASE}/aftersales?per_page=1", headers=headers)
    with count_queries() as many:
        client.get(f"{BASE}/aftersales?per_page=3", headers=headers)
    assert len(many) == len(few), many

    detail = client.get(f"{BASE}/aftersales/{first.aftersale_no}", headers=headers).json
    assert detail["description"] == "盒子压坏了" and detail["return_address"] is None and detail["dispute"] is None
    assert detail["timeline"][0]["to_status"] == "pending" and detail["return_parcel"] is None
    # the evidence is fetched with the same key, and with no other
    image = detail["images"][0]
    for url in (image["url"], image["thumb_url"]):
        path = url.split("localhost", 1)[1]
        response = client.get(path, headers=headers)
        assert response.status_code == 200 and response.mimetype.startswith("image/")
        assert client.get(path, headers=key_for(theirs_order(theirs))).status_code == 404
        assert client.get(path).status_code == 401
    response = client.get(f"{BASE}/aftersales/{theirs.aftersale_no}", headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "aftersale_not_found"


def theirs_order(aftersale):
    from app.orders.models import Order
    return db.session.get(Order, aftersale.order_id)


def test_approve_a_return_needs_an_address_of_the_shops(bought, client):
    order = received(bought)
    headers = key_for(order)
    aftersale = apply(order, kind="return_refund")
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}/approve"
    other_address = default_address_id(received(bought))
    before = state(aftersale)
    for body, code in (({}, "return_address_required"), ({"return_address_id": None}, "return_address_required"),
                       ({"return_address_id": other_address}, "return_address_required"),
                       ({"return_address_id": "1"}, "invalid"), ({"return_address_id": 0}, "invalid"),
                       ({"return_address_id": 2**31}, "invalid"), ({"extra": 1}, "invalid")):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422 and response.json["error"]["code"] == code, body
    assert state(aftersale) == before

    addresses = client.get(f"{BASE}/return-addresses", headers=headers).json["items"]
    assert addresses == [{"id": default_address_id(order), "label": "仓库", "recipient": "售后部",
                          "phone": "057100000000", "address": "浙江省杭州市余杭区仓前街道 1 号", "is_default": True}]
    response = client.post(url, json={"return_address_id": addresses[0]["id"]}, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "awaiting_return" and body["actions"] == ["refund"]
    assert body["return_address"] == {"recipient": "售后部", "phone": "057100000000",
                                      "address": "浙江省杭州市余杭区仓前街道 1 号"}
    event = db.session.scalar(sa.select(AfterSaleEvent).where(AfterSaleEvent.aftersale_id == aftersale.id,
                                                              AfterSaleEvent.to_status == "awaiting_return"))
    assert event.actor_id == owner_of(order).user_id  # the key acts as the owner
    # approving again is stale: 409, nothing changes
    before = state(aftersale)
    response = client.post(url, json={"return_address_id": addresses[0]["id"]}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "aftersale_cannot_act"
    assert state(aftersale) == before


def test_approve_a_refund_only_refunds_it(bought, client, run_jobs):
    order = bought(quantity=1, auto_refund=False)
    headers = key_for(order)
    aftersale = apply(order, kind="refund_only")
    response = client.post(f"{BASE}/aftersales/{aftersale.aftersale_no}/approve", json={}, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "refunding"
    run_jobs()
    body = client.get(f"{BASE}/aftersales/{aftersale.aftersale_no}", headers=headers).json
    assert body["status"] == "refunded" and body["lines"][0]["refund_fen"] == 9900
    assert body["lines"][0]["refunded_quantity"] == 1 and body["actions"] == []


def test_reject_with_a_reason(bought, client):
    order = received(bought)
    headers = key_for(order)
    aftersale = apply(order, kind="exchange")
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}/reject"
    before = state(aftersale)
    for body, code in (({}, "invalid"), ({"reason": 5}, "invalid"), ({"reason": "x"}, "reject_reason_required"),
                       ({"reason": "长" * 201}, "reject_reason_required")):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422 and response.json["error"]["code"] == code, body
    assert state(aftersale) == before
    response = client.post(url, json={"reason": "商品吊牌已剪，不支持换货"}, headers=headers)
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and response.json["reject_reason"] == "商品吊牌已剪，不支持换货"


def test_receive_a_return_with_or_without_restock(bought, client):
    order = received(bought, quantity=2)
    sku_id = order.items[0].sku_id
    headers = key_for(order)
    aftersale = apply(order, kind="return_refund", quantity=2)
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}"
    # not returned yet: stale
    response = client.post(f"{url}/receive", json={"restock": True}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "aftersale_cannot_act"
    client.post(f"{url}/approve", json={"return_address_id": default_address_id(order)}, headers=headers)
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "yuantong", "YT9988776655")
    body = client.get(url, headers=headers).json
    assert body["return_parcel"] == {"carrier": "yuantong", "carrier_name": "圆通速递", "tracking_no": "YT9988776655",
                                     "shipped_at": body["return_parcel"]["shipped_at"], "received_at": None,
                                     "restocked": None}
    assert body["actions"] == ["receive", "refund"]
    before = state(aftersale)
    for bad in ({}, {"restock": "yes"}, {"restock": "true"}, {"restock": None}):
        response = client.post(f"{url}/receive", json=bad, headers=headers)
        assert response.status_code == 422 and response.json["error"]["code"] == "invalid", bad
    assert state(aftersale) == before
    db.session.expire_all()
    stock = db.session.get(Sku, sku_id).stock
    response = client.post(f"{url}/receive", json={"restock": False}, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "refunding"
    assert response.json["return_parcel"]["restocked"] is False and response.json["return_parcel"]["received_at"]
    db.session.expire_all()
    assert db.session.get(Sku, sku_id).stock == stock  # damaged: not back on the shelf


def test_an_exchange_is_received_then_the_replacement_shipped(bought, client):
    order = received(bought, quantity=1, stocks=(3,))
    headers = key_for(order)
    aftersale = apply(order, kind="exchange", reason="size_color")
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}"
    client.post(f"{url}/approve", json={"return_address_id": default_address_id(order)}, headers=headers)
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF2222333344")
    response = client.post(f"{url}/ship-replacement", json={"carrier": "shunfeng", "tracking_no": "SF5555666677"},
                           headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "return_not_received"
    assert client.post(f"{url}/receive", json={"restock": True}, headers=headers).json["actions"] == [
        "ship_replacement", "refund"]
    before = state(aftersale)
    for body, status in (({"carrier": "nope", "tracking_no": "SF5555666677"}, 422), ({"carrier": "shunfeng"}, 422),
                         ({"carrier": "shunfeng", "tracking_no": "12"}, 422)):
        assert client.post(f"{url}/ship-replacement", json=body, headers=headers).status_code == status, body
    assert state(aftersale) == before
    response = client.post(f"{url}/ship-replacement", json={"carrier": "shunfeng", "tracking_no": "sf5555666677"},
                           headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "exchange_shipped" and body["replacement_parcel"]["tracking_no"] == "SF5555666677"
    assert body["replacement_parcel"]["carrier_name"] == "顺丰速运"


def test_refund_at_once_and_while_disputed(bought, client):
    order = received(bought, quantity=2)
    headers = key_for(order)
    aftersale = apply(order, kind="return_refund", quantity=1)
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}"
    client.post(f"{url}/reject", json={"reason": "不符合退货条件"}, headers=headers)
    assert client.post(f"{url}/refund", headers=headers).status_code == 409
    with transaction():
        disputes.escalate(order.buyer_id, aftersale.aftersale_no, "商品有质量问题")
    body = client.get(url, headers=headers).json
    assert body["status"] == "disputed" and body["dispute"]["buyer_statement"] == "商品有质量问题"
    assert body["actions"] == ["state", "refund"]
    response = client.post(f"{url}/refund", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "refunding"


def test_another_shops_key_gets_404_everywhere_and_nothing_changes(bought, client):
    order = received(bought)
    aftersale = apply(order, kind="return_refund")
    other_headers = key_for(received(bought))
    url = f"{BASE}/aftersales/{aftersale.aftersale_no}"
    before = state(aftersale)
    for path, body in (("/approve", {"return_address_id": default_address_id(order)}), ("/reject", {"reason": "不行不行"}),
                       ("/receive", {"restock": True}), ("/refund", None),
                       ("/ship-replacement", {"carrier": "shunfeng", "tracking_no": "SF5555666677"})):
        response = client.post(url + path, json=body, headers=other_headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "aftersale_not_found", path
        assert client.post(url + path, json=body).status_code == 401, path
    assert client.get(url, headers=other_headers).status_code == 404
    assert client.get(f"{BASE}/aftersales", headers=other_headers).json["total"] == 0
    assert state(aftersale) == before


def test_the_document_describes_the_merchant_aftersales_operations(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path, method, statuses in (
        ("/api/v1/merchant/aftersales", "get", {"200", "401", "422"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}", "get", {"200", "401", "404"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}/approve", "post", {"200", "401", "404", "409", "422"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}/reject", "post", {"200", "401", "404", "409", "422"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}/receive", "post", {"200", "401", "404", "409", "422"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}/refund", "post", {"200", "401", "404", "409"}),
        ("/api/v1/merchant/aftersales/{aftersale_no}/ship-replacement", "post", {"200", "401", "404", "409", "422"}),
        ("/api/v1/merchant/return-addresses", "get", {"200", "401"}),
    ):
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), (path, sorted(operation["responses"]))
        assert operation["security"] == [{"merchant_api_key": []}], path
    status = next(p for p in paths["/api/v1/merchant/aftersales"]["get"]["parameters"] if p["name"] == "status")
    assert "awaiting_return" in status["schema"]["enum"]
