"""The buyer's after-sales API (issue 12, pinned): applying (201 with the number, status
and refund; 409 aftersale_not_allowed; 404 for someone else's order; 422 for bad
fields), the list and a request with its timeline, return address and actions, and each
action (return shipment, cancel, escalate, reapply, confirm replacement, the thread),
each refusal answered cleanly and changing nothing; order payloads name the open request."""
from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from app.aftersales import services
from app.aftersales.models import AfterSale, Dispute, DisputeMessage
from app.core.db import transaction
from app.extensions import db
from app.orders.models import OrderItem
from tests.aftersales.conftest import default_address_id, owner_of
from tests.factories import png_bytes

BASE = "/api/v1"


@pytest.fixture
def shopper(make_user, api_token):
    """A buyer and their bearer headers: (user, headers)."""

    def make():
        user = make_user()
        return user, api_token(user)

    return make


def body(order, quantity=1, kind="return_refund", reason="quality", **extra) -> dict:
    return {"order_no": order.order_no, "items": [{"order_item_id": order.items[0].id, "quantity": quantity}],
            "kind": kind, "reason": reason, **extra}


def requests_of(order) -> list[AfterSale]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AfterSale).where(AfterSale.order_id == order.id)))


def status_of(no: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(AfterSale.status).where(AfterSale.aftersale_no == no))


def apply(client, headers, order, **kwargs) -> str:
    response = client.post(f"{BASE}/aftersales", json=body(order, **kwargs), headers=headers)
    assert response.status_code == 201, response.json
    return response.json["aftersale_no"]


def approve(no: str, order) -> None:
    with transaction():
        services.approve(owner_of(order), no, default_address_id(order))


def reject(no: str, order) -> None:
    with transaction():
        services.reject(owner_of(order), no, "商品没有质量问题")


# --- applying --------------------------------------------------------------------------------

def test_apply_answers_201_with_the_pinned_shape(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received", quantity=2)
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    response = client.post(f"{BASE}/aftersales", headers=headers, json=body(
        order, description="有划痕", images=[data_url, base64.b64encode(png_bytes()).decode()]))
    assert response.status_code == 201
    assert set(response.json) == {"aftersale_no", "status", "refund_fen"}
    assert response.json["status"] == "pending" and response.json["refund_fen"] == 9900
    [made] = requests_of(order)
    assert made.aftersale_no == response.json["aftersale_no"] and len(made.images) == 2


def test_a_refund_only_before_shipping_is_refunding_at_once(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "paid", quantity=2, shipping_fen=500)
    response = client.post(f"{BASE}/aftersales", headers=headers,
                           json=body(order, quantity=2, kind="refund_only", reason="no_longer_wanted"))
    assert response.status_code == 201
    assert response.json["status"] == "refunding" and response.json["refund_fen"] == 2 * 9900 + 500


@pytest.mark.parametrize("case", ["window", "open", "too_many", "kind_before_shipping"])
def test_409_aftersale_not_allowed(client, shopper, sold, case):
    from datetime import timedelta

    from app.core.clock import travel

    user, headers = shopper()
    order = sold(user, "paid" if case == "kind_before_shipping" else "received", quantity=2)
    if case == "open":
        apply(client, headers, order, kind="refund_only")
    before = len(requests_of(order))
    payload = body(order, quantity=3 if case == "too_many" else 1)
    if case == "window":
        with travel(timedelta(days=8)):
            response = client.post(f"{BASE}/aftersales", headers=headers, json=payload)
    else:
        response = client.post(f"{BASE}/aftersales", headers=headers, json=payload)
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "aftersale_not_allowed" and response.json["error"]["message"]
    assert len(requests_of(order)) == before


def test_someone_elses_order_is_404_and_nothing_is_made(client, shopper, sold):
    owner, _headers = shopper()
    _stranger, stranger_headers = shopper()
    order = sold(owner, "received")
    response = client.post(f"{BASE}/aftersales", headers=stranger_headers, json=body(order))
    assert response.status_code == 404 and response.json["error"]["code"] == "order_not_found"
    other_item = sold(owner, "received").items[0].id
    mine, my_headers = shopper()
    my_order = sold(mine, "received")
    payload = body(my_order)
    payload["items"][0]["order_item_id"] = other_item
    response = client.post(f"{BASE}/aftersales", headers=my_headers, json=payload)
    assert response.status_code == 404
    assert requests_of(order) == [] and requests_of(my_order) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "swap"}, "kind"),
    ({"reason": "because"}, "reason"),
    ({"items": []}, "items"),
    ({"items": [{"order_item_id": 1, "quantity": 0}]}, "items.0.quantity"),
    ({"items": [{"order_item_id": 1, "quantity": "1"}]}, "items.0.quantity"),
    ({"items": [{"order_item_id": 99999999999, "quantity": 1}]}, "items.0.order_item_id"),
    ({"description": "长" * 501}, "description"),
    ({"images": ["x"] * 7}, "images"),
    ({"images": ["not base64!"]}, "images.0"),
    ({"reason": "other"}, "reason_text"),
    ({"unexpected": 1}, "unexpected"),
])
def test_bad_fields_are_422_naming_the_field_and_change_nothing(client, shopper, sold, change, field):
    user, headers = shopper()
    order = sold(user, "received")
    response = client.post(f"{BASE}/aftersales", headers=headers, json={**body(order), **change})
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert requests_of(order) == [] and db.session.get(OrderItem, order.items[0].id).open_aftersale_id is None


