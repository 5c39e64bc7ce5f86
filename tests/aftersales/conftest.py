"""Fixtures for after-sales tests: orders bought, paid, shipped and received through the
real services, and requests made the way buyers make them."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.aftersales import applications, services
from app.aftersales.models import AfterSale
from app.aftersales.policies import staff
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantAddress, MerchantMember
from app.orders import services as order_services
from app.orders.models import Order


@pytest.fixture
def bought(make_user, make_product, place_order, pay_sandbox, make_merchant):
    """`bought(quantity=2, shipping_fen=0, stocks=(10,), price_fen=9900, buyer=None, lines=None)`
    -> a paid Order (committed); the shop has a default return address."""

    def buy(quantity=2, shipping_fen=0, stocks=(10,), price_fen=9900, buyer=None, products=1, auto_refund=True):
        merchant = make_merchant(shipping_flat_fen=shipping_fen, aftersale_auto_refund=auto_refund)
        db.session.add(MerchantAddress(merchant_id=merchant.id, label="仓库", recipient="售后部", phone="057100000000",
                                       address="浙江省杭州市余杭区仓前街道 1 号", is_default=True))
        db.session.commit()
        buyer = buyer or make_user()
        skus = [make_product(merchant=merchant, stocks=stocks, price_fen=price_fen).skus[0] for _ in range(products)]
        payment = place_order(buyer, [(sku.id, quantity) for sku in skus])
        payment_id = payment.id
        response = pay_sandbox(payment)
        assert response.status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))

    return buy


def owner_of(order) -> staff:
    member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.merchant_id == order.merchant_id,
                                                               MerchantMember.role == "owner"))
    return staff(member)


def ship(order) -> Order:
    actor = owner_of(order)
    with transaction():
        order_services.ship(actor.user_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
    db.session.expire_all()
    return db.session.get(Order, order.id)


def receive(order) -> Order:
    with transaction():
        order_services.confirm_receipt(order.buyer_id, order.order_no)
    db.session.expire_all()
    return db.session.get(Order, order.id)


def apply(order, kind="return_refund", quantity=1, item=0, reason="quality", **fields) -> AfterSale:
    with transaction():
        aftersale = applications.apply(order.buyer_id, order.order_no, applications.Application(
            lines=[(order.items[item].id, quantity)], kind=kind, reason=reason, **fields))
    return fresh(aftersale)


def fresh(aftersale) -> AfterSale:
    db.session.expire_all()
    return services.reload(aftersale.id)


def default_address_id(order) -> int:
    return db.session.scalar(sa.select(MerchantAddress.id).where(MerchantAddress.merchant_id == order.merchant_id))


def age(aftersale, days: float) -> None:
    """Move the request's deadline into the past as if `days` had gone by."""
    db.session.execute(sa.update(AfterSale).where(AfterSale.id == aftersale.id)
                       .values(due_at=utcnow() - timedelta(days=days)))
    db.session.commit()


@pytest.fixture(autouse=True)
def _books_hold(books_hold):
    """Every test here ends with the books agreeing with what happened (docs/finance.md)."""
