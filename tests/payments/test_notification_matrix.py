"""Every payment gateway's notifications, end to end: a real checkout, its payment
started with the gateway (against the fake gateway servers), then notifications
posted over HTTP to `POST /payments/notify/<provider>` — valid, repeated, forged,
re-signed with another amount, edited after signing, for an unknown trade, stale,
and arriving after the buyer cancelled — and the refunds that follow, sent by a
real RQ worker to the fake gateway's refund API.

The `Gateway` helpers here are reused by test_payment_flow.py and
tests/orders/test_jobs.py.
"""
from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from app.accounts.models import Identity
from app.catalog.models import Sku
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.jobs import get_queue
from app.core.money import fen_to_yuan
from app.extensions import db
from app.inventory.models import StockMovement
from app.merchants.models import MerchantMember
from app.notifications.models import Message
from app.orders import services as order_services
from app.orders.models import Order
from app.payments import services as payments
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PaymentNotification, Refund
from app.payments.providers import sandbox
from tests.factories import sandbox_notification

PROVIDERS = ("sandbox", "wechatpay", "alipay")
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- the gateways, seen from a test --------------------------------------------------------------

class Gateway:
    """One provider as a test drives it: start a payment, let the buyer pay at the
    gateway, and build the notifications the gateway (or an attacker) would send."""

    name = ""
    fake = None

    def start(self, buyer, payment: Payment, **overrides) -> dict:
        """What the pay view does: `payments.start` in a request of its own."""
        args = {**self.start_args(buyer), **overrides}
        db.session.commit()
        with current_app.test_request_context(base_url="https://shop.test"), transaction():
            return payments.start(buyer, payment.out_trade_no, self.name, **args)

    def start_args(self, buyer) -> dict:
        return {}

    def pay(self, out_trade_no: str, amount_fen: int) -> str:
        """The buyer pays at the gateway; returns the gateway's transaction id."""
        return "SBX" + uuid.uuid4().hex[:20].upper()

    def notification(self, out_trade_no: str, amount_fen: int, transaction_id: str | None = None,
                     notify_id: str | None = None) -> tuple[bytes, dict]:
        raise NotImplementedError

    def forged(self, out_trade_no: str, amount_fen: int) -> tuple[bytes, dict]:
        """Signed with a key that is not the gateway's."""
        raise NotImplementedError

    def edited(self, out_trade_no: str, amount_fen: int) -> tuple[bytes, dict]:
        """A genuine notification whose body was changed after signing."""
        raise NotImplementedError

    def refund_requests(self) -> int:
        """Refund calls the gateway received (sandbox: none, it has no server)."""
        return 0

    def refunded_fen(self, out_trade_no: str) -> int:
        """Money the gateway actually sent back for a trade."""
        return 0

    def post(self, client, body: bytes, headers: dict):
        db.session.commit()  # end the test's savepoint: the request commits for real
        response = client.post(f"/payments/notify/{self.name}", data=body, headers=headers)
        db.session.expire_all()
        return response

    def is_success(self, response) -> bool:
        return response.status_code == 200 and response.get_json() == {"ok": True}


class SandboxGateway(Gateway):
    name = "sandbox"

    def notification(self, out_trade_no, amount_fen, transaction_id=None, notify_id=None):
        return sandbox_notification(out_trade_no, amount_fen, transaction_id=transaction_id, notify_id=notify_id)

    def forged(self, out_trade_no, amount_fen):
        return sandbox_notification(out_trade_no, amount_fen, secret="not-the-sandbox-secret")

    def edited(self, out_trade_no, amount_fen):
        body, headers = sandbox_notification(out_trade_no, amount_fen + 1)
        return body.replace(f'"amount_fen": {amount_fen + 1}'.encode(), f'"amount_fen": {amount_fen}'.encode()), \
            headers


class WechatGateway(Gateway):
    name = "wechatpay"
    openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

    def __init__(self, fake) -> None:
        self.fake = fake

    def start_args(self, buyer) -> dict:
        # The mini-program buyer's openid, as sign-in stored it (app.accounts.identities).
        openid = db.session.scalar(sa.select(Identity.subject).where(Identity.user_id == buyer.id,
                                                                    Identity.provider == "wechat_mp"))
        if openid is None:
            openid = f"o{uuid.uuid4().hex[:27]}"
            db.session.add(Identity(user_id=buyer.id, provider="wechat_mp", subject=openid))
            db.session.commit()
        return {"channel": "jsapi", "openid": openid}

    def pay(self, out_trade_no, amount_fen):
        return self.fake.pay(out_trade_no).transaction_id

    def notification(self, out_trade_no, amount_fen, transaction_id=None, notify_id=None, **knobs):
        headers, body = self.fake.notification(out_trade_no, amount_fen, transaction_id=transaction_id,
                                               notify_id=notify_id, **knobs)
        return body, headers

    def forged(self, out_trade_no, amount_fen):
        return self.notification(out_trade_no, amount_fen, sign_key=OTHER_KEY)

    def edited(self, out_trade_no, amount_fen):
        return self.notification(out_trade_no, amount_fen, tamper="body")

    def refund_requests(self):
        return self.fake.refund_calls

    def refunded_fen(self, out_trade_no):
        trade = self.fake.trades.get(out_trade_no)
        return trade.refunded if trade else 0

    def is_success(self, response):
        return response.status_code == 204 and response.data == b""


