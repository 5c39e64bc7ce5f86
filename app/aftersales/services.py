"""After-sales once a request exists: loading it for whoever asks, what each party may
do now, the buyer's later steps (withdraw, ship back, confirm a replacement), the shop's
answers, and acting for a silent party when its deadline passes. Making a request is
`applications.py`; the money side is `refunding.py`.

Guarantees:
- Every status change is a move of AFTERSALE_LIFECYCLE (guarded UPDATE + timeline row);
  who may make it is `policies.require`. Loading is scoped: someone else's request is
  NotFound, so numbers cannot be probed.
- A request lets its items go when it ends (refunded, completed, closed, cancelled).
- Money, stock and commission move once, when a refund is decided (`refunding.start`).
- Each step sets `due_at` for the party the request now waits for and schedules the
  deadline job (`act_on_deadline`); `deadlines.py` has the sweep that backs it.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.aftersales import policies, refunding
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale, AfterSaleEvent
from app.aftersales.refunding import let_go, load, reload
from app.aftersales.signals import (
    aftersale_approved,
    aftersale_closed,
    aftersale_rejected,
    aftersale_returned,
    replacement_shipped,
)
from app.aftersales.states import (
    AFTERSALE_LIFECYCLE,
    RECEIVE_DAYS,
    REJECTED_DAYS,
    RETURN_DAYS,
    RETURN_KINDS,
    AfterSaleKind,
    AfterSaleStatus,
)
from app.catalog import categories
from app.catalog.images import make_thumbnail
from app.core import settings as platform_settings
from app.core import storage
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.errors import Conflict, StaleState, ValidationError
from app.core.jobs import schedule_after_commit
from app.core.lifecycle import move
from app.extensions import db
from app.inventory import services as stock
from app.inventory.states import MovementReason
from app.merchants.models import Merchant, MerchantAddress
from app.orders import carriers
from app.orders.models import Order, OrderItem
from app.orders.states import OrderStatus

S = AfterSaleStatus


# --- loading ----------------------------------------------------------------------------------


def for_buyer(buyer_id: int, aftersale_no: str) -> AfterSale:
    return load(AfterSale.aftersale_no == str(aftersale_no), AfterSale.buyer_id == buyer_id)


def for_merchant(merchant_id: int, aftersale_no: str) -> AfterSale:
    return load(AfterSale.aftersale_no == str(aftersale_no), AfterSale.merchant_id == merchant_id)


def for_platform(aftersale_no: str) -> AfterSale:
    return load(AfterSale.aftersale_no == str(aftersale_no))


def timeline(aftersale_id: int) -> list[AfterSaleEvent]:
    return list(db.session.scalars(sa.select(AfterSaleEvent).where(AfterSaleEvent.aftersale_id == aftersale_id)
                                   .order_by(AfterSaleEvent.id)))


# --- the window -------------------------------------------------------------------------------


def window_ends(order: Order, items: list[OrderItem]):
    """When these items' after-sales window ends (None while the order is not received:
    it has not started)."""
    if order.received_at is None:
        return None
    days = categories.aftersale_window_days([item.product_id for item in items])
    return order.received_at + timedelta(days=min(days.values()))


def window_open(aftersale: AfterSale) -> bool:
    """Whether the request's items may still be taken to after-sales (for reapplying)."""
    order = db.session.get(Order, aftersale.order_id)
    if order.status == OrderStatus.PAID or order.status == OrderStatus.SHIPPED:
        return True
    if order.status != OrderStatus.RECEIVED:
        return False
    ends = window_ends(order, [line.item for line in aftersale.lines])
    return ends is not None and ends > utcnow()


def actions_for(aftersale: AfterSale, actor: policies.Actor) -> tuple[str, ...]:
    """`policies.actions_for` with the window worked out (for pages and the API)."""
    needs_window = actor.audience == policies.Audience.BUYER and aftersale.status in (S.REJECTED, S.CLOSED)
    return policies.actions_for(aftersale, actor, window_open=window_open(aftersale) if needs_window else True)


def require(aftersale: AfterSale, actor: policies.Actor, act: str) -> AfterSale:
    needs_window = act == policies.Act.REAPPLY
    return policies.require(aftersale, actor, act, window_open=window_open(aftersale) if needs_window else True)


# --- shared by every step ------------------------------------------------------------------


