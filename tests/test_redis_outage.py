"""Redis outage drills. Each test starts a redis-server of its own, points an app at
it, and kills it (SIGKILL) or freezes it (SIGSTOP) in the middle of a flow: the
shop must keep signing people in and taking orders, say `degraded` on /healthz,
and once Redis is back (empty, as after a crash) the sweeps must finish every
job the outage dropped, sending nothing twice."""
from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel
from app.core.jobs import get_queue
from app.extensions import db
from app.notifications.models import OutboundMessage
from app.orders.models import Order
from app.payments.models import Payment
from tests.redis_server import drain

PHONE = "13955550001"
PASSWORD = "secret123"  # the factories' password


def errors_logged(caplog, text: str) -> int:
    return sum(1 for r in caplog.records if r.levelno >= logging.ERROR and text in r.getMessage())


def test_sign_in_works_while_redis_is_down_and_failed_logins_are_still_limited(
        redis_server, app_on, make_user, outbox, caplog):
    shop = app_on(redis_server)
    make_user(phone=PHONE, email="buyer@example.com")
    # Redis up: the buyer asks for a sign-in code and the worker sends it.
    assert shop.test_client().post("/auth/sms-code", data={"phone": PHONE, "purpose": "login"}).status_code == 302
    drain(shop)
    code = outbox.last_code(PHONE)

    redis_server.kill()
    caplog.set_level(logging.WARNING)

    by_code = shop.test_client().post("/login", data={"mode": "sms", "phone": PHONE, "code": code})
    assert by_code.status_code == 302 and by_code.headers["Location"].endswith("/me")
    by_password = shop.test_client().post("/login", data={"account": PHONE, "password": PASSWORD})
    assert by_password.status_code == 302 and by_password.headers["Location"].endswith("/me")
    api = shop.test_client().post("/api/v1/auth/login/password", json={"account": "buyer@example.com",
                                                                       "password": PASSWORD})
    assert api.status_code == 200 and api.get_json()["token"]

    # Failed sign-ins are still counted (in this process): the sixth wrong password in
    # 15 minutes is refused even with the right one.
    for _ in range(5):
        wrong = shop.test_client().post("/login", data={"account": PHONE, "password": "wrong-pass1"})
        assert wrong.status_code == 200 and "账号或密码错误" in wrong.get_data(as_text=True)
    locked = shop.test_client().post("/login", data={"account": PHONE, "password": PASSWORD})
    assert locked.status_code == 200 and "尝试次数过多" in locked.get_data(as_text=True)

    # A new code for another number: the request answers normally, the SMS waits in the queue.
    other = "13955550002"
    asked = shop.test_client().post("/api/v1/auth/sms-codes", json={"phone": other, "purpose": "register"})
    assert asked.status_code == 202
    assert db.session.scalar(sa.select(OutboundMessage.status).where(OutboundMessage.recipient == "+86" + other)) \
        == "queued"

    # The outage is logged once, not once per request.
    assert errors_logged(caplog, "rate-limit storage unreachable") == 1
    assert errors_logged(caplog, "job queue unreachable") == 1
    assert not any(r.name == "app.web.errors" for r in caplog.records)  # no unhandled error


def test_limits_are_shared_again_once_redis_answers(redis_server, app_on, caplog):
    from app.core import ratelimit

    shop = app_on(redis_server, RATELIMIT_STORAGE_RECHECK_SECONDS=0)
    caplog.set_level(logging.WARNING)
    with shop.app_context():
        redis_server.kill()
        assert ratelimit.test("drill", "2/minute", "someone")  # counted in this process
        ratelimit.hit("drill", "2/minute", "someone", "too many")
        assert ratelimit.storage_down_since() is not None

        redis_server.start()  # back, empty
        ratelimit.hit("drill", "2/minute", "someone", "too many")  # asks Redis again first, and counts there
        assert ratelimit.storage_down_since() is None
        assert any(key.startswith(b"LIMITS") for key in shop.extensions["redis"].client.keys("*"))
    assert any("rate-limit storage answers again" in r.getMessage() for r in caplog.records)


