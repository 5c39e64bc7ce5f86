"""The platform's own refunds: an admin cancels and refunds any paid order, in full or
per item, with a reason (audited). It is an after-sale request made and refunded by the
platform in one step, so money, stock and commission follow the same path as every
other refund (`refunding.start`)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.accounts import policies as account_policies
from app.aftersales import applications, numbers, refunding
from app.aftersales.errors import AfterSaleError
from app.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine
from app.aftersales.states import AfterSaleKind, AfterSaleStatus, Reason
from app.core import audit
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.extensions import db
from app.orders.models import Order
from app.orders.states import ORDER_LIFECYCLE

# Orders the platform may refund: every status an order can close from (the money is in).
REFUNDABLE = ORDER_LIFECYCLE.transition("close").sources
REFUND_PERMISSION = "orders.refund"


def refundable(order: Order) -> bool:
    return order.status in REFUNDABLE and any(item.refundable_quantity for item in order.items)


def cancel_and_refund(admin, order_no: str, lines: list[tuple[int, int]] | None, reason: str) -> AfterSale:
    """Refund `lines` ((order item id, units); None: everything not yet refunded) of a
    paid order now. Conflict when an item is held by an open request (rule on that
    one instead) or has fewer units left; ValidationError for no lines or an item named
    twice. Only admins whose role grants `orders.refund` (operators, super admins)."""
    if not account_policies.can(admin, REFUND_PERMISSION):
        raise Forbidden(_("你没有退款的权限"), code=AfterSaleError.NOT_ALLOWED)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 100:
        raise ValidationError(_("请填写退款原因（2–100 字）"), code=AfterSaleError.INVALID_REASON,
                              fields={"reason": _("请填写退款原因（2–100 字）")})
    order = db.session.scalar(sa.select(Order).where(Order.order_no == str(order_no))
                              .options(selectinload(Order.items)))
    if order is None:
        raise NotFound(_("订单不存在"), code=AfterSaleError.AFTERSALE_NOT_FOUND)
    if not refundable(order):
        raise Conflict(_("该订单当前没有可退款的商品"), code=AfterSaleError.NOT_ALLOWED)
    if lines is None:
        lines = [(item.id, item.refundable_quantity) for item in order.items if item.refundable_quantity]
    if not lines or len({item_id for item_id, _q in lines}) != len(lines):
        raise ValidationError(_("请选择要退款的商品"), code=AfterSaleError.INVALID_ITEMS,
                              fields={"items": _("请选择要退款的商品")})
    items = {item.id: item for item in order.items}
    for item_id, quantity in lines:
        item = items.get(item_id)
        if item is None:
            raise NotFound(_("订单商品不存在"), code=AfterSaleError.INVALID_ITEMS)
        if item.open_aftersale_id is not None:
            raise Conflict(_("「%(title)s」有进行中的售后申请，请在售后中处理", title=item.title),
                           code=AfterSaleError.NOT_ALLOWED)
        if not 1 <= quantity <= item.refundable_quantity:
            raise Conflict(_("「%(title)s」最多可退 %(n)d 件", title=item.title, n=item.refundable_quantity),
                           code=AfterSaleError.NOT_ALLOWED)
    aftersale = AfterSale(
        aftersale_no=numbers.new_aftersale_no(), order_id=order.id, buyer_id=order.buyer_id,
        merchant_id=order.merchant_id, kind=AfterSaleKind.REFUND_ONLY, status=AfterSaleStatus.PENDING,
        reason=Reason.OTHER, reason_text=reason, description=_("平台取消并退款"),
        lines=[AfterSaleLine(order_item_id=item_id, quantity=quantity) for item_id, quantity in lines])
    db.session.add(aftersale)
    db.session.flush()
    applications.hold(aftersale.id, [item_id for item_id, _q in lines])
    db.session.add(AfterSaleEvent(aftersale_id=aftersale.id, actor_id=admin.id, from_status=None,
                                  to_status=AfterSaleStatus.PENDING, note=_("平台发起退款：%(reason)s", reason=reason)))
    db.session.flush()
    aftersale = refunding.start(aftersale, admin.id, _("平台取消并退款"))
    audit.record(admin, "order.cancel_and_refund", ("Order", order.id),
                 {"refund_fen": [None, aftersale.refund_fen], "aftersale_no": [None, aftersale.aftersale_no]},
                 note=reason)
    return aftersale
