"""One way to show a phone number: the `phone` Jinja filter writes 138 0000 0001
(or 138****0001 where the reader is not the owner), never the stored +86...,
on every page that shows one."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts import addresses
from app.accounts.models import Address, User
from app.accounts.validation import format_phone
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders.models import Order
from tests.web.helpers import text


@pytest.mark.parametrize(("stored", "shown", "masked"), [
    ("+8613800000001", "138 0000 0001", "138****0001"),
    ("13800000001", "138 0000 0001", "138****0001"),
    ("0591-87654321", "0591-87654321", "****4321"),
    ("", "—", "—"),
    (None, "—", "—"),
])
def test_format_phone(stored, shown, masked):
    assert format_phone(stored) == shown
    assert format_phone(stored, masked=True) == masked


def test_phones_are_formatted_on_every_page(app, client, make_user, login, make_product, place_order, pay_sandbox):
    buyer = make_user(phone="13711112222")
    with transaction():
        address = addresses.add(buyer.id, {
            "recipient": "王小明", "phone": "+86 139 0000 1111", "province_code": "350000", "city_code": "350100",
            "district_code": "350102", "detail": "五四路 100 号", "is_default": True})
    product = make_product(stocks=(10,))
    login(buyer)
    client.post("/cart/add", data={"sku_id": product.skus[0].id, "quantity": 1})
    pages = {"checkout": text(client.get("/checkout")), "addresses": text(client.get("/me/addresses")),
             "me": text(client.get("/me"))}
    payment = place_order(buyer, [(product.skus[0].id, 1)], address=db.session.get(Address, address.id))
    assert pay_sandbox(payment).status_code == 200
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    pages["order"] = text(client.get(f"/orders/{order.order_no}"))

    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == product.merchant_id))
    merchant_client = login(db.session.get(User, owner_id), on=app.test_client())
    pages["merchant order"] = text(merchant_client.get(f"/merchant/orders/{order.order_no}"))
    admin_client = login(make_user(admin_role="super"), on=app.test_client())
    pages["admin user"] = text(admin_client.get(f"/admin/users/{buyer.id}"))
    pages["admin users"] = text(admin_client.get("/admin/users"))
    pages["admin order"] = text(admin_client.get(f"/admin/orders/{order.order_no}"))

    for name, html in pages.items():
        assert "+86" not in html, name
    for name in ("checkout", "addresses", "order", "merchant order", "admin user"):
        assert "139 0000 1111" in pages[name], name  # the recipient's phone, in full where it is needed to deliver
    for name in ("me", "admin users"):
        assert "137 1111 2222" in pages[name], name  # the account's phone
    assert 'value="13711112222"' in pages["admin user"]  # an input keeps the digits one types
    assert "137****2222" in pages["merchant order"] and "137****2222" in pages["admin order"]  # the buyer's account phone
