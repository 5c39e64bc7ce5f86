"""The merchant's commission override on the product form (参与分销 and a rate per level):
saved, validated against the platform's caps, shown again on the product page, never
a reason to send an on-sale product back to review; the merchant API carries it too;
and the override is what commissions are computed with."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Product
from app.core.db import transaction
from app.distribution import referrals
from app.distribution.models import Commission
from app.extensions import db
from app.orders.models import Order
from tests.distribution import conftest as distribution_fixtures

set_rules = distribution_fixtures.set_rules


@pytest.fixture
def shop(app, make_user, make_merchant, login, make_product, set_rules):
    set_rules(levels=2, level1_percent="10", level2_percent="5", level3_percent="0")  # cap 30%
    owner = make_user()
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant, price_fen=10000)
    client = login(owner, on=app.test_client())
    return client, merchant, product


def edit_data(product: Product, **overrides) -> dict:
    """The whole edit form of a `make_product` product as the page posts it."""
    data = {"title": product.title, "subtitle": "", "category_id": str(product.category_id), "description": "",
            "tags": "", "spec-0-name": "规格", "spec-0-values": "款0",
            "sku[规格:款0][price]": "100.00", "sku[规格:款0][stock]": "10", "sku[规格:款0][expected_stock]": "10",
            "distribution_enabled": "1", "commission_l1_percent": "", "commission_l2_percent": ""}
    data.update(overrides)
    return data


def fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def test_override_saved_shown_and_an_on_sale_product_stays_on_sale(shop):
    client, _merchant, product = shop
    page = client.get(f"/merchant/products/{product.id}").get_data(as_text=True)
    assert "参与分销" in page and 'placeholder="平台 10"' in page and 'id="commission_l3_percent"' not in page

    saved = client.post(f"/merchant/products/{product.id}/edit",
                        data=edit_data(product, commission_l1_percent="12.5", commission_l2_percent="3"))
    assert saved.status_code == 302
    product = fresh(product.id)
    assert (product.distribution_enabled, product.commission_l1_bp, product.commission_l2_bp) == (True, 1250, 300)
    assert product.status == "on_sale"  # not content: no new review
    page = client.get(f"/merchant/products/{product.id}").get_data(as_text=True)
    assert 'name="commission_l1_percent" value="12.5"' in page and 'name="commission_l2_percent" value="3"' in page

    excluded = client.post(f"/merchant/products/{product.id}/edit", data=edit_data(product, distribution_enabled="0"))
    assert excluded.status_code == 302
    product = fresh(product.id)
    assert (product.distribution_enabled, product.commission_l1_bp, product.status) == (False, None, "on_sale")
    page = client.get(f"/merchant/products/{product.id}").get_data(as_text=True)
    assert 'id="distribution_enabled_no" value="0" checked' in page

    # the control: a content change does send it back to review
    client.post(f"/merchant/products/{product.id}/edit", data=edit_data(product, title="改过的标题呀"))
    assert fresh(product.id).status == "pending_review"


@pytest.mark.parametrize("overrides, field", [
    ({"commission_l1_percent": "101"}, "commission_l1"),
    ({"commission_l1_percent": "-1"}, "commission_l1"),
    ({"commission_l2_percent": "abc"}, "commission_l2"),
    ({"commission_l1_percent": "10.123"}, "commission_l1"),
    ({"commission_l1_percent": "20", "commission_l2_percent": "10.01"}, "commission_l1"),  # sum over the 30% cap
    ({"commission_l1_percent": "26"}, "commission_l1"),  # 26% + the platform's 5% for level 2
], ids=["over-100", "negative", "not-a-number", "three-decimals", "sum-over-cap", "sum-with-platform-rate"])
def test_bad_rates_are_refused_inline_and_nothing_changes(shop, overrides, field):
    client, _merchant, product = shop
    response = client.post(f"/merchant/products/{product.id}/edit", data=edit_data(product, **overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}_percent"' in html and "is-invalid" in html
    product = fresh(product.id)
    assert (product.commission_l1_bp, product.commission_l2_bp, product.distribution_enabled) == (None, None, True)


def test_exactly_the_cap_is_accepted(shop):
    client, _merchant, product = shop
    response = client.post(f"/merchant/products/{product.id}/edit",
                           data=edit_data(product, commission_l1_percent="25", commission_l2_percent="5"))
    assert response.status_code == 302
    assert fresh(product.id).commission_l1_bp == 2500


def test_another_shops_product_is_not_found_and_unchanged(app, shop, make_user, make_merchant, make_product, login):
    _client, _merchant, _product = shop
    other = make_product(merchant=make_merchant(), price_fen=10000)
    client = login(make_user(), on=app.test_client())
    intruder_merchant_owner = make_user()
    make_merchant(owner=intruder_merchant_owner)
    intruder = login(intruder_merchant_owner, on=app.test_client())
    response = intruder.post(f"/merchant/products/{other.id}/edit",
                             data=edit_data(other, distribution_enabled="0", commission_l1_percent="20"))
    assert response.status_code == 404
    assert client.get(f"/merchant/products/{other.id}").status_code in (302, 403, 404)
    other = fresh(other.id)
    assert (other.distribution_enabled, other.commission_l1_bp) == (True, None)


def test_merchant_api_reads_and_writes_the_override(client, shop):
    _browser, merchant, product = shop
    headers = _api_headers(merchant)
    got = client.get(f"/api/v1/merchant/products/{product.id}", headers=headers).json
    assert (got["distribution_enabled"], got["commission_l1_bp"]) == (True, None)
    patched = client.patch(f"/api/v1/merchant/products/{product.id}", json={"commission_l1_bp": 1500},
                           headers=headers)
    assert patched.status_code == 200
    assert (patched.json["commission_l1_bp"], patched.json["commission_l2_bp"], patched.json["status"]) == (
        1500, None, "on_sale")
    over = client.patch(f"/api/v1/merchant/products/{product.id}", json={"commission_l2_bp": 2000}, headers=headers)
    assert over.status_code == 422 and over.json["error"]["code"] == "invalid_commission"
    assert "commission_l1" in over.json["error"]["fields"]
    out_of_range = client.patch(f"/api/v1/merchant/products/{product.id}", json={"commission_l1_bp": 10001},
                                headers=headers)
    assert out_of_range.status_code == 422
    title_only = client.patch(f"/api/v1/merchant/products/{product.id}", json={"subtitle": "新副标题"},
                              headers=headers)
    assert title_only.status_code == 200 and title_only.json["commission_l1_bp"] == 1500  # left alone
    assert fresh(product.id).commission_l2_bp is None


def _api_headers(merchant) -> dict:
    from app.merchants import api_keys
    from app.merchants.models import MerchantMember

    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant.id))
    with transaction():
        _key, raw = api_keys.create_key(db.session.get(User, owner_id), merchant.id, "ERP")
    return {"X-Api-Key": raw}


def test_commissions_use_the_override_and_skip_an_excluded_product(
        shop, make_distributor, make_user, make_product, place_order, pay_sandbox):
    client, merchant, product = shop
    client.post(f"/merchant/products/{product.id}/edit",
                data=edit_data(product, commission_l1_percent="20", commission_l2_percent=""))
    excluded = make_product(merchant=merchant, price_fen=10000, distribution_enabled=False)
    top = make_distributor()
    near = make_distributor(parent=top)
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    payment = place_order(buyer, [(product.skus[0].id, 1), (excluded.skus[0].id, 1)])
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    made = {(c.level, c.rate_bp, c.amount_fen) for c in db.session.scalars(
        sa.select(Commission).where(Commission.order_id == order.id))}
    assert made == {(1, 2000, 2000), (2, 500, 500)}
