"""What happens to money, announced to whoever cares (blinker signals).

Payments send these right after the state move, in the same transaction; receivers
(listed in `app/receivers.py`) run synchronously, so their writes commit or roll
back with the move.
"""
from __future__ import annotations

from blinker import Namespace

_payments = Namespace()

# The gateway took the money and the payment's orders were settled (sender: Payment).
payment_succeeded = _payments.signal("payment-succeeded")
# Money for an order goes back to the buyer whole: the order was cancelled before the
# money arrived, or its stock ran out (sender: Order, `refund`: Refund).
order_refund_started = _payments.signal("order-refund-started")
# Money a payment took beyond its orders goes back (it was closed or re-grouped
# meanwhile) (sender: Payment, `refund`: Refund).
payment_refund_started = _payments.signal("payment-refund-started")
# A refund was made (any kind, once per refund; sender: Refund, `counted`: False for a
# second collection of a paid trade going back, which is not the trade's own money).
refund_started = _payments.signal("refund-started")
# The gateway confirmed a refund (sender: Refund).
refund_succeeded = _payments.signal("refund-succeeded")
# Part or all of an order item was refunded (sender: OrderItem id, `refunded_quantity`,
# `quantity`). Sent by after-sales; distribution takes back that share of commission.
item_refunded = _payments.signal("item-refunded")
