"""Starting a payment with each gateway (against the fake gateway servers): what
the client gets back, who may start it, regrouping after part of a checkout was
cancelled (the old trade closed at the gateway by the worker), and the sandbox
switched off."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from app.accounts.models import Identity
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.money import fen_to_yuan
from app.extensions import db
from app.orders import services as order_services
from app.payments.services import by_trade_no
from tests.payments.test_notification_matrix import (  # noqa: F401  (gateway_for, checkout are fixtures)
    WechatGateway,
    checkout,
    fresh_payment,
    gateway_for,
    orders_of,
    refunds_of,
    run_until,
)

# --- what each gateway's start gives the client -----------------------------------------------------

def test_sandbox_start_gives_the_local_pay_page(gateway_for, checkout, make_user, login, client):
    buyer, payment, _skus, started = checkout(gateway_for("sandbox"))
    assert started == {"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen,
                       "provider": "sandbox", "channel": "page",
                       "pay_url": f"/payments/sandbox/{payment.out_trade_no}"}
    login(make_user())  # someone else's pay page does not exist for them
    assert client.get(started["pay_url"]).status_code == 404
    assert client.post(started["pay_url"], data={"result": "pay"}).status_code == 404
    assert fresh_payment(payment.id).status == "pending"


def test_wechat_jsapi_start_gives_request_payment_params_signed_with_the_merchant_key(
        gateway_for, checkout, wechatpay_fake, payment_keys):
    buyer, payment, _skus, started = checkout(gateway_for("wechatpay"), shops=2)
    params = {k: started[k] for k in ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")}
    assert params["appId"] == wechatpay_fake.appid and params["signType"] == "RSA"
    assert params["package"].startswith("prepay_id=wx")
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    merchant_public = payment_keys.wechat.merchant[0].public_key()
    merchant_public.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())
    # the prepay named this checkout, its total, our notify URL and the buyer's own openid
    sent = wechatpay_fake.bodies[-1]
    openid = db.session.scalar(sa.select(Identity.subject).where(Identity.user_id == buyer.id))
    assert sent["out_trade_no"] == payment.out_trade_no and sent["amount"] == {"total": payment.amount_fen,
                                                                              "currency": "CNY"}
    assert sent["payer"] == {"openid": openid}
    # on PUBLIC_BASE_URL (the tests' http://localhost), not on the request's host (shop.test)
    assert sent["notify_url"] == "http://localhost/payments/notify/wechatpay"
    assert "等 2 家店铺的订单" in sent["description"]
    assert wechatpay_fake.trades[payment.out_trade_no].trade_state == "NOTPAY"


def test_wechat_native_start_gives_a_code_url(gateway_for, checkout, wechatpay_fake):
    gateway = gateway_for("wechatpay")
    gateway.start_args = lambda buyer: {"channel": "native"}
    _buyer, payment, _skus, started = checkout(gateway)
    assert started["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert wechatpay_fake.trades[payment.out_trade_no].trade_type == "NATIVE"


def test_wechat_jsapi_without_an_openid_is_refused_and_changes_nothing(gateway_for, make_user, make_product,
                                                                       place_order, wechatpay_fake):
    gateway = gateway_for("wechatpay")
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    with pytest.raises(ValidationError):
        gateway.start(buyer, payment, openid=None)
    assert wechatpay_fake.requests == [] and fresh_payment(payment.id).provider is None


def test_alipay_start_gives_a_signed_pay_url(gateway_for, checkout, alipay_fake):
    _buyer, payment, _skus, started = checkout(gateway_for("alipay"))  # opening it checks the signature
    params = {k: v[0] for k, v in parse_qs(urlsplit(started["pay_url"]).query).items()}
    assert params["notify_url"] == "http://localhost/payments/notify/alipay"  # PUBLIC_BASE_URL
    biz = json.loads(params["biz_content"])
    assert (biz["out_trade_no"], biz["total_amount"]) == (payment.out_trade_no, fen_to_yuan(payment.amount_fen))
    # a pay URL with the amount changed is refused by the gateway
    params["biz_content"] = params["biz_content"].replace(biz["total_amount"], "0.01")
    with pytest.raises(AssertionError):
        alipay_fake.open_pay_url(alipay_fake.url + "?" + urlencode(params))


# --- who may pay ----------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["sandbox", "wechatpay", "alipay"])
def test_someone_elses_payment_cannot_be_started(provider, gateway_for, make_user, make_product, place_order):
    gateway = gateway_for(provider)
    payment = place_order(make_user(), [(make_product().skus[0].id, 1)])
    with pytest.raises(NotFound):
        gateway.start(make_user(), payment)
    assert fresh_payment(payment.id).provider is None
    if gateway.fake is not None:
        assert gateway.fake.requests == []


def test_a_paid_payment_cannot_be_started_again(gateway_for, checkout, client):
    gateway = gateway_for("sandbox")
    buyer, payment, _skus, _c = checkout(gateway)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen)))
    with pytest.raises(Conflict) as caught:
        gateway.start(buyer, payment)
    assert caught.value.code == "already_paid"


def test_an_unconfigured_gateway_is_refused(gateway_for, make_user, make_product, place_order):
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    with pytest.raises(Conflict) as caught:  # no WeChat Pay keys configured here
        WechatGateway(None).start(buyer, payment, channel="native")
    assert caught.value.code == "provider_unavailable"
    assert fresh_payment(payment.id).provider is None


# --- regrouping after part of a checkout was cancelled ---------------------------------------------

def native(gateway):
    if gateway.name == "wechatpay":
        gateway.start_args = lambda buyer: {"channel": "native"}
    return gateway


def trade_state(gateway, out_trade_no: str) -> str:
    trade = gateway.fake.trades[out_trade_no]
    return trade.trade_state if gateway.name == "wechatpay" else trade.trade_status


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_paying_after_cancelling_one_shop_regroups_and_closes_the_old_trade(provider, gateway_for, checkout,
                                                                            run_jobs, client):
    gateway = native(gateway_for(provider))
    buyer, old, _skus, _c = checkout(gateway, shops=2)
    cancelled, kept = orders_of(old.id)
    with transaction():
        order_services.cancel_by_buyer(buyer.id, cancelled.order_no)

    started = gateway.start(buyer, old)

    assert started["out_trade_no"] != old.out_trade_no and started["amount_fen"] == kept.amount_fen
    old_now = fresh_payment(old.id)
    assert old_now.status == "closed"
    assert [o.order_no for o in orders_of(old.id)] == [cancelled.order_no]
    fresh = by_trade_no(started["out_trade_no"])
    assert [o.order_no for o in orders_of(fresh.id)] == [kept.order_no]
    assert (fresh.amount_fen, fresh.provider, fresh.buyer_id) == (kept.amount_fen, provider, buyer.id)
    assert trade_state(gateway, old.out_trade_no) in ("NOTPAY", "WAIT_BUYER_PAY")  # closed by a job, not inline

    run_until(run_jobs, lambda: trade_state(gateway, old.out_trade_no) in ("CLOSED", "TRADE_CLOSED"))
    assert trade_state(gateway, started["out_trade_no"]) in ("NOTPAY", "WAIT_BUYER_PAY")

    # the new trade is paid and applied; the old one stays closed with nothing to refund
    tid = gateway.pay(started["out_trade_no"], kept.amount_fen)
    response = gateway.post(client, *gateway.notification(started["out_trade_no"], kept.amount_fen, tid))
    assert gateway.is_success(response)
    assert [o.status for o in orders_of(fresh.id)] == ["paid"]
    assert refunds_of(fresh.id) == [] and refunds_of(old.id) == []


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_money_paid_into_a_regrouped_trade_goes_back_whole(provider, gateway_for, checkout, client, run_jobs):
    """The buyer paid the old trade at the gateway just before the regroup closed it:
    the cancelled shop's share and the share of the order now on the new payment both go back."""
    gateway = native(gateway_for(provider))
    buyer, old, _skus, _c = checkout(gateway, shops=2)
    cancelled, kept = orders_of(old.id)
    with transaction():
        order_services.cancel_by_buyer(buyer.id, cancelled.order_no)
    started = gateway.start(buyer, old)
    tid = gateway.pay(old.out_trade_no, old.amount_fen)  # paid before the close job ran

    assert gateway.is_success(gateway.post(client, *gateway.notification(old.out_trade_no, old.amount_fen, tid)))

    run_until(run_jobs, lambda: refunds_of(old.id) and all(r.status == "succeeded" for r in refunds_of(old.id)))
    assert sum(r.amount_fen for r in refunds_of(old.id)) == old.amount_fen
    assert gateway.refunded_fen(old.out_trade_no) == old.amount_fen
    # the order that moved is still waiting for its own payment
    assert [o.status for o in orders_of(by_trade_no(started["out_trade_no"]).id)] == ["pending_payment"]


