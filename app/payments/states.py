"""Payment and refund statuses (DOMAIN.md, Orders and payments)."""
from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"  # the gateway took the money (a later refund does not undo this)
    CLOSED = "closed"  # nothing will be collected: its orders were cancelled or re-grouped


class RefundStatus(StrEnum):
    PENDING = "pending"  # created or processing at the gateway; the sweep retries
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the gateway refused; an operator looks


class NotificationOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"  # bad signature, stale, malformed
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_TRADE = "unknown_trade"
    FAILED_PAYMENT = "failed_payment"  # the gateway reports a failure; nothing to apply
    REFUNDED = "refunded"  # money arrived for cancelled orders and went back