def store_images(images: list[bytes], folder: str) -> list[dict]:
    stored = []
    for data in images:
        original = storage.save_image(data, folder)
        thumb = storage.save_image(make_thumbnail(data), folder)
        stored.append({"key": original.key, "thumb_key": thumb.key})
    return stored


def evidence_key(aftersale: AfterSale, name: str) -> str | None:
    """The stored key of a photo (or its thumbnail) whose file name is `name` among the
    request's evidence, the dispute's evidence on both sides and its messages; None when
    it is none of them. The caller has loaded `aftersale` scoped to who asks."""
    images = list(aftersale.images or [])
    if aftersale.dispute is not None:
        images += list(aftersale.dispute.buyer_evidence or []) + list(aftersale.dispute.merchant_evidence or [])
        images += [image for message in aftersale.dispute.messages for image in message.images or []]
    keys = {image.get(k) for image in images if isinstance(image, dict) for k in ("key", "thumb_key")}
    return next((key for key in keys if key and key.rsplit("/", 1)[-1] == name), None)


def due_in(days: int):
    return utcnow() + timedelta(days=days)


def schedule_deadline(aftersale: AfterSale) -> None:
    """Run `act_on_deadline` when the request's current step is due (the job; the
    sweep in deadlines.py backs it)."""
    if aftersale.due_at is not None:
        schedule_after_commit(act_on_deadline, aftersale.id, at=aftersale.due_at, queue="low")


def cancel(buyer_id: int, aftersale_no: str) -> AfterSale:
    """The buyer withdraws the request; its items are free again."""
    aftersale = require(for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id), policies.Act.CANCEL)
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "cancel", actor_id=buyer_id, note=_("买家撤销申请"),
         values={"due_at": None, "finished_at": utcnow()})
    return _ended(aftersale.id)


def _ended(aftersale_id: int) -> AfterSale:
    let_go(aftersale_id)
    aftersale = reload(aftersale_id)
    aftersale_closed.send(aftersale)
    return aftersale


def ship_back(buyer_id: int, aftersale_no: str, carrier_code: str, tracking_no: str) -> AfterSale:
    """The buyer sent the goods back: the shop has RECEIVE_DAYS to confirm the parcel."""
    aftersale = require(for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id), policies.Act.SHIP_BACK)
    carrier, tracking_no = _carrier(carrier_code, tracking_no)
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "ship_back", actor_id=buyer_id,
         note=f"{carrier.name} {tracking_no}",
         values={"return_carrier": carrier.code, "return_tracking_no": tracking_no, "returned_at": utcnow(),
                 "due_at": due_in(RECEIVE_DAYS)})
    aftersale = reload(aftersale.id)
    aftersale_returned.send(aftersale, carrier=carrier.name, tracking_no=tracking_no)
    schedule_deadline(aftersale)
    return aftersale


def _carrier(carrier_code: str, tracking_no: str):
    carrier = carriers.get((carrier_code or "").strip())
    if carrier is None:
        raise ValidationError(_("请选择快递公司"), code="invalid_carrier", fields={"carrier": _("请选择快递公司")})
    return carrier, carriers.normalise_tracking_no(tracking_no)


def confirm_replacement(buyer_id: int | None, aftersale_no: str | None = None, *,
                        aftersale_id: int | None = None) -> AfterSale:
    """The buyer received the exchange replacement (or the deadline did it for them)."""
    if buyer_id is not None:
        aftersale = require(for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id),
                             policies.Act.CONFIRM_REPLACEMENT)
        note = _("买家确认收到换货")
    else:
        aftersale = reload(aftersale_id)
        note = _("换货发出后买家未确认，系统自动确认收货")
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "confirm_replacement", actor_id=buyer_id, note=note,
         values={"due_at": None, "finished_at": utcnow()})
    let_go(aftersale.id)
    return reload(aftersale.id)


# --- the shop's answers -------------------------------------------------------------------------


def return_addresses(merchant_id: int) -> list[MerchantAddress]:
    return list(db.session.scalars(sa.select(MerchantAddress).where(MerchantAddress.merchant_id == merchant_id)
                                   .order_by(MerchantAddress.is_default.desc(), MerchantAddress.id)))


def _address_snapshot(merchant_id: int, address_id) -> dict:
    address_id = to_int(address_id)
    address = db.session.scalar(sa.select(MerchantAddress).where(MerchantAddress.id == address_id,
                                                                 MerchantAddress.merchant_id == merchant_id)) \
        if address_id is not None else None
    if address is None:
        raise ValidationError(_("请选择退货地址"), code=AfterSaleError.RETURN_ADDRESS_REQUIRED,
                              fields={"return_address_id": _("请选择退货地址")})
    return address.snapshot()


