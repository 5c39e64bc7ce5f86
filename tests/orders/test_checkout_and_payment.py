"""Checkout, payment notifications and cancellation through the real services
(and the sandbox notify endpoint over the test client), on PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import Sku
from app.core import settings as platform_settings
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.inventory.models import StockMovement
from app.inventory.services import OutOfStock
from app.orders import cart, checkout
from app.orders import services as order_services
from app.orders.models import CartItem, Order, OrderEvent
from app.payments.models import Payment, PaymentNotification, Refund
from tests.factories import sandbox_notification


def stock_of(sku_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def orders_of(payment: Payment) -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id).order_by(Order.id)))


def test_checkout_across_two_shops_makes_one_payment_and_an_order_per_shop(make_user, make_product, place_order):
    buyer = make_user()
    a = make_product(stocks=(5,), price_fen=1000)
    b = make_product(stocks=(3,), price_fen=2500)
    a.merchant.shipping_flat_fen = 800
    db.session.commit()
    payment = place_order(buyer, [(a.skus[0].id, 2), (b.skus[0].id, 1)], notes={str(b.merchant_id): "请用纸箱"})

    orders = orders_of(payment)
    assert len(orders) == 2
    by_shop = {o.merchant_id: o for o in orders}
    assert by_shop[a.merchant_id].items_fen == 2000 and by_shop[a.merchant_id].shipping_fen == 800
    assert by_shop[b.merchant_id].amount_fen == 2500 and by_shop[b.merchant_id].note == "请用纸箱"
    assert payment.amount_fen == 2000 + 800 + 2500
    assert {o.status for o in orders} == {"pending_payment"}
    assert len({o.order_no for o in orders}) == 2 and all(len(o.order_no) == 18 for o in orders)
    item = by_shop[a.merchant_id].items[0]
    assert (item.title, item.unit_price_fen, item.quantity, item.paid_fen) == (a.title, 1000, 2, 2000)
    assert by_shop[a.merchant_id].address["recipient"] == "王小明"
    # on_order (the default): stock reserved at submit, with a movement naming the payment
    assert stock_of(a.skus[0].id) == 3 and stock_of(b.skus[0].id) == 2
    moves = db.session.scalars(sa.select(StockMovement).where(StockMovement.ref_id == payment.out_trade_no)).all()
    assert sorted(m.delta for m in moves) == [-2, -1]


def test_numbers_already_taken_are_drawn_again_in_one_check(make_user, make_product, place_order, monkeypatch,
                                                           count_queries):
    """A payment number or an order number already in use is drawn again (all of them,
    checked in one statement), so a collision never aborts the buyer's checkout."""
    buyer = make_user()
    a, b = make_product(stocks=(5,)), make_product(stocks=(5,))
    earlier = place_order(buyer, [(a.skus[0].id, 1)])
    taken_order_no = orders_of(earlier)[0].order_no
    draws = iter([earlier.out_trade_no, "P261207100000000000A"])
    order_draws = iter([taken_order_no, "261207100000000001", "261207100000000002", "261207100000000003"])
    monkeypatch.setattr(checkout.numbers, "new_out_trade_no", lambda: next(draws))
    monkeypatch.setattr(checkout.numbers, "new_order_no", lambda: next(order_draws))
    with count_queries() as statements:
        payment = place_order(buyer, [(a.skus[0].id, 1), (b.skus[0].id, 1)])
    assert payment.out_trade_no == "P261207100000000000A"
    assert sorted(o.order_no for o in orders_of(payment)) == ["261207100000000002", "261207100000000003"]
    assert len([s for s in statements if "order_no IN" in s]) == 2  # the first draw and the second


def test_numbers_that_keep_colliding_give_busy_and_make_nothing(make_user, make_product, place_order, monkeypatch):
    buyer = make_user()
    product = make_product(stocks=(5,))
    earlier = place_order(buyer, [(product.skus[0].id, 1)])
    monkeypatch.setattr(checkout.numbers, "new_out_trade_no", lambda: earlier.out_trade_no)
    with pytest.raises(Conflict) as refused:
        place_order(buyer, [(product.skus[0].id, 1)])
    assert refused.value.code == "busy"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.buyer_id == buyer.id)) == 1
    assert stock_of(product.skus[0].id) == 4


def test_same_idempotency_key_creates_nothing_twice(make_user, make_product, place_order):
    buyer = make_user()
    product = make_product(stocks=(5,))
    first = place_order(buyer, [(product.skus[0].id, 1)], key="checkout-key-0001")
    second = place_order(buyer, [(product.skus[0].id, 1)], key="checkout-key-0001")
    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.buyer_id == buyer.id)) == 1
    assert stock_of(product.skus[0].id) == 4


