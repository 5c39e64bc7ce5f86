"""Payment jobs: send refunds, query the gateway about silent payments. Each
runs its own unit of work and is safe to re-run; the sweeps are the backstop."""
from __future__ import annotations

import logging

from app.core.db import transaction
from app.core.errors import DomainError
from app.payments import services

log = logging.getLogger(__name__)


def submit_refund(refund_id: int) -> str:
    with transaction():
        return services.submit_refund(refund_id)


def sweep_refunds() -> int:
    """Every 5 minutes: retry refunds the gateway has not confirmed."""
    done = 0
    for refund_id in services.pending_refund_ids():
        try:
            done += submit_refund(refund_id) == "succeeded"
        except DomainError:
            log.warning("refund %s failed again", refund_id, exc_info=True)
    return done


def sweep_pending_payments() -> int:
    """Every 2 minutes: ask the gateway about payments we heard nothing of, so a
    lost notification only delays the order."""
    applied = 0
    for payment_id in services.stale_pending_ids():
        try:
            with transaction():
                applied += services.query_and_apply(payment_id) in ("applied", "refunded")
        except DomainError:
            log.warning("payment query for %s failed", payment_id, exc_info=True)
    return applied
