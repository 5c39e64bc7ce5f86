"""Every receiver of a domain signal, in one list, so anyone can see what happens
when an order is paid, cancelled, shipped or received, or money goes back.

Domains announce (`app/orders/signals.py`, `app/payments/signals.py`); this table says
who listens. `connect_all()` is called once by `create_app`. Receivers run
synchronously inside the sender's transaction: what they write commits or rolls back
with the state move that announced it. Each receiver is another domain's public
function, or a thin adapter below where the signal does not fit its arguments.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.analytics.models import Event
from app.catalog import sales_counts
from app.core.money import fen_to_yuan
from app.distribution import commissions
from app.extensions import db
from app.merchants import shops
from app.notifications import services as notifications
from app.orders import carriers
from app.orders.signals import order_cancelled, order_paid, order_received, order_shipped
from app.orders.states import CancelReason
from app.payments import services as payments
from app.payments.signals import item_refunded, order_refund_started, payment_refund_started

# --- adapters -----------------------------------------------------------------------------------


def count_sales(order, **_kw) -> None:
    sales_counts.add_sold((item.product_id, item.sku_id, item.quantity) for item in order.items)


def tell_merchant_paid(order, **_kw) -> None:
    for user_id in [member.user_id for member in shops.staff_of(order.merchant_id)]:
        notifications.notify(user_id, _("新订单待发货"),
                             _("订单 %(no)s 已付款，请尽快发货。", no=order.order_no),
                             link=f"/merchant/orders/{order.order_no}", kind="order")


def credit_commissions(order, **_kw) -> None:
    commissions.on_paid(order)


def record_pay_event(order, **_kw) -> None:
    db.session.add(Event(type="pay", user_id=order.buyer_id, merchant_id=order.merchant_id,
                         props={"order_no": order.order_no, "amount_fen": order.amount_fen}))


def close_emptied_payment(order, **_kw) -> None:
    payments.close_if_no_order_left(order.payment_id)


def tell_buyer_timed_out(order, reason, **_kw) -> None:
    """Only the system's cancel is news to the buyer (they cancelled theirs themselves;
    an out-of-stock cancel is told with its refund)."""
    if reason == CancelReason.TIMEOUT:
        notifications.notify(order.buyer_id, _("订单已自动取消"),
                             _("订单 %(no)s 超时未付款，已自动取消。", no=order.order_no),
                             link=f"/orders/{order.order_no}", kind="order")


def tell_buyer_shipped(order, shipment, **_kw) -> None:
    notifications.notify(order.buyer_id, _("您的订单已发货"),
                         _("订单 %(no)s 已由 %(carrier)s 发出，运单号 %(tn)s。", no=order.order_no,
                           carrier=carriers.name_for(shipment.carrier_code), tn=shipment.tracking_no),
                         link=f"/orders/{order.order_no}", kind="order")


def start_commission_settlement(order, **_kw) -> None:
    commissions.start_settlement(order)


def tell_buyer_order_refunded(order, refund, **_kw) -> None:
    notifications.notify(order.buyer_id, _("订单已自动退款"),
                         _("订单 %(no)s 已取消，已付款项 ¥%(yuan)s 将原路退回。", no=order.order_no,
                           yuan=fen_to_yuan(order.amount_fen)),
                         link=f"/orders/{order.order_no}", kind="order")


def tell_buyer_payment_refunded(payment, refund, **_kw) -> None:
    notifications.notify(payment.buyer_id, _("款项已自动退回"),
                         _("支付单 %(no)s 已关闭，收到的 ¥%(yuan)s 将原路退回。", no=payment.out_trade_no,
                           yuan=fen_to_yuan(refund.amount_fen)), kind="order")


def void_refunded_commission(order_item_id, refunded_quantity, quantity, **_kw) -> None:
    commissions.on_item_refunded(order_item_id, refunded_quantity, quantity)


# --- the list ----------------------------------------------------------------------------------

# (signal, receiver), run in this order for each signal.
RECEIVERS = (
    # an order is paid: sales counts, the merchant told, commissions made, analytics
    (order_paid, count_sales),
    (order_paid, tell_merchant_paid),
    (order_paid, credit_commissions),
    (order_paid, record_pay_event),
    # an unpaid order is cancelled (its reserved stock is back already)
    (order_cancelled, close_emptied_payment),
    (order_cancelled, tell_buyer_timed_out),
    (order_shipped, tell_buyer_shipped),
    # received: commissions settle after the rules' delay
    (order_received, start_commission_settlement),
    # money going back to the buyer
    (order_refund_started, tell_buyer_order_refunded),
    (payment_refund_started, tell_buyer_payment_refunded),
    (item_refunded, void_refunded_commission),
)


def connect_all() -> None:
    """Connect every receiver above (idempotent: connecting again changes nothing)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
