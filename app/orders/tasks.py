"""Order jobs. Each opens its own unit of work per order and is safe to re-run;
the sweeps are the backstop for the scheduled ones, so a lost job is only late."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import DomainError
from app.extensions import db
from app.orders import services, shipping
from app.orders.models import Order
from app.orders.states import OrderStatus

log = logging.getLogger(__name__)


def cancel_unpaid_payment(payment_id: int) -> int:
    """Scheduled at submit for the payment deadline: cancel its orders still unpaid."""
    ids = list(db.session.scalars(sa.select(Order.id).where(Order.payment_id == payment_id,
                                                            Order.status == OrderStatus.PENDING_PAYMENT)))
    return _each(ids, services.cancel_if_expired)


def sweep_unpaid() -> int:
    """Every minute: cancel unpaid orders past their deadline."""
    return _each(services.expired_unpaid_ids(), services.cancel_if_expired)


def sweep_auto_confirm() -> int:
    """Hourly: confirm receipt of orders shipped longer ago than `auto_confirm_days`."""
    return _each(services.auto_confirm_due_ids(), services.auto_confirm)


def sweep_complete() -> int:
    """Hourly: complete received orders whose return window has ended."""
    return _each(services.complete_due_ids(), services.complete)


def _each(ids: list[int], action) -> int:
    done = 0
    for order_id in ids:
        try:
            with transaction():
                done += bool(action(order_id))
        except DomainError:
            log.warning("%s skipped order %s", action.__name__, order_id, exc_info=True)
    return done


def refresh_tracking() -> int:
    """Every 30 minutes: read the carrier's track of orders on their way."""
    added = 0
    for shipment_id in shipping.refresh_due_ids():
        try:
            with transaction():
                added += shipping.refresh(shipment_id)
        except DomainError:
            log.warning("tracking refresh for shipment %s failed", shipment_id, exc_info=True)
    return added
