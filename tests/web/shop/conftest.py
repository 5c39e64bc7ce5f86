"""Fixtures for the shop's order pages: orders in each status, through the real services."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders import services as order_services
from app.orders.models import Order


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
