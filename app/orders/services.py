"""Order life cycle: cancel, pay, ship, receive, complete.

Guarantees:
- Every status change is a guarded UPDATE from the statuses `ORDER_TRANSITIONS`
  allows, with an `OrderEvent` for the timeline; of two racing requests
  (a buyer's cancel and the payment notification, say) exactly one wins.
- Reserved stock is given back exactly once: the release is itself a guarded
  move of `stock_state` from reserved to released.
- Loading for a buyer or a merchant is scoped to them: someone else's order is
  NotFound, never Forbidden, so order numbers cannot be probed.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.analytics.models import Event
from app.catalog.models import Product, Sku
from app.core import settings as platform_settings
from app.core.clock import utcnow
from app.core.db import guarded_update
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.core.jobs import enqueue_after_commit
from app.distribution import commissions
from app.extensions import db
from app.inventory import services as stock
from app.merchants import shops
from app.notifications import services as notifications
from app.orders import carriers, policies
from app.orders.models import Order, OrderEvent, Shipment, TrackingEvent
from app.orders.states import ORDER_TRANSITIONS, CancelReason, OrderStatus, StockDeduction, StockState
from app.payments.models import Payment
from app.payments.states import PaymentStatus

# --- loading ------------------------------------------------------------------------------


def _with_items(stmt):
    return stmt.options(selectinload(Order.items), selectinload(Order.shipment))


def for_buyer(buyer_id: int, order_no: str) -> Order:
    order = db.session.scalar(_with_items(sa.select(Order).where(Order.order_no == str(order_no),
                                                                 Order.buyer_id == buyer_id)))
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    return order


def for_merchant(merchant_id: int, order_no: str) -> Order:
    order = db.session.scalar(_with_items(sa.select(Order).where(Order.order_no == str(order_no),
                                                                 Order.merchant_id == merchant_id)))
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    return order


def timeline(order_id: int) -> list[OrderEvent]:
    return list(db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


# --- transitions ------------------------------------------------------------------------


def transition(order: Order, to: OrderStatus, actor_id: int | None, note: str | None = None,
               **values) -> Order:
    """Move `order` to `to` if it is still in a status that may; StaleState otherwise."""
    before = order.status
    order_id = order.id
    guarded_update(Order, order_id, expected=ORDER_TRANSITIONS[to], values={"status": to, **values})
    db.session.add(OrderEvent(order_id=order_id, actor_id=actor_id, from_status=before, to_status=to,
                              note=(note or None) and note[:200]))
    db.session.flush()
    return db.session.get(Order, order_id)


def _release_stock(order: Order) -> None:
    """Give reserved stock back, once: only the caller that flips reserved->released does it."""
    moved = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.stock_state == StockState.RESERVED)
        .values(stock_state=StockState.RELEASED).execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        stock.release([(item.sku_id, item.quantity) for item in order.items], ref=("order", order.order_no))


def _close_payment_if_empty(payment_id: int) -> None:
    """An unpaid payment whose orders are all cancelled will collect nothing: close it."""
    open_orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.payment_id == payment_id, Order.status != OrderStatus.CANCELLED))
    if open_orders == 0:
        closed = db.session.execute(
            sa.update(Payment).where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING)
            .values(status=PaymentStatus.CLOSED, closed_at=utcnow())
            .returning(Payment.provider, Payment.out_trade_no).execution_options(synchronize_session=False)).first()
        if closed is not None and closed.provider:
            # Close the trade at its gateway too, so the open QR code / pay page cannot take the money
            # (best effort: a payment that still arrives is refunded).
            from app.payments.tasks import close_trade
            enqueue_after_commit(close_trade, closed.provider, closed.out_trade_no, queue="low")


def _cancel(order: Order, reason: CancelReason, actor_id: int | None, note: str | None = None) -> Order:
    order = transition(order, OrderStatus.CANCELLED, actor_id, note or _reason_text(reason),
                       cancelled_at=utcnow(), cancel_reason=reason)
    _release_stock(order)
    _close_payment_if_empty(order.payment_id)
    return order


def _reason_text(reason: CancelReason) -> str:
    return {
        CancelReason.BUYER: _("买家取消"),
        CancelReason.TIMEOUT: _("超时未付款，系统自动取消"),
        CancelReason.ADMIN: _("平台取消"),
        CancelReason.OUT_OF_STOCK: _("付款时库存不足，系统自动取消并退款"),
    }[reason]


def _cannot_cancel(status: str) -> Conflict:
    """Why an order in `status` cannot be cancelled, naming the state it is really in."""
    message = {
        OrderStatus.PAID: _("订单已付款，不能直接取消；如需退款请申请售后"),
        OrderStatus.SHIPPED: _("订单已发货，不能取消；如需退款请申请售后"),
        OrderStatus.RECEIVED: _("订单已确认收货，不能取消；如需退款请申请售后"),
        OrderStatus.COMPLETED: _("订单已完成，不能取消"),
        OrderStatus.CANCELLED: _("订单已取消"),
        OrderStatus.CLOSED: _("订单已关闭，不能取消"),
    }.get(status, _("订单状态已变化，请刷新后重试"))
    return Conflict(message, code="cannot_cancel")


def cancel_by_buyer(buyer_id: int, order_no: str) -> Order:
    policies.require(for_buyer(buyer_id, order_no), policies.buyer(buyer_id), policies.Act.CANCEL)
    order = for_buyer(buyer_id, order_no)
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise _cannot_cancel(order.status)
    try:
        return _cancel(order, CancelReason.BUYER, buyer_id)
    except StaleState:
        # Lost a race (paid or timed out meanwhile): say what it is now.
        status = db.session.scalar(sa.select(Order.status).where(Order.id == order.id)
                                   .execution_options(populate_existing=True))
        raise _cannot_cancel(status) from None


def cancel_if_expired(order_id: int) -> bool:
    """Cancel an unpaid order whose payment time is up; False when there is nothing to do."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.PENDING_PAYMENT or order.pay_expires_at > utcnow():
        return False
    try:
        _cancel(order, CancelReason.TIMEOUT, None)
    except StaleState:  # paid or cancelled a moment ago
        return False
    notifications.notify(order.buyer_id, _("订单已自动取消"),
                         _("订单 %(no)s 超时未付款，已自动取消。", no=order.order_no),
                         link=f"/orders/{order.order_no}", kind="order")
    return True