def test_a_hung_redis_costs_a_request_a_bounded_time(redis_server, app_on, make_user):
    """SIGSTOP: connections are accepted but never answered. Without socket timeouts
    every request that touches Redis would hang until the test's own timeout."""
    shop = app_on(redis_server, REDIS_CONNECT_TIMEOUT_SECONDS=0.2, REDIS_SOCKET_TIMEOUT_SECONDS=0.3)
    make_user(phone=PHONE)
    redis_server.freeze()
    try:
        started = time.monotonic()
        health = shop.test_client().get("/healthz")
        assert health.status_code == 200 and health.get_json()["status"] == "degraded"
        signed_in = shop.test_client().post("/login", data={"account": PHONE, "password": PASSWORD})
        assert signed_in.status_code == 302
        # two tries of 0.3 s per Redis call at most (PING; the limiter's first call, then memory)
        assert time.monotonic() - started < 4
    finally:
        redis_server.thaw()


def test_healthz_is_degraded_with_200_while_redis_is_down_and_ok_again_after(redis_server, app_on):
    shop = app_on(redis_server)
    assert shop.test_client().get("/healthz").get_json()["status"] == "ok"
    redis_server.kill()
    down = shop.test_client().get("/healthz")
    assert down.status_code == 200  # a load balancer keeps the node: it still serves
    assert down.get_json()["status"] == "degraded"
    assert down.get_json()["checks"]["redis"].startswith("error: ConnectionError")
    assert down.get_json()["checks"]["database"] == "ok"
    redis_server.start()
    back = shop.test_client().get("/healthz")
    assert back.status_code == 200 and back.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_the_job_console_says_the_queue_is_unreachable(redis_server, app_on, make_user, login):
    shop = app_on(redis_server)
    client = shop.test_client()
    login(make_user(admin_role="operator"), on=client)
    redis_server.kill()
    page = client.get("/admin/jobs")
    assert page.status_code == 200 and "任务队列（Redis）暂时无法连接" in page.get_data(as_text=True)
    requeue = client.post("/admin/jobs/default/some-job/requeue", headers={"Accept": "application/json"})
    assert requeue.status_code == 503 and requeue.get_json()["error"]["code"] == "unavailable"


# --- the whole drill ---------------------------------------------------------------------------------