def test_short_stock_refuses_the_whole_checkout_and_names_each_short_sku(make_user, make_product, place_order):
    buyer = make_user()
    plenty, scarce = make_product(stocks=(9,)), make_product(stocks=(1,))
    with pytest.raises(OutOfStock) as caught:
        place_order(buyer, [(plenty.skus[0].id, 2), (scarce.skus[0].id, 2)])
    assert [s.sku_id for s in caught.value.shortfalls] == [scarce.skus[0].id]
    assert stock_of(plenty.skus[0].id) == 9 and stock_of(scarce.skus[0].id) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment).where(Payment.buyer_id == buyer.id)) == 0


@pytest.mark.parametrize("quantity", [0, -1, "x", 1000])
def test_bad_quantities_are_refused(make_user, make_product, place_order, quantity):
    product = make_product(stocks=(5,))
    with pytest.raises(ValidationError):
        place_order(make_user(), [(product.skus[0].id, quantity)])
    assert stock_of(product.skus[0].id) == 5


def test_off_sale_products_and_suspended_shops_cannot_be_ordered(make_user, make_product, place_order):
    off = make_product(status="off_sale")
    closed = make_product()
    closed.merchant.status = "suspended"
    db.session.commit()
    for product in (off, closed):
        with pytest.raises(Conflict) as caught:
            place_order(make_user(), [(product.skus[0].id, 1)])
        assert caught.value.code == "product_unavailable"


def test_someone_elses_address_is_refused(make_user, make_product, make_address):
    product = make_product()
    other_address = make_address(make_user())
    with pytest.raises(NotFound), transaction():
        checkout.submit(make_user(), [(product.skus[0].id, 1)], other_address.id, {}, "some-key-123456")
    assert stock_of(product.skus[0].id) == 10


def test_sandbox_payment_moves_every_order_to_paid_once(make_user, make_product, place_order, pay_sandbox, outbox):
    buyer = make_user()
    a, b = make_product(stocks=(5,)), make_product(stocks=(5,))
    payment = place_order(buyer, [(a.skus[0].id, 1), (b.skus[0].id, 2)])
    body, headers = sandbox_notification(payment.out_trade_no, payment.amount_fen, notify_id="n-1")
    from flask import current_app
    client = current_app.test_client()
    for _ in range(3):  # the first applies, the repeats change nothing
        response = client.post("/payments/notify/sandbox", data=body, headers=headers)
        assert response.status_code == 200 and response.get_json() == {"ok": True}
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "paid"
    assert {o.status for o in orders_of(payment)} == {"paid"}
    assert stock_of(a.skus[0].id) == 4 and stock_of(b.skus[0].id) == 3
    assert db.session.get(Sku, b.skus[0].id).sales == 2
    outcomes = db.session.scalars(sa.select(PaymentNotification.outcome)
                                  .where(PaymentNotification.out_trade_no == payment.out_trade_no)).all()
    assert sorted(outcomes) == ["applied", "duplicate", "duplicate"]
    events = db.session.scalars(sa.select(OrderEvent.to_status).where(
        OrderEvent.order_id == orders_of(payment)[0].id).order_by(OrderEvent.id)).all()
    assert events == ["pending_payment", "paid"]


@pytest.mark.parametrize(("change", "status"), [("signature", 401), ("amount", 409), ("trade", 404), ("body", 400)])
def test_bad_notifications_change_nothing(make_user, make_product, place_order, client, change, status):
    payment = place_order(make_user(), [(make_product().skus[0].id, 1)])
    body, headers = sandbox_notification(payment.out_trade_no,
                                         payment.amount_fen + (1 if change == "amount" else 0))
    if change == "signature":
        headers["X-Sandbox-Signature"] = "0" * 64
    if change == "trade":
        body, headers = sandbox_notification("P000000000000000", payment.amount_fen)
    if change == "body":
        body, headers = sandbox_notification(payment.out_trade_no, payment.amount_fen)
        import hashlib
        import hmac
        body = b"not json"
        headers["X-Sandbox-Signature"] = hmac.new(b"sandbox-test-secret", body, hashlib.sha256).hexdigest()
    response = client.post("/payments/notify/sandbox", data=body, headers=headers)
    assert response.status_code == status
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "pending"
    assert {o.status for o in orders_of(payment)} == {"pending_payment"}