def expire_for_buyer(buyer_id: int) -> int:
    """Cancel the buyer's own unpaid orders whose time is up, before showing them.

    The scheduled job and the sweep do this in production; this keeps a buyer's
    pages right even where no scheduler runs (the embedded default) or it is late."""
    ids = list(db.session.scalars(sa.select(Order.id).where(
        Order.buyer_id == buyer_id, Order.status == OrderStatus.PENDING_PAYMENT, Order.pay_expires_at <= utcnow())))
    return sum(cancel_if_expired(order_id) for order_id in ids)


def expired_unpaid_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(sa.select(Order.id).where(
        Order.status == OrderStatus.PENDING_PAYMENT, Order.pay_expires_at <= utcnow())
        .order_by(Order.pay_expires_at).limit(limit)))


# --- payment --------------------------------------------------------------------------------


def settle_paid(payment: Payment) -> list[Order]:
    """The money for `payment` arrived: move its unpaid orders to paid.

    Returns the orders whose share must go back to the buyer: ones cancelled
    meanwhile, and (on_payment mode) ones whose stock ran out, which are cancelled
    here. Safe to call twice: orders already paid are left alone."""
    now = utcnow()
    orders = list(db.session.scalars(_with_items(sa.select(Order).where(Order.payment_id == payment.id)
                                                 .order_by(Order.id))))
    to_refund = [o for o in orders if o.status == OrderStatus.CANCELLED]
    pending = [o for o in orders if o.status == OrderStatus.PENDING_PAYMENT]
    short = _take_stock_on_payment([o for o in pending if o.stock_mode == StockDeduction.ON_PAYMENT])
    for order in pending:
        if order.id in short:
            try:
                to_refund.append(_cancel(order, CancelReason.OUT_OF_STOCK, None))
            except StaleState:
                pass
            continue
        try:
            paid = transition(order, OrderStatus.PAID, None, _("付款成功"), paid_at=now,
                              stock_state=StockState.DEDUCTED, to_review=False)
        except StaleState:
            # cancelled between our read and the update: its money goes back, and
            # stock taken for it a moment ago (on_payment) goes back to the shelf
            if order.stock_mode == StockDeduction.ON_PAYMENT:
                stock.release([(i.sku_id, i.quantity) for i in order.items], ref=("order", order.order_no))
            to_refund.append(db.session.get(Order, order.id))
            continue
        _count_sales(paid)
        _tell_merchant_paid(paid)
        commissions.on_paid(paid)
        db.session.add(Event(type="pay", user_id=paid.buyer_id, merchant_id=paid.merchant_id,
                             props={"order_no": paid.order_no, "amount_fen": paid.amount_fen}))
    return to_refund


def _take_stock_on_payment(orders: list[Order]) -> set[int]:
    """Deduct stock for on_payment orders; the ids of orders that could not get theirs.

    All orders in one ascending-SKU pass first (no deadlock); if anything is short,
    order by order in savepoints so the ones that fit still go through."""
    if not orders:
        return set()
    every_line = [(i.sku_id, i.quantity) for o in orders for i in o.items]
    try:
        with db.session.begin_nested():
            stock.deduct(every_line, ref=("payment", str(orders[0].payment_id)))
        return set()
    except stock.OutOfStock:
        pass
    short: set[int] = set()
    for order in orders:
        try:
            with db.session.begin_nested():
                stock.deduct([(i.sku_id, i.quantity) for i in order.items], ref=("order", order.order_no))
        except stock.OutOfStock:
            short.add(order.id)
    return short


