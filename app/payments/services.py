"""Collecting money for checkouts, applying gateway notifications, refunding.

Guarantees:
- Every notification is stored as it arrived (body and headers) before anything
  else, whatever becomes of it; forged, stale or malformed ones are refused with
  the provider's failure reply and change nothing else.
- A verified notification is applied in one savepoint: the payment moves to paid
  and its orders to paid by guarded UPDATEs, and the amount must equal the
  payment's. A repeat (same notify id, or the same transaction already applied)
  gets the success reply and changes nothing.
- Money that arrives for orders cancelled meanwhile (or short of stock in
  on_payment mode) goes back: a Refund per order whose `out_refund_no` is fixed
  by the order, so retries never refund twice.
- Buyers can only start paying their own payments; someone else's is NotFound.
- Payments alone write Payment and Refund, and every status change is a `move` of
  `PAYMENT_LIFECYCLE` / `REFUND_LIFECYCLE` (guarded UPDATE plus a StateChange row).
  What the rest of the shop does about it is announced with `app.payments.signals`.
- Jobs for one item (`submit_refund`, `close_at_gateway`) are these functions
  themselves, enqueued after commit; each runs in a unit of work of its own.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.db import upsert
from app.core.errors import Conflict, NotFound
from app.core.jobs import enqueue_after_commit
from app.core.lifecycle import try_move
from app.core.urls import external_url
from app.extensions import db
from app.orders import numbers
from app.orders import services as order_services
from app.orders.errors import OrderError
from app.orders.models import Order
from app.orders.states import OrderStatus
from app.payments import providers
from app.payments.errors import PaymentError
from app.payments.models import Payment, PaymentNotification, Refund
from app.payments.providers.base import GatewayError, NotificationRejected, PayRequest, VerifiedNotification
from app.payments.signals import (
    order_refund_started,
    payment_refund_started,
    payment_succeeded,
    refund_started,
    refund_succeeded,
)
from app.payments.states import PAYMENT_LIFECYCLE, REFUND_LIFECYCLE, NotificationOutcome, PaymentStatus, RefundStatus

log = logging.getLogger(__name__)

# Channels each provider accepts from a client, the first being the default.
CHANNELS = {"sandbox": ("page",), "wechatpay": ("jsapi", "native", "h5"), "alipay": ("wap", "page")}


# --- loading ----------------------------------------------------------------------------


def for_buyer(buyer_id: int, out_trade_no: str) -> Payment:
    payment = db.session.scalar(sa.select(Payment).where(Payment.out_trade_no == str(out_trade_no),
                                                         Payment.buyer_id == buyer_id)
                                .options(selectinload(Payment.orders)))
    if payment is None:
        raise NotFound(_("支付单不存在"), code=PaymentError.PAYMENT_NOT_FOUND)
    return payment


def by_trade_no(out_trade_no: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.out_trade_no == str(out_trade_no)))


# --- paying ---------------------------------------------------------------------------------


def payable(buyer_id: int, out_trade_no: str) -> Payment:
    """The payment to collect for, ready to pay: still pending, with every order in it
    unpaid and in time. When some of its orders were cancelled, the rest move to a
    new payment (the old one is closed), so the amount always matches the orders."""
    payment = for_buyer(buyer_id, out_trade_no)
    if payment.status == PaymentStatus.PAID:
        raise Conflict(_("该订单已支付"), code=PaymentError.ALREADY_PAID)
    orders = list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id).order_by(Order.id)))
    for order in orders:
        if order.status == OrderStatus.PENDING_PAYMENT and order.pay_expires_at <= utcnow():
            order_services.cancel_if_expired(order.id)
    orders = [o for o in orders if db.session.get(Order, o.id).status == OrderStatus.PENDING_PAYMENT]
    if not orders:
        raise Conflict(_("订单已取消或已超时，请重新下单"), code=PaymentError.PAYMENT_CLOSED)
    amount = sum(o.amount_fen for o in orders)
    if payment.status == PaymentStatus.PENDING and amount == payment.amount_fen:
        return payment
    return _regroup(payment, orders, amount)


def by_idempotency_key(buyer_id: int, key: str) -> Payment | None:
    """The payment a checkout submit with this key made already (a double submit)."""
    return db.session.scalar(sa.select(Payment).where(Payment.buyer_id == buyer_id, Payment.idempotency_key == key))


def open_payment(out_trade_no: str, buyer_id: int, amount_fen: int, idempotency_key: str) -> tuple[Payment, bool]:
    """A new pending payment for a checkout, and True; or, when a racing submit with the
    same idempotency key committed first, that payment and False (the caller answers
    with it and creates nothing). One INSERT .. ON CONFLICT DO NOTHING on the buyer's key:
    the caller's transaction goes on either way, with no savepoint to open and release."""
    payment = db.session.scalar(
        upsert(Payment).values(out_trade_no=out_trade_no, buyer_id=buyer_id, amount_fen=amount_fen,
                               idempotency_key=idempotency_key)
        .on_conflict_do_nothing(index_elements=["buyer_id", "idempotency_key"]).returning(Payment))
    if payment is not None:
        return payment, True
    existing = by_idempotency_key(buyer_id, idempotency_key)
    if existing is None:  # the other submit has not committed yet, or rolled back: the buyer may retry
        raise Conflict(_("系统繁忙，请重试"), code=OrderError.BUSY)
    return existing, False