class AlipayGateway(Gateway):
    name = "alipay"

    def __init__(self, fake) -> None:
        self.fake = fake

    def start(self, buyer, payment):
        client = super().start(buyer, payment)
        # The buyer's browser opens the signed pay URL: the trade now exists at Alipay.
        self.fake.open_pay_url(client["pay_url"])
        return client

    def start_args(self, buyer):
        return {"channel": "page"}

    def pay(self, out_trade_no, amount_fen):
        return self.fake.pay(out_trade_no, fen_to_yuan(amount_fen)).trade_no

    def notification(self, out_trade_no, amount_fen, transaction_id=None, notify_id=None, **knobs):
        body = self.fake.notification(out_trade_no, fen_to_yuan(amount_fen), trade_no=transaction_id,
                                      notify_id=notify_id, **knobs)
        return body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def forged(self, out_trade_no, amount_fen):
        return self.notification(out_trade_no, amount_fen, sign_key=OTHER_KEY)

    def edited(self, out_trade_no, amount_fen):
        return self.notification(out_trade_no, amount_fen + 1, tamper={"total_amount": fen_to_yuan(amount_fen)})

    def refund_requests(self):
        return sum(1 for seen in self.fake.requests
                   if {**seen.query, **seen.form}.get("method") == "alipay.trade.refund")

    def refunded_fen(self, out_trade_no):
        trade = self.fake.trades.get(out_trade_no)
        return int(trade.refunded * 100) if trade else 0

    def is_success(self, response):
        return response.status_code == 200 and response.data == b"success"


@pytest.fixture
def gateway_for(request):
    """`gateway_for("wechatpay")` -> a Gateway whose fake server is running."""

    def make(name: str) -> Gateway:
        if name == "sandbox":
            return SandboxGateway()
        if name == "wechatpay":
            return WechatGateway(request.getfixturevalue("wechatpay_fake"))
        return AlipayGateway(request.getfixturevalue("alipay_fake"))

    return make


# --- reading the state back ------------------------------------------------------------------------

def fresh_payment(payment_id: int) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


def orders_of(payment_id: int) -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment_id).order_by(Order.id)))


def stock_of(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def owner_of(merchant_id: int) -> int:
    return db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant_id))


def messages_to(user_id: int, title: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(Message).where(Message.recipient_id == user_id)
    if title:
        query = query.where(Message.title == title)
    return db.session.scalar(query)


def outcomes(out_trade_no: str) -> list[str]:
    return list(db.session.scalars(sa.select(PaymentNotification.outcome)
                                   .where(PaymentNotification.out_trade_no == out_trade_no)
                                   .order_by(PaymentNotification.id)))


def refunds_of(payment_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)))


def snapshot(payment_id: int, sku_ids: list[int]) -> tuple:
    """Everything a notification could change."""
    payment = fresh_payment(payment_id)
    return (payment.status, payment.transaction_id, payment.paid_at,
            [(o.status, o.stock_state, o.paid_at) for o in orders_of(payment_id)],
            [stock_of(sku_id) for sku_id in sku_ids],
            db.session.scalar(sa.select(sa.func.count()).select_from(Message)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Refund)),
            db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)))


def set_stock_mode(make_user, mode: str) -> None:
    with transaction():
        platform_settings.put("stock_deduction", mode, make_user(admin_role="super"))


def run_until(run_jobs, condition, rounds: int = 10) -> None:
    """Run burst workers until `condition` holds: waits on state, never on the clock."""
    for _ in range(rounds):
        run_jobs()
        db.session.expire_all()
        if condition():
            return
    raise AssertionError("condition not reached after running the queues")