def test_a_broken_image_is_422_and_nothing_is_made(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    response = client.post(f"{BASE}/aftersales", headers=headers,
                           json=body(order, images=[base64.b64encode(b"not an image").decode()]))
    assert response.status_code == 422 and response.json["error"]["code"] == "unsupported_image"
    assert requests_of(order) == []


# --- reading -----------------------------------------------------------------------------------

def test_list_is_paginated_own_and_by_tab(client, shopper, sold, count_queries):
    user, headers = shopper()
    other, other_headers = shopper()
    first = apply(client, headers, sold(user, "received"))
    second = apply(client, headers, sold(user, "received"), kind="exchange")
    apply(client, other_headers, sold(other, "received"))
    with count_queries() as two:
        page = client.get(f"{BASE}/aftersales", headers=headers).json
    assert page["total"] == 2 and [row["aftersale_no"] for row in page["items"]] == [second, first]
    row = page["items"][0]
    assert {"aftersale_no", "order_no", "merchant", "kind", "kind_text", "status", "status_text", "refund_fen",
            "quantity", "lines", "due_at", "created_at"} <= set(row)
    assert row["kind"] == "exchange" and row["status_text"] == "待商家处理" and row["lines"][0]["quantity"] == 1
    for _i in range(3):
        apply(client, headers, sold(user, "received"))
    with count_queries() as five:
        assert client.get(f"{BASE}/aftersales", headers=headers).json["total"] == 5
    assert len(five) == len(two)
    paged = client.get(f"{BASE}/aftersales?per_page=2&page=3", headers=headers).json
    assert paged["page"] == 3 and len(paged["items"]) == 1
    assert client.get(f"{BASE}/aftersales?status=awaiting_return", headers=headers).json["total"] == 0
    assert client.get(f"{BASE}/aftersales?status=pending", headers=headers).json["total"] == 5
    refused = client.get(f"{BASE}/aftersales?status=nonsense", headers=headers)
    assert refused.status_code == 422 and "status" in refused.json["error"]["fields"]


def test_detail_has_timeline_actions_and_the_return_address_once_approved(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order, description="有划痕")
    detail = client.get(f"{BASE}/aftersales/{no}", headers=headers).json
    assert detail["status"] == "pending" and detail["kind"] == "return_refund" and detail["refund_fen"] == 9900
    assert detail["return_address"] is None and detail["actions"] == ["cancel"]
    assert [e["to_status"] for e in detail["timeline"]] == ["pending"]
    assert detail["reason"] == "quality" and detail["reason_text"] == "质量问题" and detail["description"] == "有划痕"
    approve(no, order)
    detail = client.get(f"{BASE}/aftersales/{no}", headers=headers).json
    assert detail["status"] == "awaiting_return" and set(detail["actions"]) == {"cancel", "ship_back"}
    assert detail["return_address"] == {"recipient": "售后部", "phone": "13800000000",
                                        "address": "浙江省杭州市余杭区仓前街道 1 号"}
    assert [e["to_status"] for e in detail["timeline"]] == ["pending", "awaiting_return"]
    assert detail["due_at"] is not None and detail["dispute"] is None


def test_order_payloads_name_the_open_request_and_refunded_units(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received", quantity=2)
    no = apply(client, headers, order, kind="refund_only")
    item = client.get(f"{BASE}/orders/{order.order_no}", headers=headers).json["items"][0]
    assert item["aftersale_no"] == no and item["refunded_quantity"] == 0
    listed = client.get(f"{BASE}/orders", headers=headers).json["items"][0]["items"][0]
    assert listed["aftersale_no"] == no
    with transaction():
        services.refund(owner_of(order), no)
    item = client.get(f"{BASE}/orders/{order.order_no}", headers=headers).json["items"][0]
    assert item["refunded_quantity"] == 1


# --- acting --------------------------------------------------------------------------------------

def test_return_shipment_then_the_shop_receives(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order)
    url = f"{BASE}/aftersales/{no}/return-shipment"
    early = client.post(url, headers=headers, json={"carrier": "shunfeng", "tracking_no": "SF1234567890"})
    assert early.status_code == 409 and early.json["error"]["code"] == "aftersale_cannot_act"
    approve(no, order)
    bad = client.post(url, headers=headers, json={"carrier": "nobody", "tracking_no": "SF1234567890"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_carrier"
    bad = client.post(url, headers=headers, json={"carrier": "shunfeng", "tracking_no": "x"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_tracking_no"
    missing = client.post(url, headers=headers, json={"carrier": "shunfeng"})
    assert missing.status_code == 422 and "tracking_no" in missing.json["error"]["fields"]
    assert status_of(no) == "awaiting_return"
    done = client.post(url, headers=headers, json={"carrier": "shunfeng", "tracking_no": "sf9988776655"})
    assert done.status_code == 200 and done.json["status"] == "returned"
    assert done.json["return_shipment"]["tracking_no"] == "SF9988776655"
    assert done.json["return_shipment"]["carrier_name"] == "顺丰速运" and done.json["actions"] == []


def test_cancel_and_cancel_again(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order)
    done = client.post(f"{BASE}/aftersales/{no}/cancel", headers=headers)
    assert done.status_code == 200 and done.json["status"] == "cancelled" and done.json["actions"] == []
    again = client.post(f"{BASE}/aftersales/{no}/cancel", headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "aftersale_cannot_act"
    assert apply(client, headers, order)  # the item is free again


def test_reapply_after_rejection(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order)
    url = f"{BASE}/aftersales/{no}/reapply"
    payload = {"items": [{"order_item_id": order.items[0].id, "quantity": 1}], "kind": "refund_only",
               "reason": "quality", "description": "再看看"}
    early = client.post(url, headers=headers, json=payload)
    assert early.status_code == 409 and early.json["error"]["code"] == "aftersale_cannot_act"
    reject(no, order)
    detail = client.get(f"{BASE}/aftersales/{no}", headers=headers).json
    assert detail["reject_reason"] == "商品没有质量问题" and set(detail["actions"]) == {"cancel", "reapply", "escalate"}
    bad = client.post(url, headers=headers, json={**payload, "reason": "other"})
    assert bad.status_code == 422 and status_of(no) == "rejected"
    done = client.post(url, headers=headers, json=payload)
    assert done.status_code == 200 and done.json["status"] == "pending" and done.json["kind"] == "refund_only"
    assert done.json["reapplied"] == 1 and done.json["description"] == "再看看"


def test_escalate_and_the_thread(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order)
    early = client.post(f"{BASE}/aftersales/{no}/escalate", headers=headers, json={"statement": "请平台看看"})
    assert early.status_code == 409
    reject(no, order)
    empty = client.post(f"{BASE}/aftersales/{no}/escalate", headers=headers, json={"statement": " "})
    assert empty.status_code == 422 and empty.json["error"]["code"] == "statement_required"
    assert status_of(no) == "rejected"
    thread = f"{BASE}/aftersales/{no}/messages"
    assert client.get(thread, headers=headers).json == {"items": []}
    closed = client.post(thread, headers=headers, json={"body": "还没介入"})
    assert closed.status_code == 409
    done = client.post(f"{BASE}/aftersales/{no}/escalate", headers=headers, json={
        "statement": "商品确实有裂纹", "images": [base64.b64encode(png_bytes()).decode()]})
    assert done.status_code == 200 and done.json["status"] == "disputed"
    assert done.json["dispute"]["statement"] == "商品确实有裂纹" and done.json["dispute"]["messages"] == []
    posted = client.post(thread, headers=headers, json={"body": "补充说明"})
    assert posted.status_code == 201 and posted.json["side"] == "buyer" and posted.json["body"] == "补充说明"
    assert client.post(thread, headers=headers, json={"body": ""}).status_code == 422
    assert [m["body"] for m in client.get(thread, headers=headers).json["items"]] == ["补充说明"]


def test_confirm_the_replacement(client, shopper, sold):
    user, headers = shopper()
    order = sold(user, "received")
    no = apply(client, headers, order, kind="exchange")
    assert client.post(f"{BASE}/aftersales/{no}/confirm-replacement", headers=headers).status_code == 409
    approve(no, order)
    shop = owner_of(order)
    with transaction():
        services.ship_back(user.id, no, "shunfeng", "SF5555666677")
    with transaction():
        services.receive(shop, no, True)
    with transaction():
        services.ship_replacement(shop, no, "zhongtong", "ZT1234567890")
    detail = client.get(f"{BASE}/aftersales/{no}", headers=headers).json
    assert detail["actions"] == ["confirm_replacement"] and detail["replacement_shipment"]["carrier"] == "zhongtong"
    done = client.post(f"{BASE}/aftersales/{no}/confirm-replacement", headers=headers)
    assert done.status_code == 200 and done.json["status"] == "completed"


# --- who may -----------------------------------------------------------------------------------

def operations(no: str, order) -> list[tuple[str, str, dict | None]]:
    item = {"order_item_id": order.items[0].id, "quantity": 1}
    return [
        ("get", f"/aftersales/{no}", None),
        ("post", f"/aftersales/{no}/return-shipment", {"carrier": "shunfeng", "tracking_no": "SF1234567890"}),
        ("post", f"/aftersales/{no}/cancel", None),
        ("post", f"/aftersales/{no}/escalate", {"statement": "我也要介入"}),
        ("post", f"/aftersales/{no}/reapply", {"items": [item], "kind": "refund_only", "reason": "quality"}),
        ("post", f"/aftersales/{no}/confirm-replacement", None),
        ("get", f"/aftersales/{no}/messages", None),
        ("post", f"/aftersales/{no}/messages", {"body": "插一句"}),
    ]


def test_another_buyers_request_is_404_on_every_operation(client, shopper, sold):
    owner, headers = shopper()
    _stranger, stranger_headers = shopper()
    order = sold(owner, "received")
    no = apply(client, headers, order)
    reject(no, order)
    for method, path, payload in operations(no, order):
        response = client.open(f"{BASE}{path}", method=method.upper(), json=payload, headers=stranger_headers)
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["error"]["code"] == "aftersale_not_found"
    assert status_of(no) == "rejected"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisputeMessage)) == 0
    assert client.get(f"{BASE}/aftersales", headers=stranger_headers).json["total"] == 0


def test_every_operation_needs_a_token(client, shopper, sold):
    owner, headers = shopper()
    order = sold(owner, "received")
    no = apply(client, headers, order)
    for method, path, payload in [("get", "/aftersales", None), ("post", "/aftersales", body(order)),
                                  *operations(no, order)]:
        response = client.open(f"{BASE}{path}", method=method.upper(), json=payload)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized", path
    assert status_of(no) == "pending" and len(requests_of(order)) == 1


def test_the_openapi_document_states_the_after_sales_operations(client):
    spec = client.get(f"{BASE}/openapi.json").get_json()
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/aftersales": {"get", "post"},
        "/api/v1/aftersales/{aftersale_no}": {"get"},
        "/api/v1/aftersales/{aftersale_no}/return-shipment": {"post"},
        "/api/v1/aftersales/{aftersale_no}/cancel": {"post"},
        "/api/v1/aftersales/{aftersale_no}/escalate": {"post"},
        "/api/v1/aftersales/{aftersale_no}/reapply": {"post"},
        "/api/v1/aftersales/{aftersale_no}/confirm-replacement": {"post"},
        "/api/v1/aftersales/{aftersale_no}/messages": {"get", "post"},
    }.items():
        assert methods <= set(paths[path]), path
    created = paths["/api/v1/aftersales"]["post"]["responses"]
    assert {"201", "401", "404", "409", "422"} <= set(created)
    item = spec["components"]["schemas"]["OrderItem"]["properties"]
    assert "aftersale_no" in item and "refunded_quantity" in item
