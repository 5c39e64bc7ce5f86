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
    PENDING = "pending"  # created or processing at the gateway; the sweep retries
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the gateway refused; an operator looks


# The gateway's answer decides once: a refund that succeeded or failed never moves again.
REFUND_LIFECYCLE = Lifecycle("refund", RefundStatus, (
    act("succeed", RefundStatus.PENDING, RefundStatus.SUCCEEDED),
    act("fail", RefundStatus.PENDING, RefundStatus.FAILED),
))


class NotificationOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # bad signature, stale, malformed
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_TRADE = "unknown_trade"
    FAILED_PAYMENT = "failed_payment"  # the gateway reports a failure; nothing to apply
    REFUNDED = "refunded"  # money arrived for cancelled orders and went back
