"""Fixtures for the shop's pages: orders in each status, and a product listed, through the real services."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import product_form, product_review, products
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders import services as order_services
from app.orders.models import Order
from tests.factories import png_bytes


@pytest.fixture
def buyer_order(make_product, place_order, pay_sandbox):
    """`buyer_order(buyer, status)` -> an Order of `buyer` in `status`
    (pending_payment, paid, shipped or received), made by checkout, payment, shipping and receipt."""

    def make(buyer, status="pending_payment", title=None, stocks=(20,), quantity=1, product=None):
        product = product or make_product(title=title, stocks=stocks)
        payment = place_order(buyer, [(product.skus[0].id, quantity)])
        if status != "pending_payment":
            assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
        if status in ("shipped", "received"):
            owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
                MerchantMember.merchant_id == order.merchant_id))
            with transaction():
                order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
        if status == "received":
            with transaction():
                order_services.confirm_receipt(buyer.id, order.order_no)
        db.session.expire_all()
        return db.session.get(Order, order.id)

    return make


# --- a product listed through the services (the page cache tests) -------------------------------

SPECS = [{"name": "颜色", "values": ["红", "蓝"]}]


def form(category_id, price="59.90", stock_each=10, title="缓存测试T恤"):
    skus = [{"spec_values": {"颜色": c}, "price": price, "stock": stock_each, "code": f"C-{c}"} for c in ("红", "蓝")]
    return {"title": title, "subtitle": "", "category_id": category_id, "description": "<p>详情</p>",
            "tags": "", "specs": SPECS, "skus": skus}


@pytest.fixture
def listed(make_user, make_merchant, make_category):
    """A product put on sale through the services (edit, submit, approve), and its owner."""
    owner, admin = make_user(), make_user(admin_role="operator")
    merchant, category = make_merchant(owner=owner), make_category(name="缓存类目")
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
        product_review.submit(owner, merchant.id, product.id)
        product_review.approve(admin, product.id)
    return product, owner, merchant, category
