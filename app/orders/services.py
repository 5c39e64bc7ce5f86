"""Order life cycle: cancel, pay, ship, receive, complete.

Guarantees:
- Every status change is a `move` of `ORDER_LIFECYCLE` (a guarded UPDATE from the
  statuses its table allows, with an `OrderEvent` for the timeline); of two racing
  requests (a buyer's cancel and the payment notification, say) exactly one wins.
- Reserved stock is given back exactly once: the release is itself a move of
  `STOCK_LIFECYCLE` from reserved to released, and only its winner gives stock back.
- What other domains do about it (commissions, the merchant's and buyer's messages,
  sales counts, analytics, closing an emptied payment) is announced with the signals
  of `app.orders.signals` right after the move, in the same transaction; the receivers
  are listed in `app/receivers.py`.
- Loading for a buyer or a merchant is scoped to them: someone else's order is
  NotFound, never Forbidden, so order numbers cannot be probed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.catalog import categories
from app.core import settings as platform_settings
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.core.lifecycle import move, try_move
from app.core.money import prorate
from app.extensions import db
from app.inventory import services as stock
from app.orders import carriers, policies
from app.orders.errors import OrderError
from app.orders.models import Order, OrderEvent, OrderItem, Shipment, TrackingEvent
from app.orders.signals import order_cancelled, order_completed, order_paid, order_received, order_shipped
from app.orders.states import ORDER_LIFECYCLE, STOCK_LIFECYCLE, CancelReason, OrderStatus, StockDeduction, StockState
from app.payments.models import Payment

# --- loading ------------------------------------------------------------------------------


def _with_items(stmt):
    return stmt.options(selectinload(Order.items), selectinload(Order.shipment))


def for_buyer(buyer_id: int, order_no: str) -> Order:
    order = db.session.scalar(_with_items(sa.select(Order).where(Order.order_no == str(order_no),
                                                                 Order.buyer_id == buyer_id)))
    if order is None:
        raise NotFound(_("订单不存在"), code=OrderError.ORDER_NOT_FOUND)
    return order


def for_merchant(merchant_id: int, order_no: str) -> Order:
    order = db.session.scalar(_with_items(sa.select(Order).where(Order.order_no == str(order_no),
                                                                 Order.merchant_id == merchant_id)))
    if order is None:
        raise NotFound(_("订单不存在"), code=OrderError.ORDER_NOT_FOUND)
    return order


def timeline(order_id: int) -> list[OrderEvent]:
    return list(db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


# --- transitions ------------------------------------------------------------------------


def transition(order: Order, act: str, actor_id: int | None, note: str | None = None, **values) -> Order:
    """Make `act` of ORDER_LIFECYCLE happen to `order` if its status still allows it
    (StaleState otherwise); returns the order as it is now."""
    move(ORDER_LIFECYCLE, Order, order.id, act, actor_id=actor_id, note=note, values=values)
    return db.session.get(Order, order.id)


def _release_stock(order: Order) -> None:
    """Give reserved stock back, once: only the caller that moves reserved->released does it.
    Stock a flash sale held for the order is not the shelf's: the move is bookkeeping here,
    and the flash sale takes its units back on `order_cancelled` (app/receivers.py)."""
    if order.stock_state == StockState.HELD:
        try_move(STOCK_LIFECYCLE, Order, order.id, "release_held")
    elif try_move(STOCK_LIFECYCLE, Order, order.id, "release"):
        stock.release([(item.sku_id, item.quantity) for item in order.items], ref=("order", order.order_no))


def _cancel(order: Order, reason: CancelReason, actor_id: int | None, note: str | None = None) -> Order:
    """Cancel an unpaid order and give its reservation back; announces `order_cancelled`
    (payments closes a payment left with no open order)."""
    order = transition(order, "cancel", actor_id, note or _reason_text(reason),
                       cancelled_at=utcnow(), cancel_reason=reason)
    _release_stock(order)
    order_cancelled.send(order, reason=reason)
    return order


def _reason_text(reason: CancelReason) -> str:
    return {
        CancelReason.BUYER: _("买家取消"),
        CancelReason.TIMEOUT: _("超时未付款，系统自动取消"),
        CancelReason.ADMIN: _("平台取消"),
        CancelReason.OUT_OF_STOCK: _("付款时库存不足，系统自动取消并退款"),
    }[reason]


def cancel_by_buyer(buyer_id: int, order_no: str) -> Order:
    order = policies.require(for_buyer(buyer_id, order_no), policies.buyer(buyer_id), policies.Act.CANCEL)
    try:
        return _cancel(order, CancelReason.BUYER, buyer_id)
    except StaleState:
        # Lost a race (paid or timed out meanwhile): say what it is now.
        status = db.session.scalar(sa.select(Order.status).where(Order.id == order.id)
                                   .execution_options(populate_existing=True))
        code, message = policies.refusal(policies.Act.CANCEL, status)
        raise Conflict(message, code=code) from None


def cancel_if_expired(order_id: int) -> bool:
    """Cancel an unpaid order whose payment time is up; False when there is nothing to do."""
    order = db.session.get(Order, order_id)
    if order is None or order.status != OrderStatus.PENDING_PAYMENT or order.pay_expires_at > utcnow():
        return False
    try:
        _cancel(order, CancelReason.TIMEOUT, None)
    except StaleState:  # paid or cancelled a moment ago
        return False
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
    """The money for `payment` arrived: move its unpaid orders to paid, each announced
    with `order_paid` (commissions, sales counts, the merchant told, analytics).

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
            paid = transition(order, "pay", None, _("付款成功"), paid_at=now, to_review=False)
        except StaleState:
            # cancelled between our read and the update: its money goes back, and
            # stock taken for it a moment ago (on_payment) goes back to the shelf
            if order.stock_mode == StockDeduction.ON_PAYMENT:
                stock.release([(i.sku_id, i.quantity) for i in order.items], ref=("order", order.order_no))
            to_refund.append(db.session.get(Order, order.id))
            continue
        move(STOCK_LIFECYCLE, Order, paid.id, "deduct")
        paid = db.session.get(Order, paid.id)
        order_paid.send(paid)
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


