"""Orders announce what happened with signals, sent after the move in the same
transaction; the receivers are one list in app/receivers.py."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import receivers
from app.catalog.models import Sku
from app.core.db import transaction
from app.extensions import db
from app.orders import services
from app.orders.models import Order
from app.orders.signals import order_cancelled, order_paid


def test_every_receiver_of_the_list_is_connected_once(app):
    before = {id(signal): len(signal.receivers) for signal, _receiver in receivers.RECEIVERS}
    receivers.connect_all()  # a second create_app connects nothing twice
    for signal, receiver in receivers.RECEIVERS:
        assert receiver in signal.receivers.values()  # held strongly: connected with weak=False
        assert len(signal.receivers) == before[id(signal)]


def test_paying_announces_each_order_once_after_its_move(make_user, make_product, place_order, pay_sandbox):
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1), (make_product().skus[0].id, 2)])
    heard = []

    def listen(order, **kwargs):
        heard.append((order.order_no, order.status, order.stock_state))

    with order_paid.connected_to(listen):
        assert pay_sandbox(payment).status_code == 200
        assert pay_sandbox(payment).status_code == 200  # the same money again: no new announcement
    assert sorted(heard) == sorted((o.order_no, "paid", "deducted") for o in payment.orders)


def test_a_failing_receiver_undoes_the_move_that_announced_it(make_user, make_product, place_order):
    buyer = make_user()
    sku_id = make_product(stocks=(5,)).skus[0].id
    order = place_order(buyer, [(sku_id, 2)]).orders[0]

    def fail(order, **kwargs):
        raise RuntimeError("receiver failed")

    with order_cancelled.connected_to(fail), pytest.raises(RuntimeError), transaction():
        services.cancel_by_buyer(buyer.id, order.order_no)
    db.session.expire_all()
    row = db.session.get(Order, order.id)
    assert (row.status, row.stock_state) == ("pending_payment", "reserved")
    assert db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku_id)) == 3
