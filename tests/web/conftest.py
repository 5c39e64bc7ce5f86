"""Fixtures shared by the surface tests."""
from __future__ import annotations

import pytest

from app.core.db import transaction
from app.distribution import distributors
from app.merchants import api_keys


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
