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

from app.aftersales import refunding as aftersale_refunds
from app.aftersales.signals import (
    aftersale_approved,
    aftersale_closed,
    aftersale_disputed,
    aftersale_refunded,
    aftersale_rejected,
    aftersale_requested,
    aftersale_returned,
    replacement_shipped,
)
from app.analytics import rollups, tracking
from app.analytics.models import Event
from app.catalog import sales_counts
from app.core.clock import to_local, utcnow
from app.core.money import fen_to_yuan
from app.distribution import commissions
from app.distribution.signals import commission_clawed_back, commission_made, commission_settled, commission_voided
from app.extensions import db
from app.finance import postings
from app.flashsales import services as flash_sales
from app.merchants import shops
from app.notifications import services as notifications
from app.orders import carriers
from app.orders.signals import order_cancelled, order_completed, order_paid, order_received, order_shipped
from app.orders.states import CancelReason
from app.payments import services as payments
from app.payments.signals import (
    item_refunded,
    order_refund_started,
    payment_refund_started,
    refund_started,
    refund_succeeded,
)

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


def count_paid_order(order, **_kw) -> None:
    rollups.add_paid_order(order)


def count_commission_paid(commission, amount_fen, **_kw) -> None:
    rollups.add_commission(commission.order_id, amount_fen, utcnow())


def count_commission_taken_back(commission, amount_fen, **_kw) -> None:
    rollups.add_commission(commission.order_id, -amount_fen, utcnow())


def count_refund(refund, **_kw) -> None:
    rollups.add_refund(refund)


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


def finish_aftersale_refund(refund, **_kw) -> None:
    aftersale_refunds.on_refund_succeeded(refund)


# after-sales: each party told in the site; the buyer also by SMS on approval and refund

def _tell_shop(aftersale, title: str, body: str) -> None:
    for user_id in [member.user_id for member in shops.staff_of(aftersale.merchant_id)]:
        notifications.notify(user_id, title, body, link=f"/merchant/aftersales/{aftersale.aftersale_no}",
                             kind="aftersale")


def _tell_buyer(aftersale, title: str, body: str, sms: dict | None = None) -> None:
    notifications.notify(aftersale.buyer_id, title, body, link=f"/aftersales/{aftersale.aftersale_no}",
                         kind="aftersale")
    phone = aftersale.buyer.phone if aftersale.buyer is not None else None
    if sms is not None and phone:
        notifications.send_sms(phone, sms.pop("template"), {"no": aftersale.aftersale_no, **sms})


def tell_shop_requested(aftersale, **_kw) -> None:
    _tell_shop(aftersale, _("新的售后申请"), _("售后申请 %(no)s 待处理，请在 %(days)s 前处理，逾期将自动同意。",
                                            no=aftersale.aftersale_no,
                                            days=to_local(aftersale.due_at).strftime("%m-%d %H:%M") if aftersale.due_at else "-"))


def tell_buyer_approved(aftersale, refund_started, **_kw) -> None:
    if refund_started:
        next_step = _("退款 ¥%(yuan)s 正在原路退回。", yuan=fen_to_yuan(aftersale.refund_fen))
    else:
        next_step = _("请在 7 天内将商品寄回并填写运单号。")
    _tell_buyer(aftersale, _("售后申请已同意"), _("售后申请 %(no)s 已同意，%(next)s", no=aftersale.aftersale_no,
                                              next=next_step),
                sms={"template": "aftersale_approved", "next": next_step})


def tell_buyer_rejected(aftersale, **_kw) -> None:
    _tell_buyer(aftersale, _("售后申请被拒绝"), _("售后申请 %(no)s 被商家拒绝：%(reason)s。可修改后重新申请或申请平台介入。",
                                              no=aftersale.aftersale_no, reason=aftersale.reject_reason or ""))


def tell_shop_returned(aftersale, carrier, tracking_no, **_kw) -> None:
    _tell_shop(aftersale, _("买家已寄回商品"), _("售后 %(no)s：买家已通过 %(carrier)s 寄回，运单号 %(tn)s，收到后请确认。",
                                             no=aftersale.aftersale_no, carrier=carrier, tn=tracking_no))