def test_switching_gateways_closes_the_first_trade(gateway_for, checkout, run_jobs, alipay_fake):
    wechat = native(gateway_for("wechatpay"))
    buyer, payment, _skus, _c = checkout(wechat)
    started = gateway_for("alipay").start(buyer, payment)
    assert started["out_trade_no"] == payment.out_trade_no and fresh_payment(payment.id).provider == "alipay"
    run_until(run_jobs, lambda: trade_state(wechat, payment.out_trade_no) == "CLOSED")


# --- the sandbox switched off ---------------------------------------------------------------------

def test_without_its_secret_the_sandbox_does_not_exist(app, monkeypatch, gateway_for, make_user, make_product,
                                                       place_order, login, client):
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    body, headers = gateway_for("sandbox").notification(payment.out_trade_no, payment.amount_fen)
    monkeypatch.setitem(app.config, "SANDBOX_PAY_SECRET", None)
    login(buyer)
    assert client.get(f"/payments/sandbox/{payment.out_trade_no}").status_code == 404
    assert client.post(f"/payments/sandbox/{payment.out_trade_no}", data={"result": "pay"}).status_code == 404
    db.session.commit()
    assert client.post("/payments/notify/sandbox", data=body, headers=headers).status_code == 404
    with pytest.raises(Conflict) as caught:
        gateway_for("sandbox").start(buyer, payment)
    assert caught.value.code == "provider_unavailable"
    assert (fresh_payment(payment.id).status, fresh_payment(payment.id).provider) == ("pending", None)


