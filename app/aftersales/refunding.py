"""The money side of after-sales: deciding a refund, and hearing that it went through.

Guarantees:
- A refund is decided once per request: the `refund` move (guarded) is what lets the
  rest happen, so two racing decisions (the shop and the deadline) refund once.
- In the same transaction: the order records the refunded units and money
  (`orders.services.refund_items`: pro rata shares, shipping when an unshipped order
  goes back whole, stock back before shipping, the order closed when nothing is left);
  payments makes the Refund (`out_refund_no` fixed by the request, the payment's
  refunds capped at what it collected); distribution hears `item_refunded` per item
  and takes back that share of commission.
- The request becomes `refunded` when the gateway confirms (`on_refund_succeeded`, a
  receiver of `refund_succeeded`); then its items are let go.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.aftersales import numbers
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale, AfterSaleLine
from app.aftersales.signals import aftersale_approved, aftersale_refunded
from app.aftersales.states import AFTERSALE_LIFECYCLE, AfterSaleStatus
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.lifecycle import move, try_move
from app.extensions import db
from app.orders import services as order_services
from app.orders.models import Order, OrderItem
from app.payments import services as payments
from app.payments.signals import item_refunded


def load(*conditions) -> AfterSale:
    """The one request `conditions` name, fresh from the database with its lines, their
    items and its dispute; NotFound otherwise (the scoped loaders of services.py use it)."""
    aftersale = db.session.scalar(
        sa.select(AfterSale).where(*conditions)
        .options(selectinload(AfterSale.lines).selectinload(AfterSaleLine.item), selectinload(AfterSale.dispute))
        .execution_options(populate_existing=True))
    if aftersale is None:
        raise NotFound(_("售后申请不存在"), code=AfterSaleError.AFTERSALE_NOT_FOUND)
    return aftersale


def reload(aftersale_id: int) -> AfterSale:
    return load(AfterSale.id == aftersale_id)


def let_go(aftersale_id: int) -> None:
    """The request ended: its items are free for another request (their commission may
    settle, the order may complete)."""
    db.session.execute(sa.update(OrderItem).where(OrderItem.open_aftersale_id == aftersale_id)
                       .values(open_aftersale_id=None).execution_options(synchronize_session=False))


def start(aftersale: AfterSale, actor_id: int | None, note: str) -> AfterSale:
    """Decide the refund of `aftersale` now (the shop, a deadline or the platform).
    StaleState when the request is no longer in a state a refund starts from."""
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "refund", actor_id=actor_id, note=note,
         values={"due_at": None, "refund_started_at": utcnow()})
    aftersale = reload(aftersale.id)
    decided = order_services.refund_items(aftersale.order_id, {line.order_item_id: line.quantity
                                                               for line in aftersale.lines},
                                          ref=("aftersale", aftersale.aftersale_no), actor_id=actor_id)
    for line in aftersale.lines:
        line.refund_fen = decided.item_fen[line.order_item_id]
    db.session.execute(sa.update(AfterSale).where(AfterSale.id == aftersale.id).values(
        refund_fen=decided.amount_fen, shipping_refund_fen=decided.shipping_fen,
        before_shipping=decided.before_shipping).execution_options(synchronize_session=False))
    db.session.flush()
    # Commissions first: their share goes back to the shop's money before the refund takes
    # the whole of it out (the books never read the shop's account short in between).
    items = {item.id: item for item in db.session.scalars(
        sa.select(OrderItem).where(OrderItem.id.in_([line.order_item_id for line in aftersale.lines]))
        .execution_options(populate_existing=True))}
    for line in aftersale.lines:
        item = items[line.order_item_id]
        item_refunded.send(item.id, refunded_quantity=item.refunded_quantity, quantity=item.quantity)
    order = db.session.get(Order, aftersale.order_id)
    refund = None
    if decided.amount_fen > 0:
        refund = payments.refund_for_aftersale(order, aftersale.id, decided.amount_fen,
                                               _("售后退款 %(no)s", no=aftersale.aftersale_no),
                                               numbers.refund_no(aftersale.aftersale_no))
    aftersale = reload(aftersale.id)
    aftersale_approved.send(aftersale, refund_started=True)
    if refund is None:  # nothing to pay back (a free item): done at once
        finish(aftersale.id, None)
    return reload(aftersale.id)


def finish(aftersale_id: int, refund) -> bool:
    """The money is back with the buyer: the request is refunded and lets its items go.
    False when it was not refunding (a repeat)."""
    if not try_move(AFTERSALE_LIFECYCLE, AfterSale, aftersale_id, "refunded", note=_("退款成功"),
                    values={"finished_at": utcnow()}):
        return False
    let_go(aftersale_id)
    aftersale_refunded.send(reload(aftersale_id), refund=refund)
    return True


def on_refund_succeeded(refund) -> None:
    """Receiver of payments' `refund_succeeded`: a request's refund went through."""
    if refund.aftersale_id is not None:
        status = db.session.scalar(sa.select(AfterSale.status).where(AfterSale.id == refund.aftersale_id))
        if status == AfterSaleStatus.REFUNDING:
            finish(refund.aftersale_id, refund)