# --- shipping and receipt ------------------------------------------------------------------


def ship(actor_id: int, merchant_id: int, order_no: str, carrier_code: str, tracking_no: str) -> Order:
    """Mark a paid order shipped with its carrier and tracking number; announces
    `order_shipped` (the buyer is told). Who may ship: `orders.policies`."""
    order = policies.require(for_merchant(merchant_id, order_no), policies.staff_of(actor_id, merchant_id), policies.Act.SHIP)
    carrier = carriers.get((carrier_code or "").strip())
    if carrier is None:
        raise ValidationError(_("请选择快递公司"), code=OrderError.INVALID_CARRIER,
                              fields={"carrier": _("请选择快递公司")})
    tracking_no = carriers.normalise_tracking_no(tracking_no)
    now = utcnow()
    try:
        order = transition(order, "ship", actor_id, f"{carrier.name} {tracking_no}", shipped_at=now)
    except StaleState:
        raise Conflict(_("订单状态已变化，请刷新后重试"), code=OrderError.CANNOT_SHIP) from None
    shipment = Shipment(order_id=order.id, carrier_code=carrier.code, tracking_no=tracking_no, shipped_at=now,
                        shipped_by_id=actor_id)
    db.session.add(shipment)
    db.session.flush()
    db.session.add(TrackingEvent(shipment_id=shipment.id, occurred_at=now, description=_("商家已发货"),
                                 source="system"))
    db.session.flush()
    order_shipped.send(order, shipment=shipment)
    return order


def confirm_receipt(buyer_id: int, order_no: str) -> Order:
    order = policies.require(for_buyer(buyer_id, order_no), policies.buyer(buyer_id), policies.Act.CONFIRM_RECEIPT)
    try:
        return _receive(order, buyer_id, _("买家确认收货"))
    except StaleState:
        raise Conflict(_("订单状态已变化，请刷新后重试"), code=OrderError.CANNOT_CONFIRM) from None


def _receive(order: Order, actor_id: int | None, note: str) -> Order:
    """Move a shipped order to received; announces `order_received` (its commissions
    start counting down to settlement)."""
    now = utcnow()
    windows = categories.aftersale_window_days([item.product_id for item in order.items])
    until = now + timedelta(days=max(windows.values(), default=platform_settings.get("aftersale_window_days")))
    order = transition(order, "receive", actor_id, note, received_at=now, to_review=True, aftersale_until=until)
    if order.shipment is not None:
        db.session.execute(sa.update(Shipment).where(Shipment.id == order.shipment.id).values(delivered=True)
                           .execution_options(synchronize_session=False))
    order_received.send(order)
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


def _nothing_open():
    """SQL: no item of the order is held by an open after-sale request."""
    return ~sa.exists().where(OrderItem.order_id == Order.id, OrderItem.open_aftersale_id.is_not(None))