def _checkout_form(html: str) -> dict:
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or ('type="radio"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    return data


def _sweep(shop, *sweeps) -> int:
    """Queue the periodic jobs as RQ cron does and let a worker run them (and what they queue)."""
    with shop.app_context():
        for sweep in sweeps:
            get_queue("default").enqueue(sweep)
    return drain(shop)


def _sent_to(outbox, address: str) -> list:
    return [m for m in outbox.mails() if m["To"] == address]


@pytest.mark.live_db
def test_fault_drill_redis_dies_mid_flow_and_nothing_is_lost(redis_server, app_on, make_user, make_merchant,
                                                             make_product, make_address, login, outbox, caplog):
    from app.inventory.alerts import sweep_unnotified_alerts
    from app.inventory.models import LowStockAlert
    from app.notifications.tasks import resend_stuck_outbound
    from app.orders.tasks import sweep_unpaid
    from app.payments.tasks import sweep_gateway_closes, sweep_pending_payments

    shop = app_on(redis_server)
    buyer = make_user(phone=PHONE, email="buyer@example.com")
    make_address(buyer)
    owner = make_user(phone="13955550009")
    merchant = make_merchant(owner=owner, stock_alert_channels=["insite", "sms"])
    sku = make_product(merchant=merchant, title="赣南脐橙", stocks=(6,), threshold=5, price_fen=3000).skus[0]

    # Redis up: the buyer fills the cart and asks for a reset mail; Redis dies before
    # a worker takes the mail's job (the restarted Redis comes back empty).
    browser = shop.test_client()
    login(buyer, on=browser)
    assert browser.post("/cart/add", data={"sku_id": sku.id, "quantity": 2}).status_code in (200, 302)
    forgot = shop.test_client().post("/password/forgot", data={"mode": "email", "email": "buyer@example.com"})
    assert forgot.status_code == 200
    redis_server.kill()
    caplog.set_level(logging.WARNING)

    # Redis down: browsing, checkout and another mail all answer normally.
    assert shop.test_client().get("/").status_code == 200
    form = _checkout_form(browser.get("/checkout").get_data(as_text=True))
    submitted = browser.post("/checkout", data=form)
    payment = db.session.scalar(sa.select(Payment).where(Payment.buyer_id == buyer.id))
    assert submitted.status_code == 302
    assert submitted.headers["Location"] == f"/payments/sandbox/{payment.out_trade_no}"
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    assert order.status == "pending_payment" and payment.provider == "sandbox"
    alert = db.session.scalar(sa.select(LowStockAlert).where(LowStockAlert.sku_id == sku.id))
    assert alert.notified_at is None  # 6 -> 4, below 5: its job could not be sent

    again = shop.test_client().post("/password/forgot", data={"mode": "email", "email": "buyer@example.com"})
    assert again.status_code == 200
    mails = db.session.scalars(sa.select(OutboundMessage).where(OutboundMessage.recipient == "buyer@example.com")
                               .order_by(OutboundMessage.id)).all()
    assert [m.status for m in mails] == ["queued", "queued"]
    health = shop.test_client().get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "degraded"
    assert not any(r.name == "app.web.errors" for r in caplog.records)  # not one unhandled error

    # Redis back, empty. Within the first minute the sweeps leave the fresh messages alone.
    redis_server.start()
    assert _sweep(shop, resend_stuck_outbound) == 1  # just the sweep
    assert outbox.mails() == []

    # Two minutes on: the queued messages and the alert go out, once.
    with travel(timedelta(minutes=2)):
        _sweep(shop, resend_stuck_outbound, sweep_unnotified_alerts)
    assert len(_sent_to(outbox, "buyer@example.com")) == 2
    assert [line["to"] for line in outbox.sms()] == ["+8613955550009"]  # the owner's low-stock SMS
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(sa.select(OutboundMessage))} == {"sent"}
    assert db.session.get(LowStockAlert, alert.id).notified_at is not None

    # The reset link mailed after the outage works.
    link = outbox.last_link("buyer@example.com")
    path = link.split("://", 1)[1].split("/", 1)[1]
    reset = shop.test_client().post("/" + path, data={"password": "newpass123"})
    assert reset.status_code == 302

    # Past the payment deadline: the gateway is asked about the silent payment, the
    # unpaid order is cancelled (its scheduled job died with Redis), the trade closed.
    with travel(timedelta(hours=1)):
        _sweep(shop, sweep_pending_payments)
        _sweep(shop, sweep_unpaid)
        _sweep(shop, sweep_gateway_closes)
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert payment.last_queried_at is not None
    assert db.session.get(Order, order.id).status == "cancelled"
    assert payment.status == "closed" and payment.gateway_closed_at is not None

    # Every sweep again, later still: nothing is sent twice, nothing changes.
    with travel(timedelta(hours=2)):
        _sweep(shop, resend_stuck_outbound, sweep_unnotified_alerts, sweep_pending_payments, sweep_unpaid,
               sweep_gateway_closes)
    assert len(_sent_to(outbox, "buyer@example.com")) == 2 and len(outbox.sms()) == 1
    assert db.session.scalar(sa.select(sa.func.count(LowStockAlert.id))) == 1


def test_checkout_answers_201_or_the_pay_page_while_redis_is_down(redis_server, app_on, make_user, make_product,
                                                                  make_address, login, api_token):
    shop = app_on(redis_server)
    buyer = make_user()
    address = make_address(buyer)
    sku = make_product(stocks=(10,)).skus[0]
    client = shop.test_client()
    login(buyer, on=client)
    headers = api_token(buyer)
    redis_server.kill()

    page = client.post("/checkout", data={"sku_id": sku.id, "quantity": 1, "address_id": address.id,
                                          "provider": "sandbox", "key": uuid.uuid4().hex})
    first = db.session.scalar(sa.select(Payment).where(Payment.buyer_id == buyer.id))
    assert page.status_code == 302 and page.headers["Location"] == f"/payments/sandbox/{first.out_trade_no}"

    api = shop.test_client().post("/api/v1/orders", headers=headers, json={
        "items": [{"sku_id": sku.id, "quantity": 1}], "address_id": address.id, "idempotency_key": uuid.uuid4().hex})
    assert api.status_code == 201
    assert db.session.scalar(sa.select(Order.status).where(Order.order_no == api.get_json()["orders"][0]["order_no"])) \
        == "pending_payment"