def default_address(merchant_id: int) -> dict | None:
    """The address a deadline or a ruling sends returns to: the shop's default (or
    first) return address, else the one on its shop profile; None when it has none."""
    addresses = return_addresses(merchant_id)
    if addresses:
        return addresses[0].snapshot()
    merchant = db.session.get(Merchant, merchant_id)
    if merchant.return_address:
        return {"recipient": merchant.return_recipient, "phone": merchant.return_phone,
                "address": merchant.return_address}
    return None


def approve(actor: policies.Actor, aftersale_no: str, return_address_id=None) -> AfterSale:
    """The shop says yes. A refund-only is refunded now; a return or exchange gets the
    chosen return address and waits for the buyer's parcel."""
    aftersale = for_merchant(actor.merchant_id, aftersale_no)
    if aftersale.kind not in RETURN_KINDS:
        return refund(actor, aftersale_no, note=_("商家同意退款"))
    require(aftersale, actor, policies.Act.APPROVE)
    address = _address_snapshot(aftersale.merchant_id, return_address_id)
    return start_return(aftersale, actor.user_id, address, _("商家同意退货，等待买家寄回"))


def start_return(aftersale: AfterSale, actor_id: int | None, address: dict, note: str,
                 kind: str | None = None) -> AfterSale:
    """Approve a return (the shop, its deadline, or a ruling): the buyer has RETURN_DAYS
    to send the goods to `address`."""
    values = {"return_address": address, "due_at": due_in(RETURN_DAYS)}
    if kind is not None:
        values["kind"] = kind
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "approve", actor_id=actor_id, note=note, values=values)
    aftersale = reload(aftersale.id)
    aftersale_approved.send(aftersale, refund_started=False)
    schedule_deadline(aftersale)
    return aftersale


def refund(actor: policies.Actor, aftersale_no: str, note: str | None = None) -> AfterSale:
    """The shop refunds now: approving a refund-only, or without waiting for the goods."""
    aftersale = require(for_merchant(actor.merchant_id, aftersale_no), actor, policies.Act.REFUND)
    refunding.start(aftersale, actor.user_id, note or _("商家同意退款"))
    return reload(aftersale.id)


def reject(actor: policies.Actor, aftersale_no: str, reason: str) -> AfterSale:
    """The shop says no, with a reason the buyer sees; the buyer may edit and reapply,
    or ask the platform to step in."""
    aftersale = require(for_merchant(actor.merchant_id, aftersale_no), actor, policies.Act.REJECT)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise ValidationError(_("请填写拒绝理由（2–200 字）"), code=AfterSaleError.REJECT_REASON_REQUIRED,
                              fields={"reason": _("请填写拒绝理由（2–200 字）")})
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "reject", actor_id=actor.user_id, note=reason,
         values={"reject_reason": reason, "due_at": due_in(REJECTED_DAYS)})
    aftersale = reload(aftersale.id)
    aftersale_rejected.send(aftersale)
    schedule_deadline(aftersale)
    return aftersale


def receive(actor: policies.Actor, aftersale_no: str, restock) -> AfterSale:
    """The returned parcel arrived. `restock`: the goods go back on the shelf
    (`return_restock`), or not (damaged). A return is then refunded; an exchange waits
    for the replacement (the shop has `merchant_reply_days` to send it)."""
    aftersale = require(for_merchant(actor.merchant_id, aftersale_no), actor, policies.Act.RECEIVE)
    restock = restock is True or str(restock).lower() in {"1", "true", "on", "yes"}
    received = db.session.execute(
        sa.update(AfterSale).where(AfterSale.id == aftersale.id, AfterSale.status == S.RETURNED,
                                   AfterSale.return_received_at.is_(None))
        .values(return_received_at=utcnow(), restocked=restock)
        .execution_options(synchronize_session=False)).rowcount
    if received != 1:
        raise Conflict(_("售后状态已变化，请刷新后重试"), code=AfterSaleError.CANNOT_ACT)
    if restock:
        stock.restock([(line.item.sku_id, line.quantity) for line in aftersale.lines],
                      ref=("aftersale", aftersale.aftersale_no))
    note = _("商家确认收到退货，已入库") if restock else _("商家确认收到退货，未入库（商品损坏）")
    if aftersale.kind == AfterSaleKind.EXCHANGE:
        db.session.add(AfterSaleEvent(aftersale_id=aftersale.id, actor_id=actor.user_id, from_status=S.RETURNED,
                                      to_status=S.RETURNED, note=note))
        db.session.execute(sa.update(AfterSale).where(AfterSale.id == aftersale.id)
                           .values(due_at=due_in(platform_settings.get("merchant_reply_days")))
                           .execution_options(synchronize_session=False))
        db.session.flush()
        aftersale = reload(aftersale.id)
        schedule_deadline(aftersale)
        return aftersale
    refunding.start(aftersale, actor.user_id, note)
    return reload(aftersale.id)


