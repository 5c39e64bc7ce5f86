"""Rows for the payment lifecycles: a payment placed through checkout, and a refund of it."""
from __future__ import annotations

from app.extensions import db
from app.payments.models import Payment, Refund
from tests.core.lifecycle_rows import row_maker


def payment_row(request) -> Payment:
    buyer = request.getfixturevalue("make_user")()
    product = request.getfixturevalue("make_product")(stocks=(10,))
    return request.getfixturevalue("place_order")(buyer, [(product.skus[0].id, 1)])


@row_maker("payment")
def _payment(request):
    return Payment, payment_row(request).id


@row_maker("refund")
def _refund(request):
    payment = payment_row(request)
    refund = Refund(payment_id=payment.id, order_id=payment.orders[0].id, out_refund_no=f"RW{payment.out_trade_no}",
                    amount_fen=payment.amount_fen, reason="walk", provider="sandbox", out_trade_no=payment.out_trade_no)
    db.session.add(refund)
    db.session.flush()
    return Refund, refund.id
