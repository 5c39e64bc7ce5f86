"""After-sale statuses and their transitions (DOMAIN.md, After-sales).

The statuses are the API's names. The table, read as the buyer's request travels:

    pending --refund (merchant approves a refund-only, or refunds at once)--> refunding
    pending --approve (return kinds: the buyer is given a return address)--> awaiting_return
    pending --reject (with a reason)--> rejected --reapply (edited, up to 3 times)--> pending
    awaiting_return --ship_back (carrier + tracking)--> returned
    returned --refund (merchant receives, restock or not)--> refunding
    returned --ship_replacement (exchange, after receiving)--> exchange_shipped --confirm_replacement--> completed
    refunding --refunded (the gateway confirmed)--> refunded
    rejected | returned (merchant late) --escalate--> disputed --refund | approve | close (platform rules)-->
    pending | awaiting_return | rejected | disputed --cancel (the buyer withdraws)--> cancelled
    awaiting_return | rejected --close (never shipped back; never answered the rejection)--> closed --reapply--> pending

Deadlines (`deadlines.py`) make the same acts for a silent party: a merchant who does
not answer `pending` approves, a buyer who does not ship back closes, a merchant who
does not confirm the parcel refunds, a buyer who does not confirm the replacement
confirms it.
"""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class AfterSaleKind(StrEnum):
    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_REFUND = "return_refund"  # 退货退款
    EXCHANGE = "exchange"  # 换货


# Kinds whose goods come back to the shop before anything else happens.
RETURN_KINDS = frozenset({AfterSaleKind.RETURN_REFUND, AfterSaleKind.EXCHANGE})


class AfterSaleStatus(StrEnum):
    PENDING = "pending"  # waiting for the merchant
    AWAITING_RETURN = "awaiting_return"
    RETURNED = "returned"  # the buyer shipped it back
    EXCHANGE_SHIPPED = "exchange_shipped"
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    COMPLETED = "completed"  # an exchange done
    REJECTED = "rejected"
    DISPUTED = "disputed"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # withdrawn by the buyer


S = AfterSaleStatus

AFTERSALE_LIFECYCLE = Lifecycle("aftersale", AfterSaleStatus, (
    act("refund", (S.PENDING, S.AWAITING_RETURN, S.RETURNED, S.DISPUTED), S.REFUNDING),
    act("approve", (S.PENDING, S.DISPUTED), S.AWAITING_RETURN),
    act("reject", S.PENDING, S.REJECTED),
    act("reapply", (S.REJECTED, S.CLOSED), S.PENDING),
    act("ship_back", S.AWAITING_RETURN, S.RETURNED),
    act("ship_replacement", S.RETURNED, S.EXCHANGE_SHIPPED),
    act("confirm_replacement", S.EXCHANGE_SHIPPED, S.COMPLETED),
    act("refunded", S.REFUNDING, S.REFUNDED),
    act("escalate", (S.REJECTED, S.RETURNED), S.DISPUTED),
    act("close", (S.AWAITING_RETURN, S.REJECTED, S.DISPUTED), S.CLOSED),
    act("cancel", (S.PENDING, S.AWAITING_RETURN, S.REJECTED, S.DISPUTED), S.CANCELLED),
))

# Statuses in which the request still holds its items (one open request per item; the
# item's commission waits; the order does not complete). Every other status is final,
# except `closed` by the deadline, which the buyer may reapply from while the window lasts.
OPEN_STATUSES = frozenset({S.PENDING, S.AWAITING_RETURN, S.RETURNED, S.EXCHANGE_SHIPPED, S.REFUNDING,
                           S.REJECTED, S.DISPUTED})
FINAL_STATUSES = frozenset(set(S) - OPEN_STATUSES)


class Reason(StrEnum):
    """The buyer's reason, from presets (`other` takes text)."""

    QUALITY = "quality"  # 质量问题
    NOT_AS_DESCRIBED = "not_as_described"  # 与描述不符
    SIZE_COLOR = "size_color"  # 尺码/颜色不合适
    WRONG_ITEM = "wrong_item"  # 发错货
    NO_LONGER_WANTED = "no_longer_wanted"  # 不想要了
    OTHER = "other"


class Ruling(StrEnum):
    """The platform's decision on a dispute."""

    REFUND = "refund"  # for the buyer: money back now, goods stay with the buyer
    RETURN_REFUND = "return_refund"  # for the buyer: goods back, then the money
    CLOSE = "close"  # for the merchant: the request ends


class Side(StrEnum):
    """Who wrote a dispute message."""

    BUYER = "buyer"
    MERCHANT = "merchant"
    PLATFORM = "platform"


MAX_IMAGES = 6
MAX_REAPPLY = 3  # a rejected or closed request may be edited and sent again this many times
DESCRIPTION_MAX = 500
REASON_TEXT_MAX = 100
STATEMENT_MAX = 1000
MESSAGE_MAX = 500
RETURN_DAYS = 7  # the buyer ships back within this many days of approval
RECEIVE_DAYS = 10  # the merchant confirms the returned parcel within this many days
REJECTED_DAYS = 7  # a rejected request the buyer neither reapplies nor escalates closes after this
