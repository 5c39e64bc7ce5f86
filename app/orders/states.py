"""Order statuses and their transitions (DOMAIN.md, Orders and payments)."""
from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    CLOSED = "closed"


# target -> the statuses an order may move from (used by guarded UPDATEs).
ORDER_TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.PAID: (OrderStatus.PENDING_PAYMENT,),
    OrderStatus.SHIPPED: (OrderStatus.PAID,),
    OrderStatus.RECEIVED: (OrderStatus.SHIPPED,),
    OrderStatus.COMPLETED: (OrderStatus.RECEIVED,),
    OrderStatus.CANCELLED: (OrderStatus.PENDING_PAYMENT,),
    OrderStatus.CLOSED: (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED),
}


class StockState(StrEnum):
    """Where the order's stock stands; each move is a guarded UPDATE, so a
    reservation is released exactly once however many paths try."""

    NONE = "none"  # on_payment mode, not paid yet: nothing taken
    RESERVED = "reserved"  # taken at submit (on_order mode)
    DEDUCTED = "deducted"  # taken for good (paid)
    RELEASED = "released"  # given back (cancelled)


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
