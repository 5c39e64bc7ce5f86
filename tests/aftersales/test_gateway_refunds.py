"""After-sales refunds through the real gateways, over real HTTP to the fake WeChat Pay
and Alipay servers: the request is `refunded` only once the gateway says the money is
back (at once, by WeChat's 退款结果通知, or by finance settling an ABNORMAL one), and a
retry reuses the request's own `out_refund_no`."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.aftersales import services
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import MerchantAddress
from app.orders.models import Order
from app.payments import offline_refunds
from app.payments.models import Refund
from app.payments.services import submit_refund
from tests.aftersales.conftest import apply, fresh, owner_of, receive, ship
from tests.payments.conftest import alipay_fake, payment_keys, wechatpay_fake  # noqa: F401  (fixtures)
from tests.payments.test_notification_matrix import (  # noqa: F401  (gateway_for, checkout are fixtures)
    checkout,
    gateway_for,
    orders_of,
)
from tests.payments.test_refund_gateways import post_refund_notification


@pytest.fixture
def paid_through(gateway_for, checkout, client):
    """`paid_through(provider)` -> a received Order paid at that gateway's fake server."""

    def pay(provider: str) -> Order:
        gateway = gateway_for(provider)
        _buyer, payment, _skus, _client = checkout(gateway, quantity=2)
        transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
        assert gateway.is_success(gateway.post(client, *gateway.notification(
            payment.out_trade_no, payment.amount_fen, transaction_id)))
        order = orders_of(payment.id)[0]
        db.session.add(MerchantAddress(merchant_id=order.merchant_id, recipient="售后部", phone="057100000000",
                                       address="杭州市余杭区 1 号", is_default=True))
        db.session.commit()
        return receive(ship(order))

    return pay


def refund_of(aftersale) -> Refund:
    db.session.expire_all()
    return db.session.scalar(sa.select(Refund).where(Refund.aftersale_id == aftersale.id))


def test_wechat_processing_then_its_refund_notification_finishes_the_request(paid_through, run_jobs, client,
                                                                            wechatpay_fake):
    wechatpay_fake.refund_status = "PROCESSING"
    order = paid_through("wechatpay")
    aftersale = apply(order, kind="refund_only", quantity=1)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    run_jobs()
    refund = refund_of(aftersale)
    assert (refund.provider, refund.status, refund.out_refund_no) == ("wechatpay", "pending",
                                                                      f"RA{aftersale.aftersale_no}")
    assert fresh(aftersale).status == "refunding"
    [sent] = [b for b in wechatpay_fake.bodies if b.get("out_refund_no") == refund.out_refund_no]
    assert sent["amount"]["refund"] == order.items[0].paid_fen // 2  # one of two units

    wechatpay_fake.set_refund_status(refund.out_refund_no, "SUCCESS")
    response = post_refund_notification(client, *wechatpay_fake.refund_notification(refund.out_refund_no))
    assert response.status_code == 204
    assert fresh(aftersale).status == "refunded"


def test_wechat_abnormal_waits_for_finance_and_a_retry_reuses_the_number(paid_through, run_jobs, client,
                                                                        wechatpay_fake, make_user):
    wechatpay_fake.refund_error = (500, "SYSTEM_ERROR")
    order = paid_through("wechatpay")
    aftersale = apply(order, kind="refund_only", quantity=2)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    run_jobs()
    refund = refund_of(aftersale)
    assert refund.status == "pending" and refund.last_error  # the gateway was busy: the sweep retries
    wechatpay_fake.refund_error = None
    wechatpay_fake.refund_status = "ABNORMAL"
    with transaction():
        submit_refund(refund.id)
    assert refund_of(aftersale).status == "abnormal"
    assert {b.get("out_refund_no") for b in wechatpay_fake.bodies if "out_refund_no" in b} == {refund.out_refund_no}
    assert fresh(aftersale).status == "refunding"  # the buyer is not told it is back yet

    finance = make_user(admin_role="finance")
    with transaction():
        offline_refunds.settle_refund_offline(finance, refund.id, "买家银行卡已注销，已通过银行转账退回")
    assert fresh(aftersale).status == "refunded"


def test_alipay_refund_counts_only_when_money_moved(paid_through, run_jobs, alipay_fake):
    order = paid_through("alipay")
    aftersale = apply(order, kind="refund_only", quantity=2)
    with transaction():
        services.refund(owner_of(order), aftersale.aftersale_no)
    run_jobs()
    refund = refund_of(aftersale)
    assert refund.status == "succeeded" and fresh(aftersale).status == "refunded"
    assert alipay_fake.refund_moves == 1