# --- a payment whose orders are all cancelled is closed at its gateway too -------------------------

@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
@pytest.mark.parametrize("how", ["buyer", "timeout"])
def test_cancelling_every_order_closes_the_trade_at_the_gateway(provider, how, gateway_for, checkout, run_jobs):
    """Otherwise the buyer could still pay the cancelled orders from the open QR code or page."""
    from datetime import timedelta

    import sqlalchemy as sa_

    from app.core.clock import utcnow
    from app.core.jobs import get_queue
    from app.orders import tasks as order_tasks
    from app.orders.models import Order

    gateway = native(gateway_for(provider))
    buyer, payment, _skus, _c = checkout(gateway)
    order = orders_of(payment.id)[0]
    if how == "buyer":
        with transaction():
            order_services.cancel_by_buyer(buyer.id, order.order_no)
    else:
        db.session.execute(sa_.update(Order).where(Order.id == order.id)
                           .values(pay_expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        get_queue("default").enqueue(order_tasks.sweep_unpaid)
    run_until(run_jobs, lambda: trade_state(gateway, payment.out_trade_no) in ("CLOSED", "TRADE_CLOSED"))
    assert fresh_payment(payment.id).status == "closed"


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_a_lost_close_job_is_made_good_by_the_sweep(provider, gateway_for, checkout, run_jobs, redis_client):
    """The buyer cancelled, and Redis came back empty before a worker took the close job:
    `sweep_gateway_closes` closes the trade a minute later, once."""
    from datetime import timedelta

    from app.core.clock import travel
    from app.payments import tasks as payment_tasks

    gateway = native(gateway_for(provider))
    buyer, payment, _skus, _c = checkout(gateway)
    with transaction():
        order_services.cancel_by_buyer(buyer.id, orders_of(payment.id)[0].order_no)
    redis_client.flushdb()
    assert run_jobs() == 0
    assert fresh_payment(payment.id).status == "closed" and fresh_payment(payment.id).gateway_closed_at is None
    assert trade_state(gateway, payment.out_trade_no) in ("NOTPAY", "WAIT_BUYER_PAY")  # still payable

    assert payment_tasks.sweep_gateway_closes() == 0  # within its minute the job may just be late
    with travel(timedelta(minutes=2)):
        assert payment_tasks.sweep_gateway_closes() == 1
        assert payment_tasks.sweep_gateway_closes() == 0  # confirmed: not asked again
    assert trade_state(gateway, payment.out_trade_no) in ("CLOSED", "TRADE_CLOSED")
    assert fresh_payment(payment.id).gateway_closed_at is not None


def test_the_close_job_records_the_gateways_confirmation(gateway_for, checkout, run_jobs):
    gateway = native(gateway_for("wechatpay"))
    buyer, payment, _skus, _c = checkout(gateway)
    with transaction():
        order_services.cancel_by_buyer(buyer.id, orders_of(payment.id)[0].order_no)
    run_until(run_jobs, lambda: fresh_payment(payment.id).gateway_closed_at is not None)
    assert trade_state(gateway, payment.out_trade_no) == "CLOSED"
