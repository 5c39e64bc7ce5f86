"""The same trade collected many times at once, on PostgreSQL over real HTTP.

A gateway can report one trade paid under several transactions (a buyer paying in
two tabs, through two channels, a gateway's own retry under a new id). Exactly one
collection pays the orders; every other one goes back to the buyer exactly once,
however the notifications interleave. Tests here commit for real (`live_db`)."""
from __future__ import annotations

from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from app.extensions import db
from app.orders.models import Order
from app.payments.models import Payment, PaymentNotification, Refund
from tests.factories import sandbox_notification
from tests.race import at_once

pytestmark = pytest.mark.live_db

COLLECTIONS = 20


def post_all(url: str, deliveries: list[tuple[bytes, dict]]) -> list:
    """POST every (body, headers) to the sandbox notify endpoint, all threads released together."""
    return at_once(len(deliveries), lambda i: requests.post(f"{url}/payments/notify/sandbox", data=deliveries[i][0],
                                                             headers=deliveries[i][1], timeout=60))


def answered_ok(results) -> bool:
    return all(isinstance(r, requests.Response) and r.status_code == 200 and r.json() == {"ok": True}
               for r in results)


def refunds_of(payment_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment_id)))


def test_twenty_collections_at_once_pay_once_and_refund_every_other_exactly_once(
        server, make_user, make_product, place_order, run_jobs):
    buyer = make_user()
    product = make_product(stocks=(5,), price_fen=1990)
    payment = place_order(buyer, [(product.skus[0].id, 1)])
    transactions = [f"SBTX{i:04d}" for i in range(COLLECTIONS)]
    deliveries = [sandbox_notification(payment.out_trade_no, payment.amount_fen, transaction_id=t)
                  for t in transactions]
    db.session.remove()

    results = post_all(server, deliveries)
    assert answered_ok(results), [getattr(r, "text", r) for r in results]

    db.session.expire_all()
    paid = db.session.get(Payment, payment.id)
    assert paid.status == "paid" and paid.transaction_id in transactions
    refunds = refunds_of(payment.id)
    assert sorted(r.out_refund_no for r in refunds) == sorted(f"RD{t}" for t in transactions
                                                              if t != paid.transaction_id)
    assert {r.amount_fen for r in refunds} == {payment.amount_fen}
    outcomes = Counter(db.session.scalars(sa.select(PaymentNotification.outcome)
                                          .where(PaymentNotification.out_trade_no == payment.out_trade_no)))
    assert outcomes == {"applied": 1, "refunded": COLLECTIONS - 1}
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    assert order.status == "paid"

    # Every collection reported again (new notify ids), all at once: nothing is refunded twice.
    again = [sandbox_notification(payment.out_trade_no, payment.amount_fen, transaction_id=t) for t in transactions]
    assert answered_ok(post_all(server, again))
    assert len(refunds_of(payment.id)) == COLLECTIONS - 1

    # The refunds reach the gateway, each once.
    run_jobs()
    refunds = refunds_of(payment.id)
    assert Counter(r.status for r in refunds) == {"succeeded": COLLECTIONS - 1}
    assert {r.attempts for r in refunds} == {1}


def test_a_second_collection_after_the_first_is_refunded_once(server, make_user, make_product, place_order):
    buyer = make_user()
    product = make_product(stocks=(5,), price_fen=990)
    payment = place_order(buyer, [(product.skus[0].id, 2)])
    payment_id, trade, amount = payment.id, payment.out_trade_no, payment.amount_fen
    db.session.remove()
    first = post_all(server, [sandbox_notification(trade, amount, transaction_id="SBTXA")])
    second = post_all(server, [sandbox_notification(trade, amount, transaction_id="SBTXB")] * 3)  # three at once
    assert answered_ok(first + second)
    assert [(r.out_refund_no, r.amount_fen) for r in refunds_of(payment_id)] == [("RDSBTXB", amount)]