@pytest.fixture
def checkout(make_user, make_product, place_order):
    """A started payment for one buyer: `checkout(gateway, stocks=..., shops=2)` ->
    (buyer, payment, [sku ids], client dict)."""

    def make(gateway: Gateway, shops: int = 1, quantity: int = 2, stock: int = 5):
        buyer = make_user()
        products = [make_product(stocks=(stock,), price_fen=1250 + 100 * i) for i in range(shops)]
        payment = place_order(buyer, [(p.skus[0].id, quantity) for p in products])
        client = gateway.start(buyer, payment)
        payment = fresh_payment(payment.id)
        assert payment.provider == gateway.name and client["out_trade_no"] == payment.out_trade_no
        return buyer, payment, [p.skus[0].id for p in products], client

    return make


# --- a valid notification, and the same one again ---------------------------------------------------

@pytest.mark.parametrize("mode", ["on_order", "on_payment"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_valid_notification_pays_everything_once_and_repeats_change_nothing(
        provider, mode, gateway_for, checkout, make_user, client):
    set_stock_mode(make_user, mode)
    gateway = gateway_for(provider)
    buyer, payment, skus, _client = checkout(gateway, shops=2, quantity=2, stock=5)
    reserved = 3 if mode == "on_order" else 5
    assert [stock_of(s) for s in skus] == [reserved, reserved]
    owners = [owner_of(o.merchant_id) for o in orders_of(payment.id)]

    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    body, headers = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id)
    assert gateway.is_success(gateway.post(client, body, headers))

    paid = fresh_payment(payment.id)
    assert (paid.status, paid.transaction_id, paid.provider) == ("paid", transaction_id, provider)
    orders = orders_of(payment.id)
    assert [(o.status, o.stock_state) for o in orders] == [("paid", "deducted")] * 2
    assert [stock_of(s) for s in skus] == [3, 3]
    assert [messages_to(owner, "新订单待发货") for owner in owners] == [1, 1]
    if mode == "on_payment":  # taken at payment, with a movement naming the payment
        moves = db.session.scalars(sa.select(StockMovement.reason).where(StockMovement.sku_id.in_(skus))).all()
        assert sorted(moves) == ["payment_deduct", "payment_deduct"]

    before = snapshot(payment.id, skus)
    for _ in range(3):
        assert gateway.is_success(gateway.post(client, body, headers))
    assert snapshot(payment.id, skus) == before
    assert outcomes(payment.out_trade_no) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert refunds_of(payment.id) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_redelivery_under_a_new_notify_id_is_still_a_duplicate(provider, gateway_for, checkout, client):
    gateway = gateway_for(provider)
    _buyer, payment, skus, _c = checkout(gateway)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         transaction_id)))
    before = snapshot(payment.id, skus)
    again = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id)  # fresh notify id
    assert gateway.is_success(gateway.post(client, *again))
    assert snapshot(payment.id, skus) == before
    assert outcomes(payment.out_trade_no) == ["applied", "duplicate"]


# --- refused notifications ---------------------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("kind", "status", "outcome"), [
    ("forged", 401, "rejected"),
    ("edited", 401, "rejected"),
    ("resigned_amount", 409, "amount_mismatch"),
    ("unknown_trade", 404, "unknown_trade"),
])
def test_bad_notifications_are_refused_and_change_nothing(provider, kind, status, outcome, gateway_for, checkout,
                                                          client):
    gateway = gateway_for(provider)
    _buyer, payment, skus, _c = checkout(gateway)
    gateway.pay(payment.out_trade_no, payment.amount_fen)
    before = snapshot(payment.id, skus)
    out_trade_no = payment.out_trade_no
    if kind == "forged":
        body, headers = gateway.forged(out_trade_no, payment.amount_fen)
    elif kind == "edited":
        body, headers = gateway.edited(out_trade_no, payment.amount_fen)
    elif kind == "resigned_amount":  # the gateway's own signature over a different total
        body, headers = gateway.notification(out_trade_no, payment.amount_fen - 1)
    else:
        out_trade_no = "P" + "9" * 17
        body, headers = gateway.notification(out_trade_no, payment.amount_fen)

    response = gateway.post(client, body, headers)

    assert response.status_code == status
    assert not gateway.is_success(response)
    assert snapshot(payment.id, skus) == before
    assert fresh_payment(payment.id).status == "pending"
    # stored as it arrived, with what we made of it; it reserves no notify id
    row = db.session.scalar(sa.select(PaymentNotification).order_by(PaymentNotification.id.desc()).limit(1))
    assert (row.provider, row.outcome, row.dedupe_key) == (provider, outcome, None)
    assert row.body == body.decode()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_refused_notification_does_not_block_the_genuine_one(provider, gateway_for, checkout, client):
    """A forgery carrying the genuine notify id must not make the real delivery a 'duplicate'."""
    gateway = gateway_for(provider)
    _buyer, payment, _skus, _c = checkout(gateway)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    genuine = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id, notify_id="N-shared-1")
    wrong_amount = gateway.notification(payment.out_trade_no, payment.amount_fen + 1, transaction_id,
                                        notify_id="N-shared-1")
    assert gateway.post(client, *wrong_amount).status_code == 409
    assert gateway.is_success(gateway.post(client, *genuine))
    assert fresh_payment(payment.id).status == "paid"
    assert outcomes(payment.out_trade_no) == ["amount_mismatch", "applied"]


