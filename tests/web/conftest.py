"""Fixtures shared by every surface's tests."""
from __future__ import annotations

import pytest

from app import create_app
from app.config import ProdConfig, TestConfig
from app.core.db import transaction
from app.distribution import distributors
from app.extensions import db
from app.merchants import api_keys
from tests.aftersales.conftest import bought  # noqa: F401  (orders bought and paid, for the after-sales pages)

PUBLIC_BASE_URL = "https://shop.example.com"


@pytest.fixture
def production_app(app, tmp_path):
    """The app as production configures it (ProdConfig: trusted hosts, HTTPS only),
    on the test database and Redis, public at https://shop.example.com."""
    prod = create_app(
        ProdConfig,
        SECRET_KEY="production-test-secret",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        SQLALCHEMY_DATABASE_URI=TestConfig.SQLALCHEMY_DATABASE_URI,
        REDIS_URL=TestConfig.REDIS_URL,
        RATELIMIT_STORAGE_URI=TestConfig.REDIS_URL,
        SANDBOX_PAY_SECRET=None,
        LOG_JSON=False,
        OUTBOX_DIR=str(tmp_path / "outbox"),
        UPLOAD_DIR=str(tmp_path / "uploads"),
    )
    yield prod
    with prod.app_context():
        db.engine.dispose()


@pytest.fixture
def world(make_user, make_merchant, make_product, place_order, make_address, api_token):
    """A shopper with an order, an address and a cart line; a shop with a product and an
    API key; an admin. Returns the actors and the ids that path segments name."""
    from app.orders import cart

    shopper = make_user(email="walker@example.com")
    owner = make_user()
    admin = make_user(admin_role="super")
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant)
    sku = product.skus[0]
    address = make_address(shopper)
    payment = place_order(shopper, [(sku.id, 1)], address=address)
    order = payment.orders[0]
    with transaction():
        line = cart.add(shopper.id, sku.id, 1)
        _key, raw_key = api_keys.create_key(owner, merchant.id, "walk")
        distributors.open_centre(shopper)
    ids = {"product_id": product.id, "sku_id": sku.id, "merchant_id": merchant.id, "address_id": address.id,
           "item_id": line.id, "order_id": order.id, "user_id": shopper.id, "order_no": order.order_no,
           "out_trade_no": payment.out_trade_no}
    return {"shopper": shopper, "owner": owner, "admin": admin, "ids": ids,
            "bearer": api_token(shopper), "api_key": {"X-Api-Key": raw_key}}