def tell_buyer_refunded(aftersale, refund, **_kw) -> None:
    yuan = fen_to_yuan(aftersale.refund_fen)
    _tell_buyer(aftersale, _("退款成功"), _("售后 %(no)s 已退款 ¥%(yuan)s，将原路退回支付账户。", no=aftersale.aftersale_no,
                                          yuan=yuan), sms={"template": "aftersale_refunded", "yuan": yuan})
    _tell_shop(aftersale, _("售后已退款"), _("售后 %(no)s 已退款 ¥%(yuan)s。", no=aftersale.aftersale_no, yuan=yuan))


def record_refund_event(aftersale, refund, **_kw) -> None:
    tracking.record_server_event("refund", user_id=aftersale.buyer_id, merchant_id=aftersale.merchant_id,
                                 props={"aftersale_no": aftersale.aftersale_no, "refund_fen": aftersale.refund_fen})


def tell_both_disputed(aftersale, **_kw) -> None:
    _tell_shop(aftersale, _("买家申请平台介入"), _("售后 %(no)s 买家已申请平台介入，请提交商家说明和凭证。",
                                               no=aftersale.aftersale_no))
    _tell_buyer(aftersale, _("已申请平台介入"), _("售后 %(no)s 已提交平台处理，请留意处理结果。", no=aftersale.aftersale_no))


def tell_buyer_replacement(aftersale, carrier, tracking_no, **_kw) -> None:
    _tell_buyer(aftersale, _("换货已发出"), _("售后 %(no)s 的换货已由 %(carrier)s 发出，运单号 %(tn)s。",
                                          no=aftersale.aftersale_no, carrier=carrier, tn=tracking_no))


def tell_both_closed(aftersale, **_kw) -> None:
    _tell_buyer(aftersale, _("售后已结束"), _("售后 %(no)s 已结束。", no=aftersale.aftersale_no))
    _tell_shop(aftersale, _("售后已结束"), _("售后 %(no)s 已结束。", no=aftersale.aftersale_no))


# --- the list ----------------------------------------------------------------------------------

# (signal, receiver), run in this order for each signal.
RECEIVERS = (
    # an order is paid: its money in the books (before commissions take their share of it),
    # sales counts, the merchant told, commissions made, analytics
    (order_paid, postings.order_paid),
    (order_paid, count_sales),
    (order_paid, tell_merchant_paid),
    (order_paid, credit_commissions),
    (order_paid, record_pay_event),
    (order_paid, count_paid_order),  # the sales rollups the dashboards read
    # an unpaid order is cancelled (its reserved stock is back already)
    (order_cancelled, close_emptied_payment),
    (order_cancelled, tell_buyer_timed_out),
    (order_shipped, tell_buyer_shipped),
    # received: commissions settle after the rules' delay
    (order_received, start_commission_settlement),
    # completed (after-sales window over, nothing open): the shop's money becomes available
    (order_completed, postings.settle_order),
    # commission money in the books, and paid commissions on the dashboards
    (commission_made, postings.commission_made),
    (commission_voided, postings.commission_voided),
    (commission_settled, postings.commission_settled),
    (commission_settled, count_commission_paid),
    (commission_clawed_back, postings.commission_clawed_back),
    (commission_clawed_back, count_commission_taken_back),
    # money going back to the buyer (in the books when it starts and when it is done)
    (refund_started, postings.refund_started),
    (refund_succeeded, postings.refund_done),
    (order_refund_started, tell_buyer_order_refunded),
    (payment_refund_started, tell_buyer_payment_refunded),
    (item_refunded, void_refunded_commission),
    (refund_succeeded, finish_aftersale_refund),
    (refund_succeeded, count_refund),
    # after-sales: each party told
    (aftersale_requested, tell_shop_requested),
    (aftersale_approved, tell_buyer_approved),
    (aftersale_rejected, tell_buyer_rejected),
    (aftersale_returned, tell_shop_returned),
    (aftersale_refunded, tell_buyer_refunded),
    (aftersale_refunded, record_refund_event),
    (aftersale_disputed, tell_both_disputed),
    (replacement_shipped, tell_buyer_replacement),
    (aftersale_closed, tell_both_closed),
    # flash sales: a cancelled unpaid order's units go back to its event (once)
    (order_cancelled, flash_sales.on_order_cancelled),
)


def connect_all() -> None:
    """Connect every receiver above (idempotent: connecting again changes nothing)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