@pytest.mark.parametrize("skew", [-301, 301])
def test_wechat_notification_outside_the_time_window_is_refused(skew, gateway_for, checkout, client):
    gateway = gateway_for("wechatpay")
    _buyer, payment, skus, _c = checkout(gateway)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    before = snapshot(payment.id, skus)
    body, headers = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id,
                                         timestamp=int(time.time()) + skew)
    response = gateway.post(client, body, headers)
    assert response.status_code == 401 and response.get_json()["code"] == "FAIL"
    assert snapshot(payment.id, skus) == before
    assert db.session.scalar(sa.select(PaymentNotification.detail).order_by(PaymentNotification.id.desc())
                             .limit(1)).startswith("Wechatpay-Timestamp outside")
    # the same payment, announced in time, goes through
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         transaction_id)))
    assert fresh_payment(payment.id).status == "paid"


def test_a_failed_payment_notification_changes_nothing(gateway_for, checkout, client):
    gateway = gateway_for("sandbox")
    _buyer, payment, skus, _c = checkout(gateway)
    before = snapshot(payment.id, skus)
    body, headers = sandbox.build_notification(payment.out_trade_no, payment.amount_fen, "FAIL")
    assert gateway.is_success(gateway.post(client, body, headers))
    assert snapshot(payment.id, skus) == before
    assert outcomes(payment.out_trade_no) == ["failed_payment"]


# --- money that arrives after the buyer cancelled -------------------------------------------------

@pytest.mark.parametrize("mode", ["on_order", "on_payment"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_payment_after_cancel_is_refunded_once_at_the_gateway(provider, mode, gateway_for, checkout, make_user,
                                                              client, run_jobs):
    set_stock_mode(make_user, mode)
    gateway = gateway_for(provider)
    buyer, payment, skus, _c = checkout(gateway, quantity=2, stock=5)
    order = orders_of(payment.id)[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    assert stock_of(skus[0]) == 5 and fresh_payment(payment.id).status == "closed"
    owner = owner_of(order.merchant_id)

    # ...but the buyer had the gateway's page open and paid anyway
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    body, headers = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id)
    assert gateway.is_success(gateway.post(client, body, headers))

    assert orders_of(payment.id)[0].status == "cancelled"
    assert stock_of(skus[0]) == 5
    assert messages_to(owner, "新订单待发货") == 0
    assert messages_to(buyer.id, "订单已自动退款") == 1
    [refund] = refunds_of(payment.id)
    assert (refund.out_refund_no, refund.amount_fen, refund.status, refund.provider, refund.order_id) == (
        f"RF{order.order_no}", order.amount_fen, "pending", provider, order.id)
    assert outcomes(payment.out_trade_no) == ["refunded"]

    run_until(run_jobs, lambda: refunds_of(payment.id)[0].status == "succeeded")
    assert gateway.refunded_fen(payment.out_trade_no) == (order.amount_fen if provider != "sandbox" else 0)
    calls = gateway.refund_requests()
    assert calls == (1 if provider != "sandbox" else 0)

    # the notification again: still one refund
    assert gateway.is_success(gateway.post(client, body, headers))
    assert len(refunds_of(payment.id)) == 1

    # The worker died after the gateway refunded but before we recorded it: the
    # sweep asks the gateway about the same out_refund_no, hears it succeeded and
    # records that without sending the refund again; the gateway pays nothing twice.
    db.session.execute(sa.update(Refund).where(Refund.id == refund.id).values(status="pending", finished_at=None))
    db.session.commit()
    get_queue("default").enqueue(payment_tasks.sweep_refunds)
    run_until(run_jobs, lambda: refunds_of(payment.id)[0].status == "succeeded")
    assert gateway.refund_requests() == calls
    assert gateway.refunded_fen(payment.out_trade_no) == (order.amount_fen if provider != "sandbox" else 0)
    again = refunds_of(payment.id)[0]
    assert again.provider_refund_id and again.attempts == 1

    # and once it is recorded, the sweep leaves it alone
    get_queue("default").enqueue(payment_tasks.sweep_refunds)
    run_jobs()
    assert gateway.refund_requests() == calls


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_a_refund_the_gateway_could_not_take_is_retried_by_the_sweep(provider, gateway_for, checkout, client,
                                                                     run_jobs, monkeypatch):
    gateway = gateway_for(provider)
    buyer, payment, _skus, _c = checkout(gateway)
    order = orders_of(payment.id)[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         transaction_id)))
    # the gateway is unreachable while the refund job runs (every retry too)
    key = "WECHATPAY_BASE_URL" if provider == "wechatpay" else "ALIPAY_GATEWAY_URL"
    real_url = current_app.config[key]
    monkeypatch.setitem(current_app.config, key, "http://127.0.0.1:9/unreachable")
    run_jobs()
    monkeypatch.setitem(current_app.config, key, real_url)
    [refund] = refunds_of(payment.id)
    assert refund.status == "pending" and refund.attempts >= 1 and refund.last_error
    assert gateway.refunded_fen(payment.out_trade_no) == 0

    get_queue("default").enqueue(payment_tasks.sweep_refunds)
    run_until(run_jobs, lambda: refunds_of(payment.id)[0].status == "succeeded")
    assert gateway.refunded_fen(payment.out_trade_no) == order.amount_fen
    assert refunds_of(payment.id)[0].last_error is None


