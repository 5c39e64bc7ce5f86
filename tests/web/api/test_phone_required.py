"""`require_phone_for_third_party` holds in the API as on the shop's pages: an account
that signed in through WeChat or Alipay and has no phone gets 403 `phone_required` from
every bearer call but seeing its account, binding the phone and signing out, and a
flash-sale buy takes no unit for it; once the phone is bound everything answers. The
OpenAPI document says so."""
# ruff: noqa: F811  (the flash-sale fixtures are imported, then requested by name)
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.accounts.models import Identity, User
from app.core import settings as platform_settings
from app.core.jobs import get_redis
from app.extensions import db
from app.flashsales import fastpath
from app.orders.models import Order
from tests.flashsales.conftest import make_flash_sale, operator  # noqa: F401

PHONE = "13744447777"


@pytest.fixture
def mini_program_user(api_token):
    """A user who signed in only through the mini-program (no phone, no password), and
    their bearer headers."""
    user = User(nickname="微信用户")
    db.session.add(user)
    db.session.flush()
    db.session.add(Identity(user_id=user.id, provider="wechat_mp", subject=f"o-mp-{uuid.uuid4().hex[:12]}"))
    db.session.commit()
    return user, api_token(user)


def require_phone(on: bool) -> None:
    platform_settings.put("require_phone_for_third_party", on, None)
    db.session.commit()


def code(error_response) -> str:
    return error_response.get_json()["error"]["code"]


def test_every_call_but_a_few_asks_for_the_phone_until_it_is_bound(client, mini_program_user, make_product,
                                                                   make_address, run_jobs, outbox):
    user, headers = mini_program_user
    address = make_address(user)
    sku_id = make_product(stocks=(5,)).skus[0].id
    checkout = {"items": [{"sku_id": sku_id, "quantity": 1}], "address_id": address.id,
                "idempotency_key": uuid.uuid4().hex}
    require_phone(True)

    for method, path, body in (("get", "/api/v1/cart/items", None), ("get", "/api/v1/orders", None),
                               ("post", "/api/v1/orders", checkout), ("get", "/api/v1/addresses", None)):
        refused = getattr(client, method)(path, json=body, headers=headers)
        assert refused.status_code == 403 and code(refused) == "phone_required", path
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["phone"] is None

    sent = client.post("/api/v1/auth/sms-codes", json={"phone": PHONE, "purpose": "bind"}, headers=headers)
    assert sent.status_code == 202
    run_jobs()
    bound = client.post("/api/v1/me/phone", json={"phone": PHONE, "code": outbox.last_code(PHONE)}, headers=headers)
    assert bound.status_code == 200
    assert client.get("/api/v1/cart/items", headers=headers).status_code == 200
    assert client.post("/api/v1/orders", json=checkout, headers=headers).status_code == 201
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


def test_signing_out_stays_open(client, mini_program_user):
    _user, headers = mini_program_user
    require_phone(True)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_flash_sale_buy_takes_no_unit_without_the_phone(client, mini_program_user, make_flash_sale, make_address):
    user, headers = mini_program_user
    _sale, item = make_flash_sale(stock=3, limit=1)
    item_id, address_id = item.id, make_address(user).id
    require_phone(True)
    refused = client.post(f"/api/v1/flash-sales/{item_id}/buy", headers=headers,
                          json={"quantity": 1, "address_id": address_id, "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 403 and code(refused) == "phone_required"
    redis = get_redis()
    assert fastpath.left(redis, item_id) == 3 and fastpath.buyer_units(redis, item_id, user.id) == 0
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_with_the_setting_off_nothing_is_asked(client, mini_program_user):
    _user, headers = mini_program_user
    require_phone(False)
    assert client.get("/api/v1/cart/items", headers=headers).status_code == 200


def test_the_openapi_document_names_phone_required_where_it_applies(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "phone_required" in paths["/api/v1/orders"]["post"]["responses"]["403"]["description"]
    assert "phone_required" in paths["/api/v1/flash-sales/{item_id}/buy"]["post"]["responses"]["403"]["description"]
    for path, method in (("/api/v1/me", "get"), ("/api/v1/me/phone", "post"), ("/api/v1/auth/logout", "post")):
        assert "403" not in paths[path][method]["responses"], path