def test_buyer_cancel_releases_stock_once_and_closes_the_payment(make_user, make_product, place_order):
    buyer = make_user()
    product = make_product(stocks=(5,))
    payment = place_order(buyer, [(product.skus[0].id, 2)])
    order = orders_of(payment)[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    assert stock_of(product.skus[0].id) == 5
    with pytest.raises(Conflict), transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    assert stock_of(product.skus[0].id) == 5
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "closed"


def test_someone_else_cannot_cancel(make_user, make_product, place_order):
    payment = place_order(make_user(), [(make_product().skus[0].id, 1)])
    with pytest.raises(NotFound), transaction():
        order_services.cancel_by_buyer(make_user().id, orders_of(payment)[0].order_no)
    assert orders_of(payment)[0].status == "pending_payment"


def test_paid_order_cannot_be_cancelled(make_user, make_product, place_order, pay_sandbox):
    buyer = make_user()
    payment = place_order(buyer, [(make_product().skus[0].id, 1)])
    assert pay_sandbox(payment).status_code == 200
    with pytest.raises(Conflict), transaction():
        order_services.cancel_by_buyer(buyer.id, orders_of(payment)[0].order_no)
    assert orders_of(payment)[0].status == "paid"


def test_payment_after_cancel_is_refunded_automatically(make_user, make_product, place_order, pay_sandbox, run_jobs):
    buyer = make_user()
    product = make_product(stocks=(5,))
    payment = place_order(buyer, [(product.skus[0].id, 1)])
    order = orders_of(payment)[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    assert pay_sandbox(payment).status_code == 200
    run_jobs()
    db.session.expire_all()
    refund = db.session.scalar(sa.select(Refund).where(Refund.payment_id == payment.id))
    assert (refund.out_refund_no, refund.amount_fen, refund.status) == (f"RF{order.order_no}", order.amount_fen,
                                                                        "succeeded")
    assert orders_of(payment)[0].status == "cancelled"
    assert stock_of(product.skus[0].id) == 5


def test_on_payment_mode_deducts_at_payment_and_refunds_when_stock_ran_out(make_user, make_product, place_order,
                                                                          pay_sandbox, run_jobs):
    admin = make_user(admin_role="super")
    with transaction():
        platform_settings.put("stock_deduction", "on_payment", admin)
    product = make_product(stocks=(1,))
    early, late = make_user(), make_user()
    first = place_order(early, [(product.skus[0].id, 1)])
    second = place_order(late, [(product.skus[0].id, 1)])
    assert stock_of(product.skus[0].id) == 1  # nothing taken at submit
    assert pay_sandbox(second).status_code == 200
    assert stock_of(product.skus[0].id) == 0 and orders_of(second)[0].status == "paid"
    assert pay_sandbox(first).status_code == 200
    run_jobs()
    lost = orders_of(first)[0]
    assert (lost.status, lost.cancel_reason) == ("cancelled", "out_of_stock")
    from app.notifications.models import Message  # the buyer is told, with the order number

    told = db.session.scalars(sa.select(Message.body).where(Message.recipient_id == early.id,
                                                             Message.title == "订单已自动退款")).all()
    assert len(told) == 1 and lost.order_no in told[0]
    assert stock_of(product.skus[0].id) == 0
    assert db.session.scalar(sa.select(Refund.status).where(Refund.payment_id == first.id)) == "succeeded"


def test_cart_add_merges_lines_and_refuses_above_stock(make_user, make_product):
    buyer = make_user()
    product = make_product(stocks=(3,))
    sku_id = product.skus[0].id
    with transaction():
        cart.add(buyer.id, sku_id, 1)
        cart.add(buyer.id, sku_id, 2)
    assert db.session.scalar(sa.select(CartItem.quantity).where(CartItem.user_id == buyer.id)) == 3
    with pytest.raises(Conflict) as caught, transaction():
        cart.add(buyer.id, sku_id, 1)
    assert caught.value.code == "insufficient_stock"
    view = cart.view(buyer.id)
    assert view.items_fen == 3 * 9900 and view.selected_count == 3


def test_cart_flags_lines_that_went_off_sale(make_user, make_product):
    buyer = make_user()
    product = make_product(stocks=(3,))
    with transaction():
        cart.add(buyer.id, product.skus[0].id, 2)
    product.status = "off_sale"
    db.session.commit()
    line = cart.view(buyer.id).lines[0]
    assert line.problem == "off_sale" and cart.view(buyer.id).items_fen == 0



def test_money_arriving_on_a_trade_closed_by_regrouping_goes_back_whole(make_user, make_product, place_order,
                                                                        pay_sandbox, run_jobs):
    from app.payments import services as payments

    buyer = make_user()
    a, b = make_product(stocks=(5,)), make_product(stocks=(5,))
    old = place_order(buyer, [(a.skus[0].id, 1), (b.skus[0].id, 1)])
    first, second = orders_of(old)
    with transaction():
        order_services.cancel_by_buyer(buyer.id, first.order_no)
        fresh = payments.payable(buyer.id, old.out_trade_no)
    assert fresh.out_trade_no != old.out_trade_no and fresh.amount_fen == second.amount_fen
    # the buyer still pays the old trade (an old QR code): nothing of it may be kept
    assert pay_sandbox(old).status_code == 200
    run_jobs()
    db.session.expire_all()
    refunds = {r.out_refund_no: r.amount_fen for r in db.session.scalars(
        sa.select(Refund).where(Refund.payment_id == old.id))}
    assert refunds == {f"RF{first.order_no}": first.amount_fen, f"RC{old.out_trade_no}": second.amount_fen}
    assert db.session.get(Order, second.id).status == "pending_payment"
    assert pay_sandbox(db.session.get(Payment, fresh.id)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Order, second.id).status == "paid"