# --- one checkout, two shops, one of them cancelled before paying ---------------------------------

@pytest.mark.parametrize("mode", ["on_order", "on_payment"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_paying_a_checkout_with_one_shop_cancelled_pays_the_other_and_refunds_its_share(
        provider, mode, gateway_for, checkout, make_user, client, run_jobs):
    set_stock_mode(make_user, mode)
    gateway = gateway_for(provider)
    buyer, payment, skus, _c = checkout(gateway, shops=2, quantity=1, stock=4)
    cancelled, kept = orders_of(payment.id)
    assert cancelled.amount_fen != kept.amount_fen
    with transaction():
        order_services.cancel_by_buyer(buyer.id, cancelled.order_no)
    assert fresh_payment(payment.id).status == "pending"  # the other shop is still to be paid

    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         transaction_id)))

    assert fresh_payment(payment.id).status == "paid"
    assert [o.status for o in orders_of(payment.id)] == ["cancelled", "paid"]
    assert [stock_of(s) for s in skus] == [4, 3]
    assert messages_to(owner_of(cancelled.merchant_id), "新订单待发货") == 0
    assert messages_to(owner_of(kept.merchant_id), "新订单待发货") == 1
    [refund] = refunds_of(payment.id)
    assert (refund.out_refund_no, refund.amount_fen, refund.order_id) == (f"RF{cancelled.order_no}",
                                                                          cancelled.amount_fen, cancelled.id)
    assert outcomes(payment.out_trade_no) == ["applied"]

    run_until(run_jobs, lambda: refunds_of(payment.id)[0].status == "succeeded")
    if provider != "sandbox":  # only the cancelled shop's share went back
        assert gateway.refunded_fen(payment.out_trade_no) == cancelled.amount_fen
        assert gateway.refund_requests() == 1


def test_on_payment_stock_run_out_cancels_that_shop_and_refunds_only_it(gateway_for, make_user, make_product,
                                                                        place_order, client, run_jobs,
                                                                        wechatpay_fake):
    set_stock_mode(make_user, "on_payment")
    gateway = gateway_for("wechatpay")
    scarce, plenty = make_product(stocks=(1,), price_fen=3000), make_product(stocks=(9,), price_fen=1000)
    rival = make_user()
    rival_payment = place_order(rival, [(scarce.skus[0].id, 1)])
    buyer = make_user()
    payment = place_order(buyer, [(scarce.skus[0].id, 1), (plenty.skus[0].id, 2)])
    gateway.start(rival, rival_payment)
    gateway.start(buyer, payment)
    for p in (rival_payment, payment):  # the rival's money arrives first
        tid = gateway.pay(p.out_trade_no, p.amount_fen)
        assert gateway.is_success(gateway.post(client, *gateway.notification(p.out_trade_no, p.amount_fen, tid)))

    lost, kept = orders_of(payment.id)
    assert (lost.status, lost.cancel_reason, kept.status) == ("cancelled", "out_of_stock", "paid")
    assert stock_of(scarce.skus[0].id) == 0 and stock_of(plenty.skus[0].id) == 7
    run_until(run_jobs, lambda: refunds_of(payment.id) and refunds_of(payment.id)[0].status == "succeeded")
    assert gateway.refunded_fen(payment.out_trade_no) == lost.amount_fen