def _regroup(old: Payment, orders: list[Order], amount: int) -> Payment:
    fresh = Payment(out_trade_no=numbers.new_out_trade_no(), buyer_id=old.buyer_id, amount_fen=amount,
                    idempotency_key=f"regroup-{old.id}-{numbers.new_order_no()[-8:]}")
    db.session.add(fresh)
    db.session.flush()
    db.session.execute(sa.update(Order).where(Order.id.in_([o.id for o in orders]),
                                              Order.status == OrderStatus.PENDING_PAYMENT)
                       .values(payment_id=fresh.id).execution_options(synchronize_session=False))
    _close(old.id, note=_("订单已转入新的支付单"))
    db.session.expire_all()
    return db.session.get(Payment, fresh.id)


def _close(payment_id: int, note: str | None = None) -> bool:
    """Close a pending payment (nothing will be collected for it) and its trade at the
    gateway too, so the open QR code / pay page cannot take the money (best effort: a
    payment that still arrives is refunded). False when it was no longer pending."""
    if not try_move(PAYMENT_LIFECYCLE, Payment, payment_id, "close", note=note, values={"closed_at": utcnow()}):
        return False
    payment = db.session.get(Payment, payment_id)
    if payment.provider:
        enqueue_after_commit(close_at_gateway, payment.provider, payment.out_trade_no, queue="low")
    return True


def close_if_no_order_left(payment_id: int) -> bool:
    """An unpaid payment whose orders are all cancelled will collect nothing: close it
    (what payments does when an order is cancelled). False when something is left."""
    open_orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.payment_id == payment_id, Order.status != OrderStatus.CANCELLED))
    return open_orders == 0 and _close(payment_id, note=_("订单均已取消"))


def notify_url(provider: str) -> str:
    """Where `provider` sends its notifications: our endpoint on PUBLIC_BASE_URL."""
    return external_url("payments.notify", provider=provider)


def start(buyer, out_trade_no: str, provider_name: str, channel: str | None = None, *,
          openid: str | None = None, client_ip: str | None = None, return_url: str | None = None) -> dict:
    """Ask the chosen gateway to collect the payment; returns what the client needs
    plus `out_trade_no` and `amount_fen` (the trade number may be new, see `payable`)."""
    if provider_name not in providers.available():
        raise Conflict(_("暂不支持该支付方式"), code=PaymentError.PROVIDER_UNAVAILABLE, fields={"provider": provider_name})
    channel = channel or CHANNELS[provider_name][0]
    if channel not in CHANNELS[provider_name]:
        raise Conflict(_("暂不支持该支付方式"), code=PaymentError.INVALID_CHANNEL, fields={"channel": channel})
    payment = payable(buyer.id, out_trade_no)
    if payment.provider and payment.provider != provider_name:
        # Switching gateways: close the other trade so it cannot be paid as well.
        enqueue_after_commit(close_at_gateway, payment.provider, payment.out_trade_no, queue="low")
    payment.provider = provider_name
    db.session.flush()
    orders = payment.orders
    description = _("%(shop)s 等 %(n)d 家店铺的订单", shop=orders[0].merchant.name, n=len(orders)) \
        if len(orders) > 1 else _("%(shop)s 订单", shop=orders[0].merchant.name)
    client = providers.get(provider_name).start(PayRequest(
        out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen, description=description[:120],
        channel=channel, notify_url=notify_url(provider_name), return_url=return_url, openid=openid,
        client_ip=client_ip))
    return {"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen, "provider": provider_name,
            "channel": channel, **client}


