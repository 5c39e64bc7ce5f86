# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
"""Each after-sales deadline through a real RQ worker (burst mode, with its scheduler) with
the app's clock moved past it: the job each step schedules for its own `due_at`, and the
sweep that backs it, both run, and the silent party's act happens once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.aftersales import deadlines, services
from app.aftersales.models import AfterSaleEvent
from app.core.clock import travel
from app.core.db import transaction
from app.core.jobs import get_queue
from app.extensions import db
from app.notifications.models import Message, OutboundMessage
from app.orders import tasks as order_tasks
from app.orders.models import Order, OrderItem
from app.payments.models import Refund
from tests.aftersales.conftest import apply, default_address_id, fresh, owner_of, receive, ship
from tests.orders.test_jobs import kuaidi100  # noqa: F401  (a fixture)
from tests.orders.test_tracking_kuaidi100 import YT_STEPS


def due_jobs_now_and_sweep(run_jobs) -> None:
    """Bring every scheduled job forward to now, queue the sweep twice, run the worker
    until nothing is left."""
    db.session.commit()
    queue = get_queue("low")
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        # RQ's scheduler reads the real clock, not the app's moved one
        registry.schedule(queue.fetch_job(job_id), datetime.now(UTC) - timedelta(seconds=1))
    queue.enqueue(deadlines.sweep_deadlines)
    queue.enqueue(deadlines.sweep_deadlines)
    for _round in range(10):
        run_jobs()
        # done when nothing is queued and nothing scheduled is due (later deadlines stay)
        due = [job_id for job_id in registry.get_job_ids()
               if registry.get_scheduled_time(queue.fetch_job(job_id)) <= datetime.now(UTC)]
        if not due and all(get_queue(name).count == 0 for name in ("high", "default", "low")):
            return
    waiting = {name: (get_queue(name).count, get_queue(name).scheduled_job_registry.get_job_ids())
               for name in ("high", "default", "low")}
    raise AssertionError(f"jobs still waiting after 10 worker rounds: {waiting}")


def scheduled_for(aftersale) -> list:
    queue = get_queue("low")
    return [queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()
            if queue.fetch_job(job_id).args == (aftersale.id,)]


def events(aftersale) -> list[tuple[str, int | None]]:
    return [(e.to_status, e.actor_id) for e in db.session.scalars(
        sa.select(AfterSaleEvent).where(AfterSaleEvent.aftersale_id == aftersale.id).order_by(AfterSaleEvent.id))]


def test_a_silent_shop_approves_a_return_with_its_default_address(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    [job] = scheduled_for(aftersale)
    assert job.func_name == "app.aftersales.services.act_on_deadline"

    due_jobs_now_and_sweep(run_jobs)  # not yet due: nothing happens
    assert fresh(aftersale).status == "pending"

    with travel(timedelta(days=3, minutes=1)):
        due_jobs_now_and_sweep(run_jobs)
    approved = fresh(aftersale)
    assert approved.status == "awaiting_return" and approved.return_address["recipient"] == "售后部"
    assert events(aftersale) == [("pending", order.buyer_id), ("awaiting_return", None)]
    # the buyer heard of it in the site and by SMS (when they have a phone)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.recipient_id == order.buyer_id, Message.title == "售后申请已同意")) == 1
    assert db.session.scalar(sa.select(OutboundMessage.recipient).where(
        OutboundMessage.template == "aftersale_approved")) == order.buyer.phone


def test_a_silent_shop_refunds_a_refund_only(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="refund_only")
    with travel(timedelta(days=3, minutes=1)):
        due_jobs_now_and_sweep(run_jobs)
    assert fresh(aftersale).status == "refunded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)
                             .where(Refund.aftersale_id == aftersale.id)) == 1


def test_a_buyer_who_never_ships_back_is_closed_and_may_reapply(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.approve(owner_of(order), aftersale.aftersale_no, default_address_id(order))
    with travel(timedelta(days=7, minutes=1)):
        due_jobs_now_and_sweep(run_jobs)
    closed = fresh(aftersale)
    assert closed.status == "closed" and closed.finished_at is not None
    assert "reapply" in services.actions_for(closed, services.policies.buyer(order.buyer_id))


def test_a_shop_that_never_confirms_the_parcel_refunds(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.approve(owner_of(order), aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF3141592653")
    with travel(timedelta(days=9)):
        due_jobs_now_and_sweep(run_jobs)
    assert fresh(aftersale).status == "returned"
    with travel(timedelta(days=10, minutes=1)):
        due_jobs_now_and_sweep(run_jobs)
    refunded = fresh(aftersale)
    assert refunded.status == "refunded" and refunded.restocked is None  # nobody said it could be sold again
    assert [s for s, _a in events(aftersale)][-2:] == ["refunding", "refunded"]


def test_a_buyer_silent_on_the_replacement_has_it_confirmed(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="exchange")
    shop = owner_of(order)
    with transaction():
        services.approve(shop, aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "shunfeng", "SF2718281828")
    with transaction():
        services.receive(shop, aftersale.aftersale_no, restock=True)
    with transaction():
        services.ship_replacement(shop, aftersale.aftersale_no, "shunfeng", "SF1618033988")
    with travel(timedelta(days=10, minutes=1)):  # auto_confirm_days
        due_jobs_now_and_sweep(run_jobs)
    assert fresh(aftersale).status == "completed"
    assert events(aftersale)[-1] == ("completed", None)


def test_the_deadline_acts_once_however_many_times_it_runs(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="refund_only")
    with travel(timedelta(days=3, minutes=1)):
        due_jobs_now_and_sweep(run_jobs)
        due_jobs_now_and_sweep(run_jobs)
        with transaction():
            assert services.act_on_deadline(aftersale.id) is False
    assert [s for s, _a in events(aftersale)].count("refunding") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)
                             .where(Refund.aftersale_id == aftersale.id)) == 1
    sms = db.session.scalars(sa.select(OutboundMessage.template).where(
        OutboundMessage.template.in_(("aftersale_approved", "aftersale_refunded")))).all()
    assert sorted(sms) == ["aftersale_approved", "aftersale_refunded"]  # the buyer told once of each


def test_the_shops_days_run_from_the_carriers_delivery_of_the_return(bought, run_jobs, kuaidi100):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.approve(owner_of(order), aftersale.aftersale_no, default_address_id(order))
    with transaction():
        services.ship_back(order.buyer_id, aftersale.aftersale_no, "yuantong", "YT7530122849021")
    entered_due = fresh(aftersale).due_at

    kuaidi100.add_track("yuantong", "YT7530122849021", "0", YT_STEPS[2:])  # still on its way
    get_queue("low").enqueue(deadlines.sweep_return_tracking)
    run_jobs()
    assert fresh(aftersale).return_delivered_at is None and fresh(aftersale).due_at == entered_due

    delivered_at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 Beijing time, the signed-for step
    kuaidi100.add_track("yuantong", "YT7530122849021", "3", YT_STEPS)
    with travel(timedelta(days=12)):  # delivered long after the buyer's entry: 10 days from the delivery
        get_queue("low").enqueue(deadlines.sweep_return_tracking)
        get_queue("low").enqueue(deadlines.sweep_return_tracking)
        run_jobs()
        moved = fresh(aftersale)
        assert moved.return_delivered_at == delivered_at
        assert moved.due_at == max(delivered_at + timedelta(days=10), entered_due)


def test_a_rejection_left_unanswered_closes_and_lets_the_order_complete(bought, run_jobs):
    order = receive(ship(bought(quantity=1)))
    aftersale = apply(order, kind="return_refund")
    with transaction():
        services.reject(owner_of(order), aftersale.aftersale_no, "不支持七天无理由")
    with travel(timedelta(days=7, minutes=1)):
        get_queue("low").enqueue(order_tasks.sweep_complete)
        due_jobs_now_and_sweep(run_jobs)
        assert db.session.get(Order, order.id).status == "received"  # the rejection still held the item
        closed = fresh(aftersale)
        assert closed.status == "closed" and db.session.get(OrderItem, order.items[0].id).open_aftersale_id is None
        get_queue("low").enqueue(order_tasks.sweep_complete)
        run_jobs()
        db.session.expire_all()
        assert db.session.get(Order, order.id).status == "completed"
