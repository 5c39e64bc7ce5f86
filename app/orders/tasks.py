"""Order jobs and sweeps. Each order is handled in a unit of work of its own
(`app.core.db.each`) and every step is safe to re-run; the sweeps are the backstop
for the scheduled jobs, so a lost job is only late."""
from __future__ import annotations

import sqlalchemy as sa

from app.core.db import each
from app.extensions import db
from app.orders import services, shipping
from app.orders.models import Order
from app.orders.states import OrderStatus


def cancel_unpaid_payment(payment_id: int) -> int:
    """Scheduled at submit for the payment deadline: cancel its orders still unpaid."""
    ids = list(db.session.scalars(sa.select(Order.id).where(Order.payment_id == payment_id,
                                                            Order.status == OrderStatus.PENDING_PAYMENT)))
    return each(ids, services.cancel_if_expired, "order")


def sweep_unpaid() -> int:
    """Every minute: cancel unpaid orders past their deadline."""
    return each(services.expired_unpaid_ids(), services.cancel_if_expired, "order")


def sweep_auto_confirm() -> int:
    """Hourly: confirm receipt of orders shipped longer ago than `auto_confirm_days`."""
    return each(services.auto_confirm_due_ids(), services.auto_confirm, "order")


def sweep_complete() -> int:
    """Hourly: complete received orders whose return window has ended."""
    return each(services.complete_due_ids(), services.complete, "order")


def refresh_tracking() -> int:
    """Every 30 minutes: read the carrier's track of orders on their way."""
    return each(shipping.refresh_due_ids(), shipping.refresh, "shipment")
