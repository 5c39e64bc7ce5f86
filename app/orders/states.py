"""Order statuses and their transitions (DOMAIN.md, Orders and payments).

Two lifecycles live on an order: `ORDER_LIFECYCLE` (its status, shown to people, each
move an `OrderEvent` on the timeline) and `STOCK_LIFECYCLE` (where its stock stands,
bookkeeping: each move a `StateChange` row). Both move only through
`app.core.lifecycle.move`, so every change is a guarded UPDATE."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    CLOSED = "closed"


# pending_payment --pay--> paid --ship--> shipped --receive--> received --complete--> completed;
# unpaid orders are cancelled (buyer, timeout, admin, stock short at payment); paid ones
# close when all their items were refunded (after-sales, or the platform's cancel-and-refund).
ORDER_LIFECYCLE = Lifecycle("order", OrderStatus, (
    act("pay", OrderStatus.PENDING_PAYMENT, OrderStatus.PAID),
    act("ship", OrderStatus.PAID, OrderStatus.SHIPPED),
    act("receive", OrderStatus.SHIPPED, OrderStatus.RECEIVED),
    act("complete", OrderStatus.RECEIVED, OrderStatus.COMPLETED),
    act("cancel", OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED),
    act("close", (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.COMPLETED),
        OrderStatus.CLOSED),
))


class StockState(StrEnum):
    """Where the order's stock stands; each move is a guarded UPDATE, so a
    reservation is released exactly once however many paths try."""

    NONE = "none"  # on_payment mode, not paid yet: nothing taken
    RESERVED = "reserved"  # taken at submit (on_order mode)
    DEDUCTED = "deducted"  # taken for good (paid)
    RELEASED = "released"  # given back (cancelled)
    # taken from another domain's reservation (a flash sale's event stock) at submit: payment
    # makes it the order's like a reservation, but a cancel gives it back to that holder
    # (its `order_cancelled` receiver), not to the shelf
    HELD = "held"


# Stock is taken at submit (reserved, on_order mode) or not at all (none, on_payment
# mode: it is taken when the money arrives); payment makes it the order's for good,
# a cancel gives a reservation back. Moving reserved->released is what makes the
# release happen exactly once however many paths try. Stock held for the order by a
# flash sale (held) goes back to the flash sale on cancel (held->released is bookkeeping;
# the flash sale's receiver gives the units back, guarded by its own row).
STOCK_LIFECYCLE = Lifecycle("order_stock", StockState, (
    act("deduct", (StockState.NONE, StockState.RESERVED, StockState.HELD), StockState.DEDUCTED),
    act("release", StockState.RESERVED, StockState.RELEASED),
    act("release_held", StockState.HELD, StockState.RELEASED),
), column="stock_state")


class StockDeduction(StrEnum):
    ON_ORDER = "on_order"
    ON_PAYMENT = "on_payment"


class CancelReason(StrEnum):
    BUYER = "buyer"
    TIMEOUT = "timeout"
    ADMIN = "admin"
    OUT_OF_STOCK = "out_of_stock"  # on_payment mode: stock ran out before the money arrived


# Orders still under way for their buyer (money, goods or the return window open):
# an account with any of them cannot be deleted.
UNFINISHED_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED)

# The shopper's tabs: name -> statuses (待评价 is received/completed with items to review).
BUYER_TABS = ("all", "pending_payment", "to_ship", "to_receive", "to_review")
BUYER_TAB_STATUSES: dict[str, tuple[OrderStatus, ...]] = {
    "pending_payment": (OrderStatus.PENDING_PAYMENT,),
    "to_ship": (OrderStatus.PAID,),
    "to_receive": (OrderStatus.SHIPPED,),
    "to_review": (OrderStatus.RECEIVED, OrderStatus.COMPLETED),
}
# The merchant console's tabs, in order.
MERCHANT_TABS = (OrderStatus.PAID, OrderStatus.PENDING_PAYMENT, OrderStatus.SHIPPED, OrderStatus.RECEIVED,
                 OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.CLOSED)

MAX_LINE_QUANTITY = 999
MAX_CART_LINES = 120
REVIEW_MAX_IMAGES = 6
