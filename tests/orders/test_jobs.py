"""The scheduled order and payment jobs, enqueued on the app's queue and run by a
real RQ worker (burst mode, with the scheduler): auto-cancel, the payment query
sweep, tracking refresh against the fake Kuaidi100, auto-confirm and completion."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import utcnow
from app.core.db import transaction
from app.core.jobs import get_queue
from app.extensions import db
from app.inventory.models import StockMovement
from app.notifications.models import Message
from app.orders import services as order_services
from app.orders import shipping
from app.orders import tasks as order_tasks
from app.orders.models import Order, Shipment, TrackingEvent
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PaymentNotification
from tests.orders.test_tracking_kuaidi100 import YT_STEPS, FakeKuaidi100
from tests.payments.conftest import alipay_fake, payment_keys, wechatpay_fake  # noqa: F401  (fixtures)
from tests.payments.test_notification_matrix import (  # noqa: F401  (gateway_for, checkout are fixtures)
    checkout,
    fresh_payment,
    gateway_for,
    orders_of,
    run_until,
    stock_of,
)


def enqueue(func, *args) -> None:
    db.session.commit()  # the worker sees only what is committed
    get_queue("default").enqueue(func, *args)


def fresh_order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def backdate(model, row_id: int, **values) -> None:
    db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
    db.session.commit()


# --- auto-cancel -----------------------------------------------------------------------------------

def test_checkout_schedules_its_own_cancel_at_the_deadline(make_user, make_product, place_order):
    payment = place_order(make_user(), [(make_product().skus[0].id, 1)])
    queue = get_queue("default")
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.func_name == "app.orders.tasks.cancel_unpaid_payment" and job.args == (payment.id,)
    deadline = orders_of(payment.id)[0].pay_expires_at
    scheduled_at = queue.scheduled_job_registry.get_scheduled_time(job)
    assert timedelta(0) <= scheduled_at - deadline <= timedelta(seconds=10)


def test_unpaid_order_is_cancelled_once_by_the_scheduled_job_and_the_sweep(make_user, make_product, place_order,
                                                                         run_jobs):
    buyer = make_user()
    product = make_product(stocks=(5,))
    payment = place_order(buyer, [(product.skus[0].id, 2)])
    order = orders_of(payment.id)[0]
    assert stock_of(product.skus[0].id) == 3

    enqueue(order_tasks.cancel_unpaid_payment, payment.id)  # too early: nothing happens
    enqueue(order_tasks.sweep_unpaid)
    run_jobs()
    assert fresh_order(order.id).status == "pending_payment" and stock_of(product.skus[0].id) == 3

    backdate(Order, order.id, pay_expires_at=utcnow() - timedelta(minutes=1))
    # the scheduled job comes due, and the sweep runs in the same round
    queue = get_queue("default")
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    queue.scheduled_job_registry.schedule(queue.fetch_job(job_id), utcnow() - timedelta(seconds=1))
    enqueue(order_tasks.sweep_unpaid)
    enqueue(order_tasks.sweep_unpaid)
    run_until(run_jobs, lambda: queue.scheduled_job_registry.count == 0 and queue.count == 0)

    cancelled = fresh_order(order.id)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.stock_state) == ("cancelled", "timeout", "released")
    assert stock_of(product.skus[0].id) == 5
    releases = db.session.scalars(sa.select(StockMovement.delta).where(
        StockMovement.sku_id == product.skus[0].id, StockMovement.reason == "order_release")).all()
    assert releases == [2]
    assert fresh_payment(payment.id).status == "closed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.recipient_id == buyer.id, Message.title == "订单已自动取消")) == 1


def test_a_paid_order_is_not_cancelled_by_the_deadline(make_user, make_product, place_order, pay_sandbox,
                                                       run_jobs):
    product = make_product(stocks=(5,))
    payment = place_order(make_user(), [(product.skus[0].id, 1)])
    assert pay_sandbox(payment).status_code == 200
    order = orders_of(payment.id)[0]
    backdate(Order, order.id, pay_expires_at=utcnow() - timedelta(minutes=1))
    enqueue(order_tasks.cancel_unpaid_payment, payment.id)
    enqueue(order_tasks.sweep_unpaid)
    run_jobs()
    assert fresh_order(order.id).status == "paid" and stock_of(product.skus[0].id) == 4


# --- the payment query sweep ------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_a_lost_notification_is_made_good_by_the_query_sweep(provider, gateway_for, checkout, client, run_jobs):
    gateway = gateway_for(provider)
    _buyer, payment, skus, _c = checkout(gateway, shops=2)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)  # its notification never arrives

    enqueue(payment_tasks.sweep_pending_payments)  # too recent to ask about yet
    run_jobs()
    assert fresh_payment(payment.id).status == "pending"

    backdate(Payment, payment.id, created_at=utcnow() - timedelta(minutes=10))
    enqueue(payment_tasks.sweep_pending_payments)
    run_until(run_jobs, lambda: fresh_payment(payment.id).status == "paid")

    paid = fresh_payment(payment.id)
    assert (paid.transaction_id, paid.provider) == (transaction_id, provider)
    assert [o.status for o in orders_of(payment.id)] == ["paid", "paid"]
    assert [stock_of(s) for s in skus] == [3, 3]
    [row] = db.session.scalars(sa.select(PaymentNotification).where(
        PaymentNotification.out_trade_no == payment.out_trade_no)).all()
    assert (row.notify_id, row.outcome, row.headers) == (f"query:{transaction_id}", "applied", {"source": "query"})

    # the real notification turns up late: a duplicate, nothing changes
    messages = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
    body, headers = gateway.notification(payment.out_trade_no, payment.amount_fen, transaction_id)
    assert gateway.is_success(gateway.post(client, body, headers))
    assert db.session.scalars(sa.select(PaymentNotification.outcome).where(
        PaymentNotification.out_trade_no == payment.out_trade_no).order_by(PaymentNotification.id)).all() == [
        "applied", "duplicate"]
    assert [stock_of(s) for s in skus] == [3, 3]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == messages

    # and the sweep has nothing left to ask about
    queries_before = len(gateway.fake.requests)
    enqueue(payment_tasks.sweep_pending_payments)
    run_jobs()
    assert len(gateway.fake.requests) == queries_before


@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
def test_the_query_sweep_leaves_an_unpaid_trade_pending(provider, gateway_for, checkout, run_jobs):
    gateway = gateway_for(provider)
    _buyer, payment, _skus, _c = checkout(gateway)
    backdate(Payment, payment.id, created_at=utcnow() - timedelta(minutes=10))
    enqueue(payment_tasks.sweep_pending_payments)
    run_jobs()
    asked = fresh_payment(payment.id)
    assert asked.status == "pending" and asked.last_queried_at is not None
    assert [o.status for o in orders_of(payment.id)] == ["pending_payment"]
    # asked a moment ago: the next sweep waits before asking again
    before = len(gateway.fake.requests)
    enqueue(payment_tasks.sweep_pending_payments)
    run_jobs()
    assert len(gateway.fake.requests) == before


# --- shipping: tracking, auto-confirm, completion ---------------------------------------------------

@pytest.fixture
def kuaidi100(app, monkeypatch):
    fake = FakeKuaidi100()
    fake.configure(app, monkeypatch)
    yield fake
    fake.close()


@pytest.fixture
def shipped_order(make_user, make_product, place_order, pay_sandbox):
    """A paid order shipped with `carrier`/`tracking_no`: returns the order id."""
    from app.merchants.models import MerchantMember

    def make(carrier="yuantong", tracking_no="YT7530122849021") -> int:
        payment = place_order(make_user(), [(make_product().skus[0].id, 1)])
        assert pay_sandbox(payment).status_code == 200
        order = orders_of(payment.id)[0]
        owner = db.session.scalar(sa.select(MerchantMember.user_id).where(
            MerchantMember.merchant_id == order.merchant_id))
        with transaction():
            order_services.ship(owner, order.merchant_id, order.order_no, carrier, tracking_no)
        return order.id

    return make


def tracking_of(order_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    shipment_id = db.session.scalar(sa.select(Shipment.id).where(Shipment.order_id == order_id))
    return [(e.description, e.source) for e in db.session.scalars(
        sa.select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id))]


def carrier_events(order_id: int) -> list[str]:
    """What Kuaidi100 told us, oldest first."""
    return [text for text, source in tracking_of(order_id) if source == "kuaidi100"]


def shipment_of(order_id: int) -> Shipment:
    db.session.expire_all()
    return db.session.scalar(sa.select(Shipment).where(Shipment.order_id == order_id))


def test_tracking_refresh_stores_each_event_once_and_marks_delivery(kuaidi100, shipped_order, run_jobs):
    order_id = shipped_order()
    kuaidi100.add_track("yuantong", "YT7530122849021", "0", YT_STEPS[2:])  # in transit
    enqueue(order_tasks.refresh_tracking)
    run_jobs()
    assert carrier_events(order_id) == [text for _t, text, _p in reversed(YT_STEPS[2:])]
    assert shipment_of(order_id).delivered is False and len(kuaidi100.requests) == 1

    enqueue(order_tasks.refresh_tracking)  # polled a moment ago: the job leaves it
    run_jobs()
    assert len(kuaidi100.requests) == 1

    kuaidi100.add_track("yuantong", "YT7530122849021", "3", YT_STEPS)  # signed for
    shipment_id = shipment_of(order_id).id
    for _ in range(2):  # forced twice: the same track, no new rows the second time
        enqueue(shipping_refresh_forced, shipment_id)
    run_jobs()
    assert len(kuaidi100.requests) == 3
    assert carrier_events(order_id) == [text for _t, text, _p in reversed(YT_STEPS)]
    assert [e for e in tracking_of(order_id) if e[1] != "kuaidi100"] == [("商家已发货", "system")]
    shipment = shipment_of(order_id)
    assert shipment.delivered is True and shipment.poll_error is None
    # delivered: the periodic refresh no longer asks about it, and the order waits for receipt
    backdate(Shipment, shipment_id, last_polled_at=utcnow() - timedelta(hours=2))
    enqueue(order_tasks.refresh_tracking)
    run_jobs()
    assert len(kuaidi100.requests) == 3
    assert fresh_order(order_id).status == "shipped"


def shipping_refresh_forced(shipment_id: int) -> int:
    """A job body: refresh one shipment with force (what the merchant's 刷新 button does)."""

    with transaction():
        return shipping.refresh(shipment_id, force=True)


def test_a_tracking_error_is_recorded_and_changes_no_events(kuaidi100, shipped_order, run_jobs, app,
                                                            monkeypatch):
    order_id = shipped_order()
    kuaidi100.add_track("yuantong", "YT7530122849021", "3", YT_STEPS)
    monkeypatch.setitem(app.config, "KUAIDI100_KEY", "not-our-key")  # Kuaidi100 refuses the signature
    enqueue(order_tasks.refresh_tracking)
    run_jobs()
    assert tracking_of(order_id) == [("商家已发货", "system")]
    shipment = shipment_of(order_id)
    assert shipment.poll_error and shipment.last_polled_at is not None and shipment.delivered is False


def test_auto_confirm_receives_orders_shipped_long_enough_ago_and_not_before(shipped_order, run_jobs):
    due, recent = shipped_order(), shipped_order(tracking_no="YT7530122849022")
    backdate(Order, due, shipped_at=utcnow() - timedelta(days=10, minutes=1))  # auto_confirm_days = 10
    backdate(Order, recent, shipped_at=utcnow() - timedelta(days=9, hours=23))
    enqueue(order_tasks.sweep_auto_confirm)
    enqueue(order_tasks.sweep_auto_confirm)
    run_jobs()
    received = fresh_order(due)
    assert received.status == "received" and received.received_at is not None and received.to_review is True
    assert shipment_of(due).delivered is True
    assert fresh_order(recent).status == "shipped"
    events = order_services.timeline(due)
    assert [e.to_status for e in events].count("received") == 1
    assert events[-1].actor_id is None and "自动确认收货" in events[-1].note


def test_sweep_complete_completes_after_the_return_window_only(shipped_order, run_jobs):
    done, inside = shipped_order(), shipped_order(tracking_no="YT7530122849022")
    for order_id in (done, inside):
        backdate(Order, order_id, shipped_at=utcnow() - timedelta(days=11))
    enqueue(order_tasks.sweep_auto_confirm)
    run_jobs()
    # the window (aftersale_window_days = 7) was set at receipt: move both back
    backdate(Order, done, received_at=utcnow() - timedelta(days=7, minutes=1),
             aftersale_until=utcnow() - timedelta(minutes=1))
    backdate(Order, inside, received_at=utcnow() - timedelta(days=6, hours=23),
             aftersale_until=utcnow() + timedelta(hours=1))
    enqueue(order_tasks.sweep_complete)
    enqueue(order_tasks.sweep_complete)
    run_jobs()
    completed = fresh_order(done)
    assert completed.status == "completed" and completed.completed_at is not None
    assert fresh_order(inside).status == "received"
    assert [e.to_status for e in order_services.timeline(done)].count("completed") == 1
