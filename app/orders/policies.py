"""Who may do what to an order now: the one place that says it.

`actions_for(order, actor)` answers with the act names this actor may do to this
order in its current state; `require(order, actor, act)` refuses everything else.
Services call `require` before they change anything, templates draw a button only
for an act in `actions_for(...)`, and the API lists the same names in each order's
`"actions"`, so a page, a client and the service always agree.

The order status table (`app/orders/states.py`) says which acts may happen from a
status at all; this module narrows that by who is asking:

- The **buyer** of the order may `pay` and `cancel` it while it awaits payment,
  `confirm_receipt` once it is shipped, and `review` its items once received
  (while some item is still unreviewed).
- **Who may ship an order**: a member of the order's shop (`MerchantMember` of
  `order.merchant_id`) whose role is in `SHIPPING_ROLES` (today the owner and every
  staff member: staff run everything but staff and settings), and only while the
  order is paid and not yet shipped (`ship` from `paid` in the table) and no item of
  it is held by an open after-sale request (the buyer asked for their money back
  before shipping: the shop answers that first). The same
  members may `add_tracking` (a manual tracking event) to a shipped or received
  order that has a shipment. The merchant API acts as the shop's owner.
- The **platform**'s order pages are read-only: an admin may do nothing to an
  order from them.
- Timeouts, automatic receipt, completion and closing are the system's own moves
  (jobs and refunds), not anybody's action, so no audience is offered them.

Refusals: the wrong person gets `Forbidden`; the right person at the wrong time gets
`StaleState` (a Conflict) carrying the act's own error code and a message naming the
state the order is really in (`cannot_cancel`: "订单已付款，不能直接取消…").
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import gettext as _

from app.core.errors import Forbidden, StaleState
from app.merchants import policies as merchant_policies
from app.merchants.models import MerchantMember
from app.merchants.states import MemberRole
from app.orders.errors import OrderError
from app.orders.models import Order
from app.orders.states import ORDER_LIFECYCLE, OrderStatus


class Audience(StrEnum):
    """The hat the asker wears: the same user may be a buyer here and staff there."""

    BUYER = "buyer"
    MERCHANT = "merchant"
    ADMIN = "admin"


class Act(StrEnum):
    """What can be done to an order, by the names the API's `actions` carry."""

    PAY = "pay"
    CANCEL = "cancel"
    SHIP = "ship"
    CONFIRM_RECEIPT = "confirm_receipt"
    COMPLETE = "complete"
    CLOSE = "close"
    REVIEW = "review"  # not a move: reviewing items of a received order
    ADD_TRACKING = "add_tracking"  # not a move: a manual tracking event on a shipment



# Members of a shop whose role allows shipping its orders (and adding tracking events).
SHIPPING_ROLES = frozenset({MemberRole.OWNER, MemberRole.STAFF})
# Orders whose items may be reviewed (and whose reviewed items say so).
REVIEWABLE = frozenset({OrderStatus.RECEIVED, OrderStatus.COMPLETED})
# Orders a manual tracking event may be added to (they have a shipment on its way or delivered).
TRACKABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.RECEIVED})

# The lifecycle (states.py) calls receipt `receive`; the API and the pages say `confirm_receipt`.
_ALIASES = {"receive": Act.CONFIRM_RECEIPT, "confirm": Act.CONFIRM_RECEIPT}

# Which of the table's acts each audience does by hand (the rest are the system's).
_BY_HAND = {
    Audience.BUYER: (Act.PAY, Act.CANCEL, Act.CONFIRM_RECEIPT),
    Audience.MERCHANT: (Act.SHIP,),
    Audience.ADMIN: (),
}
# Acts outside the status table each audience may do.
_EXTRA = {Audience.BUYER: (Act.REVIEW,), Audience.MERCHANT: (Act.ADD_TRACKING,), Audience.ADMIN: ()}


@dataclass(frozen=True)
class Actor:
    """Who asks, in which hat. Build one with `buyer`, `staff`, `staff_of` or `admin`."""

    audience: Audience
    user_id: int | None
    merchant_id: int | None = None  # merchant: the shop the member acts for
    role: str | None = None  # merchant: the member's role (None: not a member)


def buyer(user_id: int) -> Actor:
    return Actor(Audience.BUYER, user_id)


def staff(member: MerchantMember | None) -> Actor:
    """A shop member as they act in the console (`g.member`) or an API key's owner."""
    if member is None:
        return Actor(Audience.MERCHANT, None)
    return Actor(Audience.MERCHANT, member.user_id, member.merchant_id, member.role)


def staff_of(user_id: int | None, merchant_id: int) -> Actor:
    """The user acting for shop `merchant_id`, with their role read from the membership."""
    member = merchant_policies.membership(user_id, merchant_id) if user_id is not None else None
    return Actor(Audience.MERCHANT, user_id, merchant_id, member.role if member is not None else None)


