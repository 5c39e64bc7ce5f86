"""Fixtures for the distributor centre pages: the distribution fixtures
(set_rules, make_distributor) and commissions made the way shoppers make them."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel
from app.core.db import transaction
from app.distribution import commissions, referrals
from app.distribution.models import Commission, Distributor
from app.extensions import db
from app.merchants.models import MerchantMember
from app.orders import services as order_services
from app.orders.models import Order
from tests.distribution.conftest import set_rules  # noqa: F401


@pytest.fixture
def bring_order(make_user, make_product, place_order, pay_sandbox):
    """`bring_order(distributor, price_fen=10000, buyer=None)` -> a paid Order of a
    buyer bound to `distributor` (so it and its uplines have pending commissions)."""

    def make(distributor, price_fen=10000, buyer=None, title=None, quantity=1):
        buyer = buyer or make_user()
        with transaction():
            referrals.bind(buyer, distributor.code, "link", is_new_user=True)
        product = make_product(price_fen=price_fen, title=title, stocks=(quantity + 5,))
        payment = place_order(buyer, [(product.skus[0].id, quantity)])
        payment_id = payment.id  # read before the request: a live-server test's session ends with it
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))

    return make


@pytest.fixture
def settle_order():
    """`settle_order(order)`: shipped, received and past the settlement delay, so
    its commissions are available to withdraw."""

    def settle(order):
        owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
            MerchantMember.merchant_id == order.merchant_id))
        with transaction():
            order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
            order_services.confirm_receipt(order.buyer_id, order.order_no)
        with travel(timedelta(days=30)), transaction():
            for commission_id in db.session.scalars(sa.select(Commission.id).where(Commission.order_id == order.id)):
                commissions.settle(commission_id)
        db.session.expire_all()

    return settle


@pytest.fixture
def balance(bring_order, settle_order):
    """`balance(distributor, yuan)`: give `distributor` `yuan` of settled commission (level 1 at 10%)."""

    def give(distributor, yuan: int):
        order = bring_order(distributor, price_fen=yuan * 1000)
        settle_order(order)
        return order

    return give


def user_of(distributor: Distributor):
    from app.accounts.models import User

    return db.session.get(User, distributor.user_id)