def ship_replacement(actor: policies.Actor, aftersale_no: str, carrier_code: str, tracking_no: str) -> AfterSale:
    """The exchange's replacement leaves the shop: its stock is taken (`exchange_out`;
    OutOfStock when there is none), and the buyer confirms receipt (or the deadline does)."""
    aftersale = require(for_merchant(actor.merchant_id, aftersale_no), actor, policies.Act.SHIP_REPLACEMENT)
    carrier, tracking_no = _carrier(carrier_code, tracking_no)
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "ship_replacement", actor_id=actor.user_id,
         note=f"{carrier.name} {tracking_no}",
         values={"replacement_carrier": carrier.code, "replacement_tracking_no": tracking_no,
                 "replacement_shipped_at": utcnow(), "due_at": due_in(platform_settings.get("auto_confirm_days"))})
    stock.take([(line.item.sku_id, line.quantity) for line in aftersale.lines], MovementReason.EXCHANGE_OUT,
               ref=("aftersale", aftersale.aftersale_no), actor_id=actor.user_id)
    aftersale = reload(aftersale.id)
    replacement_shipped.send(aftersale, carrier=carrier.name, tracking_no=tracking_no)
    schedule_deadline(aftersale)
    return aftersale


def close(aftersale_id: int, actor_id: int | None, note: str) -> AfterSale:
    """End a request with nothing moved (the buyer never shipped back; a ruling for the shop)."""
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale_id, "close", actor_id=actor_id, note=note,
         values={"due_at": None, "finished_at": utcnow()})
    return _ended(aftersale_id)


# --- deadlines ----------------------------------------------------------------------------------


def act_on_deadline(aftersale_id: int) -> bool:
    """The party the request waits for let `due_at` pass: act for them (the scheduled
    job, and the sweep's step). Idempotent: a request not due, or moved on meanwhile,
    is left alone (False).

    - pending: the shop is silent, so it is approved: a refund-only is refunded; a
      return or exchange gets the shop's default return address (refunded when the shop
      has no address at all: the buyer cannot be left waiting).
    - awaiting_return: the buyer never shipped back: closed (they may reapply).
    - rejected: the buyer neither reapplied nor escalated: closed, so the item stops
      holding the order open (they may still reapply while the window lasts).
    - returned: the shop did not confirm the parcel (or send the exchange's
      replacement): refunded.
    - exchange_shipped: the buyer did not confirm the replacement: confirmed."""
    aftersale = db.session.get(AfterSale, aftersale_id)
    if aftersale is None or aftersale.due_at is None or aftersale.due_at > utcnow():
        return False
    status = aftersale.status
    aftersale = reload(aftersale_id)
    try:
        if status == S.PENDING:
            address = default_address(aftersale.merchant_id) if aftersale.kind in RETURN_KINDS else None
            if address is not None:
                start_return(aftersale, None, address, _("商家逾期未处理，系统自动同意退货"))
            else:
                refunding.start(aftersale, None, _("商家逾期未处理，系统自动同意退款"))
        elif status == S.AWAITING_RETURN:
            close(aftersale.id, None, _("买家逾期未寄回商品，售后关闭"))
        elif status == S.REJECTED:
            close(aftersale.id, None, _("商家拒绝后买家未重新申请或申请平台介入，售后关闭"))
        elif status == S.RETURNED:
            refunding.start(aftersale, None, _("商家逾期未处理退货，系统自动退款"))
        elif status == S.EXCHANGE_SHIPPED:
            confirm_replacement(None, aftersale_id=aftersale.id)
        else:
            return False
    except StaleState:  # moved on between the read and the act
        return False
    return True