def _count_sales(order: Order) -> None:
    for item in order.items:
        db.session.execute(sa.update(Sku).where(Sku.id == item.sku_id).values(sales=Sku.sales + item.quantity)
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.update(Product).where(Product.id == item.product_id)
                           .values(sales=Product.sales + item.quantity).execution_options(synchronize_session=False))


def _tell_merchant_paid(order: Order) -> None:
    for user_id in [member.user_id for member in shops.staff_of(order.merchant_id)]:
        notifications.notify(user_id, _("新订单待发货"),
                             _("订单 %(no)s 已付款，请尽快发货。", no=order.order_no),
                             link=f"/merchant/orders/{order.order_no}", kind="order")


# --- shipping and receipt ------------------------------------------------------------------


def ship(actor_id: int, merchant_id: int, order_no: str, carrier_code: str, tracking_no: str) -> Order:
    """Mark a paid order shipped with its carrier and tracking number; tells the buyer."""
    policies.require(for_merchant(merchant_id, order_no), policies.staff_of(actor_id, merchant_id), policies.Act.SHIP)
    order = for_merchant(merchant_id, order_no)
    carrier = carriers.get((carrier_code or "").strip())
    if carrier is None:
        raise ValidationError(_("请选择快递公司"), code="invalid_carrier", fields={"carrier": _("请选择快递公司")})
    tracking_no = carriers.normalise_tracking_no(tracking_no)
    if order.status != OrderStatus.PAID:
        raise Conflict(_("只有待发货的订单可以发货"), code="cannot_ship")
    now = utcnow()
    try:
        order = transition(order, OrderStatus.SHIPPED, actor_id, f"{carrier.name} {tracking_no}", shipped_at=now)
    except StaleState:
        raise Conflict(_("订单状态已变化，请刷新后重试"), code="cannot_ship") from None
    shipment = Shipment(order_id=order.id, carrier_code=carrier.code, tracking_no=tracking_no, shipped_at=now,
                        shipped_by_id=actor_id)
    db.session.add(shipment)
    db.session.flush()
    db.session.add(TrackingEvent(shipment_id=shipment.id, occurred_at=now, description=_("商家已发货"),
                                 source="system"))
    notifications.notify(order.buyer_id, _("您的订单已发货"),
                         _("订单 %(no)s 已由 %(carrier)s 发出，运单号 %(tn)s。", no=order.order_no,
                           carrier=carrier.name, tn=tracking_no),
                         link=f"/orders/{order.order_no}", kind="order")
    db.session.flush()
    return order


def confirm_receipt(buyer_id: int, order_no: str) -> Order:
    policies.require(for_buyer(buyer_id, order_no), policies.buyer(buyer_id), policies.Act.CONFIRM_RECEIPT)
    order = for_buyer(buyer_id, order_no)
    if order.status != OrderStatus.SHIPPED:
        raise Conflict(_("订单尚未发货，不能确认收货"), code="cannot_confirm")
    try:
        return _receive(order, buyer_id, _("买家确认收货"))
    except StaleState:
        raise Conflict(_("订单状态已变化，请刷新后重试"), code="cannot_confirm") from None


def _receive(order: Order, actor_id: int | None, note: str) -> Order:
    order = transition(order, OrderStatus.RECEIVED, actor_id, note, received_at=utcnow(), to_review=True)
    commissions.start_settlement(order)
    if order.shipment is not None:
        db.session.execute(sa.update(Shipment).where(Shipment.id == order.shipment.id).values(delivered=True)
                           .execution_options(synchronize_session=False))
    return order


def auto_confirm_due_ids(limit: int = 500) -> list[int]:
    cutoff = utcnow() - timedelta(days=platform_settings.get("auto_confirm_days"))
    return list(db.session.scalars(sa.select(Order.id).where(Order.status == OrderStatus.SHIPPED,
                                                             Order.shipped_at <= cutoff).limit(limit)))


def auto_confirm(order_id: int) -> bool:
    order = db.session.get(Order, order_id)
    cutoff = utcnow() - timedelta(days=platform_settings.get("auto_confirm_days"))
    if order is None or order.status != OrderStatus.SHIPPED or order.shipped_at > cutoff:
        return False
    try:
        _receive(order, None, _("发货超过 %(n)d 天，系统自动确认收货", n=platform_settings.get("auto_confirm_days")))
    except StaleState:
        return False
    return True


def complete_due_ids(limit: int = 500) -> list[int]:
    cutoff = utcnow() - timedelta(days=platform_settings.get("return_window_days"))
    return list(db.session.scalars(sa.select(Order.id).where(Order.status == OrderStatus.RECEIVED,
                                                             Order.received_at <= cutoff).limit(limit)))


def complete(order_id: int) -> bool:
    """The return window after receipt has ended: the order is done."""
    order = db.session.get(Order, order_id)
    cutoff = utcnow() - timedelta(days=platform_settings.get("return_window_days"))
    if order is None or order.status != OrderStatus.RECEIVED or order.received_at > cutoff:
        return False
    try:
        transition(order, OrderStatus.COMPLETED, None, _("售后期结束，交易完成"), completed_at=utcnow())
    except StaleState:
        return False
    return True
