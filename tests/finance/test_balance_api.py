"""`GET /api/v1/merchant/balance` (X-Api-Key): exactly the three numbers the issue pins,
for the key's own shop only, and documented in the OpenAPI document."""
from __future__ import annotations

import pytest

from app.core.db import transaction
from app.extensions import db
from app.finance import merchant_withdrawals
from app.merchants import api_keys
from tests.finance.funds import fund

URL = "/api/v1/merchant/balance"
ALIPAY = {"method": "alipay", "account_name": "鲜果铺有限公司", "account_no": "shop@example.com"}


@pytest.fixture
def keyed_shop(make_user, make_merchant):
    def make():
        owner = make_user()
        merchant = make_merchant(owner=owner)
        _key, raw = api_keys.create_key(owner, merchant.id, "ERP")
        db.session.commit()
        return owner, merchant, raw

    return make


def test_the_key_reads_its_shops_balances(client, keyed_shop, make_user):
    owner, merchant, raw = keyed_shop()
    finance = make_user(admin_role="finance")
    with transaction():
        fund(merchant.id, 80_000, pending_fen=12_345)
        paid = merchant_withdrawals.request(owner, merchant.id, {"amount": "300", **ALIPAY})
        merchant_withdrawals.request(owner, merchant.id, {"amount": "150", **ALIPAY})  # in progress
    with transaction():
        merchant_withdrawals.approve(finance, paid.id)
        merchant_withdrawals.mark_paid(finance, paid.id, "TR-API-0001")
    response = client.get(URL, headers={"X-Api-Key": raw})
    assert response.status_code == 200
    assert response.json == {"pending_fen": 12_345, "available_fen": 80_000 - 30_000 - 15_000, "withdrawn_fen": 30_000}


def test_a_shop_with_no_money_yet_reads_zeros(client, keyed_shop):
    _owner, _merchant, raw = keyed_shop()
    assert client.get(URL, headers={"X-Api-Key": raw}).json == {"pending_fen": 0, "available_fen": 0, "withdrawn_fen": 0}


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "mk_wrong"}, {"Authorization": "Bearer nope"}])
def test_no_key_or_a_wrong_key_is_401(client, headers):
    response = client.get(URL, headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"


def test_another_shops_key_sees_its_own_numbers_only(client, keyed_shop):
    _owner_a, shop_a, raw_a = keyed_shop()
    _owner_b, shop_b, raw_b = keyed_shop()
    with transaction():
        fund(shop_a.id, 50_000, pending_fen=1_000)
        fund(shop_b.id, 7_000)
    assert client.get(URL, headers={"X-Api-Key": raw_a}).json == {
        "pending_fen": 1_000, "available_fen": 50_000, "withdrawn_fen": 0}
    assert client.get(URL, headers={"X-Api-Key": raw_b}).json == {
        "pending_fen": 0, "available_fen": 7_000, "withdrawn_fen": 0}


def test_the_openapi_document_describes_it_like_its_neighbours(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/merchant/balance"]["get"]
    assert operation["security"] == [{"merchant_api_key": []}]
    assert {"200", "401"} <= set(operation["responses"])
    schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"pending_fen", "available_fen", "withdrawn_fen"}
    assert all(p["type"] == "integer" for p in schema["properties"].values())
