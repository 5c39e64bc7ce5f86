"""Asking for after-sales: what the buyer sends, which items and kinds the rules allow
now, the refund it would bring, and making (or remaking) the request.

Guarantees:
- One open request per order item: a request takes its items with a guarded UPDATE
  (`order_items.open_aftersale_id IS NULL`), so of two racing applications one wins.
- Allowed: refund-only while the order is paid and not shipped (a cancel-and-refund);
  any kind once shipped, until the item's window after receipt ends (the category's
  `aftersale_window_days`, else the platform's); never more units than are left to
  refund; never an item the platform ruled on for the shop. A refusal says which rule
  with `aftersale_not_allowed`, and what the order page offers (`may_apply_items`) is
  what `apply` accepts.
- A refund-only before shipping is refunded at once when the shop allows it; any other
  request waits for the shop, whose deadline is scheduled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.aftersales import numbers, policies, refunding, services
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine, Dispute
from app.aftersales.refunding import let_go, reload
from app.aftersales.signals import aftersale_requested
from app.aftersales.states import (
    AFTERSALE_LIFECYCLE,
    DESCRIPTION_MAX,
    MAX_IMAGES,
    REASON_TEXT_MAX,
    AfterSaleKind,
    AfterSaleStatus,
    Reason,
)
from app.catalog import categories
from app.core import settings as platform_settings
from app.core import storage
from app.core.bounds import to_int
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.lifecycle import move
from app.core.money import prorate
from app.extensions import db
from app.merchants.models import Merchant
from app.orders.models import Order, OrderItem
from app.orders.states import OrderStatus

S = AfterSaleStatus
# Order statuses a request may be made in besides paid (refund-only, before shipping):
# on its way or received (inside the window).
SHIPPED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.RECEIVED)


@dataclass
class Application:
    """A request as the buyer fills it in: (order item id, units) lines, the kind, the
    reason (a preset; `other` with text), a description and evidence images (bytes)."""

    lines: list[tuple[int, int]]
    kind: str
    reason: str
    reason_text: str = ""
    description: str = ""
    images: list[bytes] = field(default_factory=list)


def read_lines(raw) -> list[tuple[int, int]]:
    """`[{"order_item_id", "quantity"}, ...]` (the API's shape) as checked pairs."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 50:
        raise ValidationError(_("请选择要售后的商品"), code=AfterSaleError.INVALID_ITEMS, fields={"items": _("请选择要售后的商品")})
    lines, seen = [], set()
    for entry in raw:
        item_id = to_int(entry.get("order_item_id")) if isinstance(entry, dict) else None
        quantity = to_int(entry.get("quantity")) if isinstance(entry, dict) else None
        if item_id is None or item_id in seen:
            raise ValidationError(_("请选择要售后的商品"), code=AfterSaleError.INVALID_ITEMS,
                                  fields={"items": _("请选择要售后的商品")})
        if quantity is None or not 1 <= quantity <= 999:
            raise ValidationError(_("请填写正确的数量"), code=AfterSaleError.INVALID_QUANTITY,
                                  fields={"quantity": _("请填写正确的数量")})
        seen.add(item_id)
        lines.append((item_id, quantity))
    return lines


def _check(application: Application) -> Application:
    """The form's own rules (kind, reason, lengths, image count): ValidationError with fields."""
    errors = {}
    if application.kind not in set(AfterSaleKind):
        errors["kind"] = _("请选择售后类型")
    if application.reason not in set(Reason):
        errors["reason"] = _("请选择售后原因")
    application.reason_text = (application.reason_text or "").strip()
    if application.reason == Reason.OTHER and not application.reason_text:
        errors["reason_text"] = _("请填写具体原因")
    elif len(application.reason_text) > REASON_TEXT_MAX:
        errors["reason_text"] = _("原因最多 %(n)d 字", n=REASON_TEXT_MAX)
    application.description = (application.description or "").strip()
    if len(application.description) > DESCRIPTION_MAX:
        errors["description"] = _("问题描述最多 %(n)d 字", n=DESCRIPTION_MAX)
    application.images = [data for data in application.images or [] if data]
    if len(application.images) > MAX_IMAGES:
        errors["images"] = _("最多上传 %(n)d 张图片", n=MAX_IMAGES)
    if errors:
        first = next(iter(errors))
        code = {"kind": AfterSaleError.INVALID_KIND, "reason": AfterSaleError.INVALID_REASON,
                "reason_text": AfterSaleError.INVALID_REASON, "description": AfterSaleError.DESCRIPTION_TOO_LONG,
                "images": AfterSaleError.TOO_MANY_IMAGES}[first]
        raise ValidationError(errors[first], code=code, fields=errors)
    for data in application.images:
        storage.check_image(data)  # every image is checked before any is stored
    return application


def _not_allowed(message: str) -> Conflict:
    return Conflict(message, code=AfterSaleError.NOT_ALLOWED)


def _check_eligible(order: Order, lines: list[tuple[int, int]], kind: str,
                    holder_id: int | None = None) -> list[tuple[OrderItem, int]]:
    """The order items and units asked about, once the rules allow them; Conflict
    `aftersale_not_allowed` saying which rule refuses. `holder_id`: a request being
    reapplied, which may hold its own items already."""
    items = {item.id: item for item in order.items}
    chosen = []
    for item_id, quantity in lines:
        item = items.get(item_id)
        if item is None:
            raise NotFound(_("订单商品不存在"), code=AfterSaleError.INVALID_ITEMS)
        chosen.append((item, quantity))
    if order.status == OrderStatus.PAID:
        if kind != AfterSaleKind.REFUND_ONLY:
            raise _not_allowed(_("商家尚未发货，只能申请仅退款"))
    elif order.status in SHIPPED_STATUSES:
        ends = services.window_ends(order, [item for item, _q in chosen])
        if ends is not None and ends <= utcnow():
            raise _not_allowed(_("已超过售后期限（确认收货后 %(n)d 天内）",
                                 n=(ends - order.received_at).days))
    else:
        raise _not_allowed(_("该订单当前不能申请售后"))
    for item, quantity in chosen:
        if item.open_aftersale_id is not None and item.open_aftersale_id != holder_id:
            raise _not_allowed(_("「%(title)s」已有进行中的售后申请", title=item.title))
        if quantity > item.refundable_quantity:
            raise _not_allowed(_("「%(title)s」最多可申请 %(n)d 件", title=item.title, n=item.refundable_quantity))
    return chosen


def may_apply_items(order: Order, holder_id: int | None = None) -> dict[int, tuple[str, ...]]:
    """Order item id -> the kinds the buyer may ask for on that item now; an item left
    out may not be asked about. The same rules `apply` (and, with `holder_id`, `reapply`)
    checks in `_check_eligible` and `_refuse_after_ruling`, item by item: refund-only
    while the order is paid and not shipped, any kind once shipped until the item's own
    window after receipt ends; units left to refund; no other open request on it (a
    request being reapplied, `holder_id`, may hold it); not ruled on for the shop
    already (new requests only). Two or three queries whatever the number of items."""
    if order.status == OrderStatus.PAID:
        kinds: tuple[str, ...] = (str(AfterSaleKind.REFUND_ONLY),)
    elif order.status in SHIPPED_STATUSES:
        kinds = tuple(str(kind) for kind in AfterSaleKind)
    else:
        return {}
    free = [item for item in order.items
            if item.refundable_quantity > 0 and item.open_aftersale_id in (None, holder_id)]
    if free and order.received_at is not None:
        days = categories.aftersale_window_days([item.product_id for item in free])
        now = utcnow()
        free = [item for item in free if item.product_id in days
                and order.received_at + timedelta(days=days[item.product_id]) > now]
    if free and holder_id is None:
        ruled = _ruled_item_ids([item.id for item in free])
        free = [item for item in free if item.id not in ruled]
    return {item.id: kinds for item in free}


def whole_refund_lines(order: Order) -> list[tuple[int, int]] | None:
    """取消订单并退款: every unit left of a paid, unshipped order as the lines of one
    refund-only request, or None when the order cannot go back whole that way (not
    paid-and-unshipped, or an item is held by a request or ruled on)."""
    if order.status != OrderStatus.PAID:
        return None
    eligible = may_apply_items(order)
    left = [item for item in order.items if item.refundable_quantity > 0]
    if not left or any(item.id not in eligible for item in left):
        return None
    return [(item.id, item.refundable_quantity) for item in left]


def estimate_refund(order: Order, chosen: list[tuple[OrderItem, int]]) -> tuple[int, int]:
    """(refund_fen, shipping_fen) the request would give back if refunded now: each
    item's paid amount pro rata (cumulative, as `orders.services.refund_items` decides
    it), plus shipping when it takes everything left of an unshipped order."""
    amount = sum(prorate(item.paid_fen, item.refunded_quantity + q, item.quantity)
                 - prorate(item.paid_fen, item.refunded_quantity, item.quantity) for item, q in chosen)
    asked = {item.id: q for item, q in chosen}
    whole = all(item.refundable_quantity == asked.get(item.id, 0) for item in order.items)
    shipping = order.shipping_fen if order.status == OrderStatus.PAID and whole else 0
    return amount + shipping, shipping


def hold(aftersale_id: int, item_ids: list[int], holder_id: int | None = None) -> None:
    """Take the items for this request; Conflict when another request got one first."""
    free = OrderItem.open_aftersale_id.is_(None)
    if holder_id is not None:
        free = sa.or_(free, OrderItem.open_aftersale_id == holder_id)
    taken = db.session.execute(sa.update(OrderItem).where(OrderItem.id.in_(item_ids), free)
                               .values(open_aftersale_id=aftersale_id)
                               .execution_options(synchronize_session=False)).rowcount
    if taken != len(item_ids):
        raise _not_allowed(_("该商品已有进行中的售后申请"))


def apply(buyer_id: int, order_no: str, application: Application) -> AfterSale:
    """The buyer asks for after-sales on items of their own order. A refund-only before
    shipping is refunded at once when the shop allows that (its default)."""
    order = db.session.scalar(sa.select(Order).where(Order.order_no == str(order_no), Order.buyer_id == buyer_id)
                              .options(selectinload(Order.items)))
    if order is None:
        raise NotFound(_("订单不存在"), code=AfterSaleError.AFTERSALE_NOT_FOUND)
    application = _check(application)
    chosen = _check_eligible(order, application.lines, application.kind)
    _refuse_after_ruling([item.id for item, _q in chosen])
    refund_fen, shipping_fen = estimate_refund(order, chosen)
    aftersale = AfterSale(
        aftersale_no=numbers.new_aftersale_no(), order_id=order.id, buyer_id=buyer_id, merchant_id=order.merchant_id,
        kind=application.kind, status=S.PENDING, reason=application.reason, reason_text=application.reason_text,
        description=application.description, refund_fen=refund_fen, shipping_refund_fen=shipping_fen,
        before_shipping=order.status == OrderStatus.PAID, due_at=services.due_in(platform_settings.get("merchant_reply_days")),
        lines=[AfterSaleLine(order_item_id=item.id, quantity=q, refund_fen=0) for item, q in chosen])
    db.session.add(aftersale)
    db.session.flush()
    hold(aftersale.id, [item.id for item, _q in chosen])
    aftersale.images = services.store_images(application.images, f"aftersales/{aftersale.id}")
    db.session.add(AfterSaleEvent(aftersale_id=aftersale.id, actor_id=buyer_id, from_status=None, to_status=S.PENDING,
                                  note=_("买家申请售后")))
    db.session.flush()
    return _after_request(aftersale)


def _ruled_item_ids(item_ids: list[int]) -> set[int]:
    """The items among `item_ids` of a request the platform closed for the shop."""
    return set(db.session.scalars(
        sa.select(AfterSaleLine.order_item_id).join(AfterSale, AfterSale.id == AfterSaleLine.aftersale_id)
        .join(Dispute, Dispute.aftersale_id == AfterSale.id)
        .where(AfterSaleLine.order_item_id.in_(item_ids), AfterSale.status == S.CLOSED)))


def _refuse_after_ruling(item_ids: list[int]) -> None:
    """An item the platform already ruled on for the shop cannot be asked about again."""
    if _ruled_item_ids(item_ids):
        raise _not_allowed(_("平台已对该商品的售后作出处理，不能再次申请"))


def _after_request(aftersale: AfterSale) -> AfterSale:
    """A request (new or reapplied) waits for the shop: auto-refund an unshipped
    refund-only when the shop allows it, else tell the shop and start the clock."""
    merchant = db.session.get(Merchant, aftersale.merchant_id)
    order = db.session.get(Order, aftersale.order_id)
    if (aftersale.kind == AfterSaleKind.REFUND_ONLY and order.status == OrderStatus.PAID
            and merchant.aftersale_auto_refund):
        refunding.start(aftersale, None, _("商家未发货，系统自动同意退款"))
        return reload(aftersale.id)
    aftersale_requested.send(aftersale)
    services.schedule_deadline(aftersale)
    return reload(aftersale.id)


def reapply(buyer_id: int, aftersale_no: str, application: Application) -> AfterSale:
    """Edit a rejected (or closed for not shipping back) request and send it again."""
    aftersale = services.require(services.for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id), policies.Act.REAPPLY)
    order = db.session.scalar(sa.select(Order).where(Order.id == aftersale.order_id)
                              .options(selectinload(Order.items)))
    application = _check(application)
    chosen = _check_eligible(order, application.lines, application.kind, holder_id=aftersale.id)
    refund_fen, shipping_fen = estimate_refund(order, chosen)
    move(AFTERSALE_LIFECYCLE, AfterSale, aftersale.id, "reapply", actor_id=buyer_id, note=_("买家修改后重新申请"),
         values={"reapplied": AfterSale.reapplied + 1, "kind": application.kind, "reason": application.reason,
                 "reason_text": application.reason_text, "description": application.description,
                 "refund_fen": refund_fen, "shipping_refund_fen": shipping_fen, "reject_reason": None,
                 "return_address": None, "before_shipping": order.status == OrderStatus.PAID,
                 "due_at": services.due_in(platform_settings.get("merchant_reply_days"))})
    aftersale = reload(aftersale.id)
    let_go(aftersale.id)
    for line in list(aftersale.lines):
        db.session.delete(line)
    db.session.flush()
    for item, quantity in chosen:
        db.session.add(AfterSaleLine(aftersale_id=aftersale.id, order_item_id=item.id, quantity=quantity))
    db.session.flush()
    hold(aftersale.id, [item.id for item, _q in chosen])
    if application.images:
        aftersale.images = services.store_images(application.images, f"aftersales/{aftersale.id}")
        db.session.flush()
    return _after_request(reload(aftersale.id))