def admin(user_id: int | None) -> Actor:
    return Actor(Audience.ADMIN, user_id)


def act_name(name: str) -> str:
    """An act's name as this module and the API spell it (`receive` -> `confirm_receipt`)."""
    return str(_ALIASES.get(name, name))


def table_acts(status: str | None) -> tuple[str, ...]:
    """The acts the order lifecycle allows from `status`, whoever does them."""
    return tuple(act_name(name) for name in ORDER_LIFECYCLE.acts_from(status))


def _is_party(order: Order, actor: Actor) -> bool:
    """Is the actor one of the people who may act on this order at all?"""
    if actor.audience == Audience.BUYER:
        return actor.user_id is not None and order.buyer_id == actor.user_id
    if actor.audience == Audience.MERCHANT:
        return order.merchant_id == actor.merchant_id and actor.role in SHIPPING_ROLES
    return False


def has_open_aftersale(order: Order) -> bool:
    """Some item of the order is held by an open after-sale request."""
    return any(item.open_aftersale_id is not None for item in order.items)


def _has_items_to_review(order: Order) -> bool:
    return any(not item.reviewed for item in order.items)


def actions_for(order: Order, actor: Actor) -> tuple[str, ...]:
    """The acts `actor` may do to `order` now, in a stable order (table acts first)."""
    if not _is_party(order, actor):
        return ()
    acts = [a for a in table_acts(order.status) if a in _BY_HAND[actor.audience]]
    if Act.SHIP in acts and has_open_aftersale(order):
        acts.remove(Act.SHIP)
    if actor.audience == Audience.BUYER and order.status in REVIEWABLE and _has_items_to_review(order):
        acts.append(str(Act.REVIEW))
    if actor.audience == Audience.MERCHANT and order.status in TRACKABLE and order.shipment is not None:
        acts.append(str(Act.ADD_TRACKING))
    return tuple(acts)


def require(order: Order, actor: Actor, act: str) -> Order:
    """Refuse unless `actor` may do `act` to `order` now; returns the order.

    Forbidden when this actor may never do it to this order (not the buyer, not a
    member of the shop with a shipping role, an admin); StaleState, with the act's
    own code and a message naming the order's real state, when the order is not
    (or no longer) in a state the act starts from."""
    act = act_name(act)
    may_ever = act in _BY_HAND[actor.audience] or act in _EXTRA[actor.audience]
    if not may_ever or not _is_party(order, actor):
        raise Forbidden(_("无权操作该订单"))
    if act not in actions_for(order, actor):
        code, message = refusal(act, order.status)
        if act == Act.SHIP and order.status == OrderStatus.PAID and has_open_aftersale(order):
            code, message = OrderError.AFTERSALE_OPEN, _("买家申请了退款，请先处理售后申请再发货")
        raise StaleState(message, code=code, act=act, found=order.status, lifecycle="order")
    return order


def refusal(act: str, status: str | None) -> tuple[str, str]:
    """(error code, message) for `act` refused because the order is in `status`."""
    act = act_name(act)
    if act == Act.CANCEL:
        return OrderError.CANNOT_CANCEL, _cancel_refusal(status)
    if act == Act.SHIP:
        return OrderError.CANNOT_SHIP, _("只有待发货的订单可以发货")
    if act == Act.CONFIRM_RECEIPT:
        return OrderError.CANNOT_CONFIRM, _("订单尚未发货，不能确认收货")
    if act == Act.PAY:
        return OrderError.CANNOT_PAY, (_("订单已取消，请重新下单") if status == OrderStatus.CANCELLED
                                             else _("该订单无需付款"))
    if act == Act.REVIEW:
        return OrderError.NOT_RECEIVED, _("确认收货后才能评价")
    if act == Act.ADD_TRACKING:
        return OrderError.NOT_SHIPPED, _("订单尚未发货")
    return "stale_state", _("订单状态已变化，请刷新后重试")


def _cancel_refusal(status: str | None) -> str:
    """Why an order in `status` cannot be cancelled, naming the state it is really in."""
    return {
        OrderStatus.PAID: _("订单已付款，不能直接取消；如需退款请申请售后"),
        OrderStatus.SHIPPED: _("订单已发货，不能取消；如需退款请申请售后"),
        OrderStatus.RECEIVED: _("订单已确认收货，不能取消；如需退款请申请售后"),
        OrderStatus.COMPLETED: _("订单已完成，不能取消"),
        OrderStatus.CANCELLED: _("订单已取消"),
        OrderStatus.CLOSED: _("订单已关闭，不能取消"),
    }.get(status, _("订单状态已变化，请刷新后重试"))
