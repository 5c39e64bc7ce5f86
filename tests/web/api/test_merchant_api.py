"""The merchant API: X-Api-Key authentication, scoped to the key's merchant."""
from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.extensions import db
from app.merchants import api_keys, penalties, shops
from app.merchants.models import MerchantApiKey
from tests.factories import png_bytes

URL = "/api/v1/merchant/shop"


@pytest.fixture
def keyed_shop(make_user, make_merchant):
    def make(**fields):
        owner = make_user()
        merchant = make_merchant(owner=owner, **fields)
        key, raw = api_keys.create_key(owner, merchant.id, "ERP")
        db.session.commit()
        return owner, merchant, key, raw

    return make


def test_the_key_reads_its_shop(client, keyed_shop):
    owner, merchant, key, raw = keyed_shop(name="接口测试店", description="简介", return_recipient="收件人",
                                           return_phone="+8613911112222", return_address="北京市海淀区 1 号",
                                           shipping_flat_fen=800, free_shipping_threshold_fen=9900,
                                           stock_alert_channels=["sms", "email"])
    response = client.get(URL, headers={"X-Api-Key": raw})
    assert response.status_code == 200
    body = response.json
    assert body == {
        "id": merchant.id, "name": "接口测试店", "status": "active", "status_reason": None, "suspended_until": None,
        "description": "简介", "logo_url": None,
        "contact": {"name": "店主", "phone": "13900000000"},
        "return_address": {"recipient": "收件人", "phone": "13911112222", "address": "北京市海淀区 1 号"},
        "shipping": {"flat_fee_fen": 800, "free_threshold_fen": 9900},
        "stock_alert_channels": ["sms", "email"],
    }
    db.session.expire_all()
    assert db.session.get(MerchantApiKey, key.id).last_used_at is not None  # the touch was committed


def test_logo_url_points_at_the_public_logo(client, keyed_shop):
    owner, merchant, _key, raw = keyed_shop()
    shops.update_settings(owner, merchant.id, {
        "name": merchant.name, "contact_name": "店主", "contact_phone": "13900000000", "shipping_flat_yuan": "0",
    }, logo=png_bytes())
    db.session.commit()
    logo_url = client.get(URL, headers={"X-Api-Key": raw}).json["logo_url"]
    assert "/media/logos/" in logo_url
    assert client.get(logo_url.split("localhost", 1)[1]).status_code == 200


def test_a_key_never_sees_another_merchants_data(client, keyed_shop):
    _owner_a, shop_a, _key_a, raw_a = keyed_shop(name="甲店")
    _owner_b, shop_b, _key_b, raw_b = keyed_shop(name="乙店")
    for query in ("", f"?merchant_id={shop_b.id}", f"?id={shop_b.id}"):
        body = client.get(URL + query, headers={"X-Api-Key": raw_a}).json
        assert body["id"] == shop_a.id and body["name"] == "甲店", query
    assert client.get(URL, headers={"X-Api-Key": raw_b}).json["id"] == shop_b.id


@pytest.mark.parametrize("headers", [
    {}, {"X-Api-Key": ""}, {"X-Api-Key": "mk_not-a-real-key"}, {"X-Api-Key": "garbage"},
    {"Authorization": "Bearer mk_whatever"},
])
def test_missing_and_unknown_keys_are_401(client, keyed_shop, headers):
    keyed_shop()
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_api_key" and response.json["error"]["message"]


def test_a_revoked_key_is_401_at_once(client, keyed_shop):
    owner, merchant, key, raw = keyed_shop()
    assert client.get(URL, headers={"X-Api-Key": raw}).status_code == 200
    api_keys.revoke_key(owner, merchant.id, key.id)
    db.session.commit()
    response = client.get(URL, headers={"X-Api-Key": raw})
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"


def test_a_users_bearer_token_is_not_a_merchant_key(client, keyed_shop, api_token):
    owner, _merchant, _key, _raw = keyed_shop()
    response = client.get(URL, headers=api_token(owner))
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"


def test_a_suspended_shop_still_reads_its_status(client, keyed_shop, make_user):
    _owner, merchant, _key, raw = keyed_shop()
    until = utcnow() + timedelta(days=3)
    penalties.suspend(make_user(admin_role="operator"), merchant.id, "整改中", until)
    db.session.commit()
    body = client.get(URL, headers={"X-Api-Key": raw}).json
    assert body["status"] == "suspended" and body["status_reason"] == "整改中" and body["suspended_until"]


def test_openapi_documents_the_api_key_scheme(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["merchant_api_key"] == {
        "type": "apiKey", "in": "header", "name": "X-Api-Key",
        "description": spec["components"]["securitySchemes"]["merchant_api_key"]["description"],
    }
    assert spec["paths"]["/api/v1/merchant/shop"]["get"]["security"] == [{"merchant_api_key": []}]
