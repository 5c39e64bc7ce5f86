"""What happens to an order, announced to whoever cares (blinker signals).

Orders send these right after the state move, in the same transaction; receivers run
synchronously, so their writes commit or roll back with the move. The receivers are
listed in `app/receivers.py` (one table for the whole app, like `app/cron_jobs.py`):
orders never reach into distribution, catalog, merchants, notifications or analytics.

Each signal's sender is the `Order` (re-read after the move); extra data is named.
"""
from __future__ import annotations

from blinker import Namespace

_orders = Namespace()

# The money for the order arrived and its stock is taken (sender: Order).
order_paid = _orders.signal("order-paid")
# An unpaid order was cancelled; its reserved stock is already back (sender: Order,
# `reason`: a CancelReason).
order_cancelled = _orders.signal("order-cancelled")
# The merchant shipped it (sender: Order, `shipment`: Shipment).
order_shipped = _orders.signal("order-shipped")
# The buyer (or the auto-confirm sweep) confirmed receipt (sender: Order).
order_received = _orders.signal("order-received")
# The return window ended: nothing more can happen to the order (sender: Order).
order_completed = _orders.signal("order-completed")
