"""Payment and refund statuses (DOMAIN.md, Orders and payments)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"  # the gateway took the money (a later refund does not undo this)
    CLOSED = "closed"  # nothing will be collected: its orders were cancelled or re-grouped


# Money that arrives for a closed payment still makes it paid (its orders are then
# refunded): the gateway took it, and the record must say so.
PAYMENT_LIFECYCLE = Lifecycle("payment", PaymentStatus, (
    act("pay", (PaymentStatus.PENDING, PaymentStatus.CLOSED), PaymentStatus.PAID),
    act("close", PaymentStatus.PENDING, PaymentStatus.CLOSED),
))


class RefundStatus(StrEnum):
    PENDING = "pending"  # created or processing at the gateway; the sweep asks again
    SUCCEEDED = "succeeded"  # the gateway paid it back, or an operator did (settle_offline)
    FAILED = "failed"  # the gateway refused or closed it; an operator looks
    # The gateway could not pay it back (WeChat ABNORMAL: the buyer's card is closed or
    # frozen). Nothing retries it: an operator pays the buyer another way and says so.
    ABNORMAL = "abnormal"


# The gateway's answer decides once: a refund that succeeded or failed never moves again.
# An abnormal one waits for a person: either the gateway reports it paid after all (the
# merchant re-sent it from WeChat's own console: `succeed`) or an operator paid the buyer
# back another way (`settle_offline`, with a note); whichever comes first, once.
REFUND_LIFECYCLE = Lifecycle("refund", RefundStatus, (
    act("succeed", (RefundStatus.PENDING, RefundStatus.ABNORMAL), RefundStatus.SUCCEEDED),
    act("fail", RefundStatus.PENDING, RefundStatus.FAILED),
    act("flag_abnormal", RefundStatus.PENDING, RefundStatus.ABNORMAL),
    act("settle_offline", RefundStatus.ABNORMAL, RefundStatus.SUCCEEDED),
))


class NotificationOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # bad signature, stale, malformed
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_TRADE = "unknown_trade"
    FAILED_PAYMENT = "failed_payment"  # the gateway reports a failure; nothing to apply
    REFUNDED = "refunded"  # money arrived for cancelled orders and went back
    # Refund notifications (`refund_notifications`): what the gateway said of one of our refunds.
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_ABNORMAL = "refund_abnormal"
    REFUND_CLOSED = "refund_closed"
    UNKNOWN_REFUND = "unknown_refund"
    # The gateway reports a refund in a state ours cannot move to (e.g. closed after it
    # succeeded): nothing changes, an operator should look.
    REFUND_CONFLICT = "refund_conflict"