def close_at_gateway(provider_name: str, out_trade_no: str) -> bool:
    """Close an abandoned trade at its gateway (best effort; a late payment is refunded
    anyway). A closed payment records the gateway's confirmation (`gateway_closed_at`),
    so `queries.unclosed_trades` finds the closes that were lost or failed. The job
    queued when a payment closes, a checkout regroups or the buyer switches gateways.
    Flushes only."""
    try:
        providers.get(provider_name).close(out_trade_no)
    except Exception:
        log.warning("could not close %s trade %s", provider_name, out_trade_no, exc_info=True)
        return False
    db.session.execute(
        sa.update(Payment).where(Payment.out_trade_no == out_trade_no, Payment.provider == provider_name,
                                 Payment.status == PaymentStatus.CLOSED, Payment.gateway_closed_at.is_(None))
        .values(gateway_closed_at=utcnow()).execution_options(synchronize_session=False))
    return True


# --- notifications ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    body: bytes
    status: int
    content_type: str


def receive_notification(provider_name: str, headers: dict[str, str], body: bytes) -> Reply:
    """Store, verify and apply one gateway notification; the reply to send back.

    Flushes only: the caller commits, so the stored row survives a refusal."""
    provider = providers.get(provider_name)
    row = PaymentNotification(provider=provider_name, notify_id=provider.peek_notify_id(headers, body),
                              body=body.decode("utf-8", "replace"), headers=_keep_headers(headers))
    db.session.add(row)
    db.session.flush()
    try:
        verified = provider.verify_notification(headers, body)
    except NotificationRejected as exc:
        _finish(row, NotificationOutcome.REJECTED, exc.message)
        return Reply(*provider.failure_reply(exc.status, exc.code))
    row.verified, row.notify_id, row.out_trade_no = True, verified.notify_id, verified.out_trade_no
    db.session.flush()
    outcome, status, detail = apply_notification(provider_name, verified, row)
    _finish(row, outcome, detail)
    if status == 200:
        return Reply(*provider.success_reply())
    return Reply(*provider.failure_reply(status, outcome))


def _keep_headers(headers: dict[str, str]) -> dict[str, str]:
    wanted = ("content-type", "user-agent", "x-sandbox-signature")
    return {k: v for k, v in headers.items() if k.lower() in wanted or k.lower().startswith("wechatpay-")}


def _finish(row: PaymentNotification, outcome: str, detail: str | None = None) -> None:
    row.outcome, row.detail, row.processed_at = outcome, (detail or None) and detail[:300], utcnow()
    db.session.flush()


def apply_notification(provider_name: str, n: VerifiedNotification,
                       row: PaymentNotification | None) -> tuple[str, int, str | None]:
    """(outcome, HTTP status, detail) for a verified notification, applying it if due."""
    payment = by_trade_no(n.out_trade_no)
    if payment is None:
        return NotificationOutcome.UNKNOWN_TRADE, 404, None
    if not n.succeeded:
        return NotificationOutcome.FAILED_PAYMENT, 200, None
    if n.amount_fen != payment.amount_fen:
        log.warning("amount mismatch on %s: %s != %s", payment.out_trade_no, n.amount_fen, payment.amount_fen)
        return NotificationOutcome.AMOUNT_MISMATCH, 409, f"{n.amount_fen} != {payment.amount_fen}"
    if row is not None and n.notify_id:
        try:
            with db.session.begin_nested():
                row.dedupe_key = f"{provider_name}:{n.notify_id}"[:100]
                db.session.flush()
        except IntegrityError:
            row.dedupe_key = None
            return NotificationOutcome.DUPLICATE, 200, None
    return apply_success(payment, provider_name, n.transaction_id)


def apply_success(payment: Payment, provider_name: str, transaction_id: str | None) -> tuple[str, int, str | None]:
    """The gateway says `payment` was paid: record it and settle its orders (idempotent).

    The payment row is locked first, so concurrent collections of one trade are decided
    one after another: the first pays the orders, and each other transaction is refunded
    whole, once (its `out_refund_no` is fixed by the transaction)."""
    payment = db.session.scalar(sa.select(Payment).where(Payment.id == payment.id).with_for_update()
                                .execution_options(populate_existing=True))
    if payment.status == PaymentStatus.PAID:
        return _collected_twice(payment, provider_name, transaction_id)
    if not try_move(PAYMENT_LIFECYCLE, Payment, payment.id, "pay", note=provider_name,
                    values={"paid_at": utcnow(), "provider": provider_name, "transaction_id": transaction_id}):
        # Without row locks (SQLite) another request can win between the read and the
        # update: this collection is then a second one like any other.
        db.session.expire_all()
        return _collected_twice(db.session.get(Payment, payment.id), provider_name, transaction_id)
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    to_refund = order_services.settle_paid(payment)
    for order in to_refund:
        refund = _refund(payment, order, order.amount_fen, _("订单已取消，自动退款"), provider_name,
                         numbers.refund_no_for_order(order.order_no))
        order_refund_started.send(order, refund=refund)
    # Orders moved to a newer trade (see `payable`) are not paid by this one: what
    # this trade collected beyond its own orders goes back whole.
    kept = sum(o.amount_fen for o in payment.orders if o.status != OrderStatus.CANCELLED)
    leftover = payment.amount_fen - kept - sum(o.amount_fen for o in to_refund)
    if leftover > 0:
        refund = _refund(payment, None, leftover, _("支付单已关闭，自动退款"), provider_name,
                         f"RC{payment.out_trade_no}")
        payment_refund_started.send(payment, refund=refund)
    payment_succeeded.send(payment)
    if kept == 0:
        return NotificationOutcome.REFUNDED, 200, None
    return NotificationOutcome.APPLIED, 200, None


