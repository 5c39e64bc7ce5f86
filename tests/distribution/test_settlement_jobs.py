"""Settlement and voiding through a real RQ worker (`run_jobs`) with the app clock
moved by `travel`.

The ledger invariant tested here (docs/api.md, Distribution): a distributor's
ledger has one `commission_pending` row per commission and one row per change
(`commission_void` per refund share, `commission_settled` when it settles,
`withdrawal_*` per withdrawal step). `commission_settled` moves an amount from
pending to available, so it is a transfer, not new money:

    sum(amount of every entry except commission_settled) == pending_fen + available_fen
    sum(amount of the commission_settled entries)        == settled_fen
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.analytics import rollups
from app.analytics.models import SalesDay
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.jobs import get_queue
from app.distribution import commissions, referrals, withdrawals
from app.distribution import queries as distribution_queries
from app.distribution.models import Commission, DistributorLedgerEntry
from app.distribution.tasks import sweep_settlement
from app.extensions import db
from app.orders import services as order_services
from app.orders.models import Order
from app.orders.tasks import sweep_unpaid
from app.payments.signals import item_refunded

ALIPAY = {"method": "alipay", "account_name": "张三", "account_no": "zs@example.com"}


def sweep(run_jobs) -> None:
    get_queue("low").enqueue(sweep_settlement)
    assert run_jobs() >= 1
    db.session.expire_all()


def commissions_of(order_id: int) -> list[Commission]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Commission).where(Commission.order_id == order_id)
                                   .order_by(Commission.order_item_id, Commission.level)))


def assert_ledger_matches(distributor_id: int) -> None:
    earned = distribution_queries.earnings(distributor_id)
    entries = db.session.execute(sa.select(DistributorLedgerEntry.kind, DistributorLedgerEntry.amount_fen).where(
        DistributorLedgerEntry.distributor_id == distributor_id)).all()
    assert sum(a for k, a in entries if k != "commission_settled") == earned.pending_fen + earned.balance_fen
    # what settled, less what refunds took back after settlement, is what stays settled
    assert sum(a for k, a in entries if k in ("commission_settled", "commission_clawback")) == earned.settled_fen
    per_commission = db.session.execute(sa.select(Commission.id, Commission.status, sa.func.count(DistributorLedgerEntry.id))
                                        .join(DistributorLedgerEntry, DistributorLedgerEntry.commission_id == Commission.id)
                                        .where(Commission.distributor_id == distributor_id)
                                        .group_by(Commission.id, Commission.status)).all()
    for _id, status, rows in per_commission:
        assert rows >= (2 if status in ("settled", "void") else 1)


def commission_days(merchant_id: int) -> dict:
    rows = db.session.execute(sa.select(SalesDay.day, SalesDay.commission_fen).where(
        SalesDay.merchant_id == merchant_id, SalesDay.commission_fen != 0))
    return dict(rows.all())


def kinds(commission_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(DistributorLedgerEntry.kind).where(DistributorLedgerEntry.commission_id == commission_id)
                                   .order_by(DistributorLedgerEntry.id)))


def setup_chain(set_rules, make_distributor, make_user):
    set_rules(levels="2", settlement_delay_days="7")
    top = make_distributor()
    near = make_distributor(parent=top)
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, near.code, "link", is_new_user=True)
    return top, near, buyer


def pay(place_order, pay_sandbox, buyer, lines) -> Order:
    payment = place_order(buyer, lines)
    assert pay_sandbox(payment).status_code == 200
    db.session.expire_all()
    return db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))


def ship_and_receive(order: Order) -> None:
    owner_id = db.session.scalar(sa.text("select user_id from merchant_members where merchant_id = :m"),
                                 {"m": order.merchant_id})
    with transaction():
        order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
        order_services.confirm_receipt(order.buyer_id, order.order_no)


def test_pending_settles_only_after_the_delay_and_never_twice(
        set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox, run_jobs):
    top, near, buyer = setup_chain(set_rules, make_distributor, make_user)
    order = pay(place_order, pay_sandbox, buyer, [(make_product(price_fen=10000).skus[0].id, 1)])
    made = commissions_of(order.id)
    assert [(c.level, c.amount_fen, c.status, c.settle_after) for c in made] == [
        (1, 1000, "pending", None), (2, 500, "pending", None)]

    with travel(timedelta(days=30)):  # paid but not received: no settlement however long it takes
        sweep(run_jobs)
    assert {c.status for c in commissions_of(order.id)} == {"pending"}

    ship_and_receive(order)
    received_at = db.session.get(Order, order.id).received_at
    assert all(c.settle_after == received_at + timedelta(days=7) for c in commissions_of(order.id))
    sweep(run_jobs)
    with travel(timedelta(days=6, hours=23)):
        sweep(run_jobs)
    assert {c.status for c in commissions_of(order.id)} == {"pending"}
    assert distribution_queries.earnings(near.id).available_fen == 0

    with travel(timedelta(days=7, minutes=1)):
        sweep(run_jobs)
    settled = commissions_of(order.id)
    assert {c.status for c in settled} == {"settled"}
    first_settled_at = {c.id: c.settled_at for c in settled}
    assert (distribution_queries.earnings(near.id).available_fen, distribution_queries.earnings(top.id).available_fen) == (1000, 500)

    with travel(timedelta(days=9)):  # the sweep again (and the job twice): nothing settles twice
        get_queue("low").enqueue(sweep_settlement)
        sweep(run_jobs)
    again = commissions_of(order.id)
    assert {c.id: c.settled_at for c in again} == first_settled_at
    for c in again:
        assert kinds(c.id) == ["commission_pending", "commission_settled"]
    assert distribution_queries.earnings(near.id).available_fen == 1000
    assert not commissions.settle(again[0].id)  # settling by hand is refused too
    for distributor in (near, top):
        assert_ledger_matches(distributor.id)


def test_unpaid_and_cancelled_orders_never_create_commissions(
        set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox, run_jobs):
    _top, near, buyer = setup_chain(set_rules, make_distributor, make_user)
    product = make_product(price_fen=10000)
    place_order(buyer, [(product.skus[0].id, 1)])  # never paid
    cancelled = place_order(buyer, [(product.skus[0].id, 1)])
    db.session.expire_all()
    cancelled_no = db.session.scalar(sa.select(Order.order_no).where(Order.payment_id == cancelled.id))
    with transaction():
        order_services.cancel_by_buyer(buyer.id, cancelled_no)
    with travel(timedelta(days=2)):  # the unpaid one times out through the worker
        get_queue("high").enqueue(sweep_unpaid)
        run_jobs()
        sweep(run_jobs)
    db.session.expire_all()
    statuses = set(db.session.scalars(sa.select(Order.status).where(Order.buyer_id == buyer.id)))
    assert statuses == {"cancelled"}
    # the money for the cancelled order arrives late: it is refunded, still no commission
    assert pay_sandbox(cancelled).status_code == 200
    run_jobs()
    assert db.session.scalar(sa.select(sa.func.count(Commission.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(DistributorLedgerEntry.id))) == 0
    assert distribution_queries.earnings(near.id).total_fen == 0


def test_refund_before_settlement_voids_and_is_never_settled(
        set_rules, make_distributor, make_user, make_merchant, make_product, place_order, pay_sandbox, run_jobs):
    top, near, buyer = setup_chain(set_rules, make_distributor, make_user)
    merchant = make_merchant()
    whole = make_product(merchant=merchant, price_fen=10000)
    partial = make_product(merchant=merchant, price_fen=3333, stocks=(9,))
    order = pay(place_order, pay_sandbox, buyer, [(whole.skus[0].id, 1), (partial.skus[0].id, 3)])
    items = {i.product_id: i for i in order.items}
    ship_and_receive(order)
    # refunds are announced by payments (item_refunded); app/receivers.py takes commission back
    with transaction():
        item_refunded.send(items[whole.id].id, refunded_quantity=1, quantity=1)  # the whole item went back
        item_refunded.send(items[partial.id].id, refunded_quantity=1, quantity=3)  # one of three
    with transaction():
        item_refunded.send(items[partial.id].id, refunded_quantity=1, quantity=3)  # replayed: changes nothing

    with travel(timedelta(days=8)):
        sweep(run_jobs)
    by_item = {}
    for c in commissions_of(order.id):
        by_item.setdefault(c.order_item_id, []).append(c)
    voided = by_item[items[whole.id].id]
    assert [(c.status, c.void_fen, c.settled_at) for c in voided] == [("void", 1000, None), ("void", 500, None)]
    for c in voided:
        assert kinds(c.id) == ["commission_pending", "commission_void"]
    shared = by_item[items[partial.id].id]  # base 9999: 1000 and 500, one third voided (333 / 167)
    assert [(c.status, c.amount_fen, c.void_fen) for c in shared] == [("settled", 1000, 333), ("settled", 500, 167)]
    for c in shared:
        assert kinds(c.id) == ["commission_pending", "commission_void", "commission_settled"]
    assert distribution_queries.earnings(near.id).available_fen == 667
    assert distribution_queries.earnings(top.id).available_fen == 333

    # the shop's sales days count the commission paid for its orders on the day it settled
    settled_day = rollups.local_day_hour(commissions_of(order.id)[-1].settled_at)[0]
    assert commission_days(merchant.id) == {settled_day: 1000}

    # a refund arriving after settlement takes the rest back from the balance (a clawback)
    with travel(timedelta(days=20)), transaction():
        commissions.on_item_refunded(items[partial.id].id, 3, 3)
        clawback_day = rollups.local_day_hour(utcnow())[0]
    # ...and the clawback counts against the day it happened: net commissions paid are 0
    assert commission_days(merchant.id) == {settled_day: 1000, clawback_day: -1000}
    with transaction():
        rollups.rebuild()
    assert commission_days(merchant.id) == {settled_day: 1000, clawback_day: -1000}
    assert [(c.status, c.void_fen) for c in commissions_of(order.id) if c.order_item_id == items[partial.id].id] == [
        ("settled", 1000), ("settled", 500)]
    assert distribution_queries.earnings(near.id).available_fen == 0
    assert distribution_queries.earnings(top.id).available_fen == 0
    for distributor in (near, top):
        assert_ledger_matches(distributor.id)


def test_the_ledger_invariant_holds_through_withdrawals(
        set_rules, make_distributor, make_user, make_product, place_order, pay_sandbox, run_jobs):
    _top, near, buyer = setup_chain(set_rules, make_distributor, make_user)
    settled_order = pay(place_order, pay_sandbox, buyer, [(make_product(price_fen=50000).skus[0].id, 1)])
    ship_and_receive(settled_order)
    with travel(timedelta(days=8)):
        sweep(run_jobs)
    pay(place_order, pay_sandbox, buyer, [(make_product(price_fen=20000).skus[0].id, 1)])  # stays pending
    assert_ledger_matches(near.id)
    finance = make_user(admin_role="finance")
    with transaction():
        first = withdrawals.request(near.user, {"amount": "20", **ALIPAY}).id
        second = withdrawals.request(near.user, {"amount": "15", **ALIPAY}).id
    assert_ledger_matches(near.id)
    with transaction():
        withdrawals.approve(finance, first)
        withdrawals.mark_paid(finance, first, "TX20240001")
        withdrawals.reject(finance, second, "账户信息有误")
    db.session.expire_all()
    earned = distribution_queries.earnings(near.id)
    assert (earned.pending_fen, earned.available_fen, earned.withdrawn_fen) == (2000, 3000, 2000)
    assert_ledger_matches(near.id)