def complete_due_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(sa.select(Order.id).where(
        Order.status == OrderStatus.RECEIVED, Order.aftersale_until <= utcnow(), _nothing_open()).limit(limit)))


def complete(order_id: int) -> bool:
    """The after-sales window after receipt has ended and no request is open: the order is done."""
    order = db.session.scalar(sa.select(Order).where(Order.id == order_id, Order.aftersale_until <= utcnow(),
                                                     _nothing_open()))
    if order is None or order.status != OrderStatus.RECEIVED:
        return False
    try:
        order = transition(order, "complete", None, _("售后期结束，交易完成"), completed_at=utcnow())
    except StaleState:
        return False
    order_completed.send(order)
    return True


# --- refunds (after-sales) ------------------------------------------------------------------


@dataclass(frozen=True)
class RefundedItems:
    """What `refund_items` decided: the money per item (fen) and in all, whether the
    order had not been shipped, and whether it is now closed (everything went back)."""

    item_fen: dict[int, int]
    shipping_fen: int
    before_shipping: bool
    closed: bool

    @property
    def amount_fen(self) -> int:
        return sum(self.item_fen.values()) + self.shipping_fen


def refund_items(order_id: int, quantities: dict[int, int], ref: tuple[str, str], actor_id: int | None,
                 note: str | None = None) -> RefundedItems:
    """Record that `quantities` (order item id -> units) of a paid order go back to the
    buyer, and work out the money. The after-sales and cancel-and-refund paths call it
    once per decided refund.

    - The order row is locked first, so a shipment racing the refund is decided one
      after the other: "before shipping" is what the order is when the refund is made.
    - Each item's share is its paid amount pro rata by quantity, counted cumulatively
      (`prorate` of everything refunded so far less what was refunded before), so the
      shares of several partial refunds add up to the item's paid amount exactly.
    - Shipping goes back only when this refund leaves nothing of an unshipped order.
    - Before shipping the stock goes back to the shelf here (`order_release`), once:
      the refunded-quantity UPDATE is guarded and refuses to pass the quantity bought.
    - When every unit of every item has gone back, the order closes.
    Raises Conflict when an item has fewer units left than asked for."""
    order = db.session.scalar(_with_items(sa.select(Order).where(Order.id == order_id).with_for_update())
                              .execution_options(populate_existing=True))
    if order is None or order.status not in ORDER_LIFECYCLE.transition("close").sources:
        raise Conflict(_("订单状态已变化，请刷新后重试"), code=OrderError.CANNOT_REFUND)
    before_shipping = order.status == OrderStatus.PAID
    items = {item.id: item for item in order.items}
    item_fen: dict[int, int] = {}
    for item_id, quantity in sorted(quantities.items()):
        item = items.get(item_id)
        if item is None or quantity <= 0:
            raise Conflict(_("订单商品不存在"), code=OrderError.ORDER_ITEM_NOT_FOUND)
        before = item.refunded_quantity
        moved = db.session.execute(
            sa.update(OrderItem).where(OrderItem.id == item_id, OrderItem.refunded_quantity == before,
                                       OrderItem.refunded_quantity + quantity <= OrderItem.quantity)
            .values(refunded_quantity=before + quantity).execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            raise Conflict(_("可退数量不足，请刷新后重试"), code=OrderError.CANNOT_REFUND)
        item_fen[item_id] = prorate(item.paid_fen, before + quantity, item.quantity) - prorate(
            item.paid_fen, before, item.quantity)
    db.session.expire_all()
    left = db.session.scalar(sa.select(sa.func.sum(OrderItem.quantity - OrderItem.refunded_quantity))
                             .where(OrderItem.order_id == order_id)) or 0
    shipping = order.shipping_fen if before_shipping and left == 0 else 0
    amount = sum(item_fen.values()) + shipping
    moved = db.session.execute(
        sa.update(Order).where(Order.id == order_id, Order.refunded_fen + amount <= Order.amount_fen)
        .values(refunded_fen=Order.refunded_fen + amount).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise Conflict(_("退款金额超过订单实付金额"), code=OrderError.CANNOT_REFUND)
    if before_shipping:
        stock.release([(items[i].sku_id, q) for i, q in quantities.items()], ref=ref)
    closed = left == 0
    if closed:
        transition(order, "close", actor_id, note or _("订单商品已全部退款，订单关闭"))
    return RefundedItems(item_fen, shipping, before_shipping, closed)