def _collected_twice(payment: Payment, provider_name: str,
                     transaction_id: str | None) -> tuple[str, int, str | None]:
    """`payment` is already paid and the gateway reports a collection again."""
    if payment.transaction_id == transaction_id and payment.provider == provider_name:
        return NotificationOutcome.DUPLICATE, 200, None
    # Paid twice (two tabs, two gateways): the second collection goes back whole.
    _refund(payment, None, payment.amount_fen, _("重复支付退款"), provider_name,
            numbers.duplicate_refund_no(transaction_id, payment.out_trade_no), counted=False)
    return NotificationOutcome.REFUNDED, 200, "paid twice"


# --- refunds --------------------------------------------------------------------------------


def _refund(payment: Payment, order: Order | None, amount_fen: int, reason: str, provider_name: str,
            out_refund_no: str, *, counted: bool = True, aftersale_id: int | None = None) -> Refund:
    """A refund of `payment`, made once per `out_refund_no` (a repeat returns the first)
    and sent to its gateway after commit. `counted`: it gives back this collection's own
    money, so it adds to `Payment.refunded_fen`, which can never pass what was collected
    (a guarded UPDATE here, a CHECK constraint behind it); only a duplicate collection's
    refund is not counted, being another collection's money."""
    existing = db.session.scalar(sa.select(Refund).where(Refund.out_refund_no == out_refund_no))
    if existing is not None:
        return existing
    if counted:
        moved = db.session.execute(
            sa.update(Payment).where(Payment.id == payment.id, Payment.refunded_fen + amount_fen <= Payment.amount_fen)
            .values(refunded_fen=Payment.refunded_fen + amount_fen).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            raise Conflict(_("退款金额超过该笔支付的实收金额"), code=PaymentError.REFUND_EXCEEDS_PAYMENT)
    refund = Refund(payment_id=payment.id, order_id=order.id if order else None, out_refund_no=out_refund_no,
                    amount_fen=amount_fen, reason=reason[:100], provider=provider_name,
                    out_trade_no=payment.out_trade_no, aftersale_id=aftersale_id)
    db.session.add(refund)
    db.session.flush()
    refund_started.send(refund, counted=counted)
    enqueue_after_commit(submit_refund, refund.id)
    return refund


def refund_for_aftersale(order: Order, aftersale_id: int, amount_fen: int, reason: str, out_refund_no: str) -> Refund:
    """Give `amount_fen` of `order`'s payment back through the gateway that took it
    (after-sales and the platform's cancel-and-refund). Idempotent by `out_refund_no`;
    Conflict when the payment's refunds would pass what it collected."""
    payment = db.session.get(Payment, order.payment_id)
    if payment is None or payment.status != PaymentStatus.PAID or not payment.provider:
        raise Conflict(_("该订单没有可退的付款"), code=PaymentError.NOT_PAID)
    return _refund(payment, order, amount_fen, reason, payment.provider, out_refund_no, aftersale_id=aftersale_id)


def submit_refund(refund_id: int) -> str:
    """Settle one pending refund with its gateway and record the answer (the job, and the
    sweep's step for each refund still pending); returns the refund's status after it,
    "retry" when the gateway could not be reached, "skipped" when it is not pending.

    A refund sent before (attempts > 0 or a gateway refund id) is first asked about
    (`query_refund`); only one the gateway does not know is sent (again), always with
    its own `out_refund_no`, so a refund whose reply was lost is never paid twice. The
    answer is recorded by `apply_refund_status`: succeeded, abnormal (left for an
    operator) and failed move the refund once (REFUND_LIFECYCLE; of two runs racing,
    one records it and announces `refund_succeeded`), pending leaves it for the sweep.
    The gateway calls happen outside any lock; trouble leaves `last_error`."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return "skipped"
    provider = providers.get(refund.provider)
    try:
        result = None
        if refund.attempts > 0 or refund.provider_refund_id:
            result = provider.query_refund(out_trade_no=refund.out_trade_no, out_refund_no=refund.out_refund_no)
        if result is None or result.status == "unknown":
            payment = db.session.get(Payment, refund.payment_id)
            refund.attempts += 1
            result = provider.refund(
                out_trade_no=refund.out_trade_no, out_refund_no=refund.out_refund_no, refund_fen=refund.amount_fen,
                total_fen=payment.amount_fen, reason=refund.reason, notify_url=refund_notify_url(refund.provider))
    except GatewayError as exc:
        refund.last_error = exc.message[:300]
        db.session.flush()
        return "retry"
    apply_refund_status(refund_id, result.status, provider_refund_id=result.provider_refund_id,
                        message=result.message)
    # Read from the row, not the session: a run that lost the race left ours stale.
    return db.session.scalar(sa.select(Refund.status).where(Refund.id == refund_id))


def refund_notify_url(provider: str) -> str:
    """Where `provider` sends its refund results: our endpoint on PUBLIC_BASE_URL."""
    return external_url("payments.refund_notify", provider=provider)


# What the gateway's word on a refund does to it: the act and the status it leads to.
REFUND_ACTS = {
    "succeeded": ("succeed", RefundStatus.SUCCEEDED),
    "abnormal": ("flag_abnormal", RefundStatus.ABNORMAL),
    "failed": ("fail", RefundStatus.FAILED),
}


def apply_refund_status(refund_id: int, status: str, *, provider_refund_id: str | None = None,
                        message: str = "", note: str | None = None) -> bool:
    """Record what the gateway says of a refund (its answer to a request or a query, or
    a verified notification); True when this call moved it. Flushes only.

    "succeeded" moves it to succeeded (from pending, or from abnormal when the merchant
    re-sent it from the gateway's own console) and announces `refund_succeeded`;
    "abnormal" parks it for an operator (logged); "failed" fails it; anything else
    ("pending") moves nothing. Each move happens once (`try_move`): a late or repeated
    answer changes nothing and announces nothing."""
    if provider_refund_id:
        db.session.get(Refund, refund_id).provider_refund_id = provider_refund_id[:64]
    db.session.flush()
    if status not in REFUND_ACTS:
        return False
    act_name, _status = REFUND_ACTS[status]
    message = (message or "")[:300]
    values = {"finished_at": utcnow(), "last_error": None}
    if status == "abnormal":
        values = {"last_error": message or "abnormal"}
    elif status == "failed":
        values["last_error"] = message or None
    if not try_move(REFUND_LIFECYCLE, Refund, refund_id, act_name, note=note or message[:200] or None, values=values):
        return False
    refund = db.session.get(Refund, refund_id)
    if status == "succeeded":
        refund_succeeded.send(refund)
    elif status == "abnormal":
        log.warning("refund %s is abnormal at %s (%s): an operator must pay the buyer back",
                    refund.out_refund_no, refund.provider, message or "no detail")
    return True


# --- the payment query sweep -----------------------------------------------------------------


def query_and_apply(payment_id: int) -> str:
    """Ask the gateway about one pending payment; apply it when the gateway says paid.

    Recorded as a notification row (notify id `query:<transaction>`) so the admin
    sees how the payment was learnt of, and so it dedupes with a late notification."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != PaymentStatus.PENDING or not payment.provider:
        return "skipped"
    payment.last_queried_at = utcnow()
    db.session.flush()
    state = providers.get(payment.provider).query(payment.out_trade_no)
    if state.status != "paid":
        return state.status
    row = PaymentNotification(provider=payment.provider, notify_id=f"query:{state.transaction_id}",
                              out_trade_no=payment.out_trade_no, verified=True,
                              body=json.dumps({"status": state.status, "transaction_id": state.transaction_id,
                                               "amount_fen": state.amount_fen}),
                              headers={"source": "query"})
    db.session.add(row)
    db.session.flush()
    outcome, _status, detail = apply_notification(payment.provider, VerifiedNotification(
        notify_id=row.notify_id, out_trade_no=payment.out_trade_no, transaction_id=state.transaction_id,
        amount_fen=state.amount_fen, succeeded=True), row)
    _finish(row, outcome, detail)
    return outcome
