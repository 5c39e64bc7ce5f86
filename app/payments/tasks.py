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


def close_trade(provider_name: str, out_trade_no: str) -> bool:
    """Close an abandoned trade at its gateway (queued when a payment closes, a
    checkout regroups or the buyer switches gateways)."""
    with transaction():
        return services.close_at_gateway(provider_name, out_trade_no)


def sweep_gateway_closes() -> int:
    """Every 5 minutes: close at their gateway the closed payments whose close job
    was lost (Redis down) or failed (gateway down), so the buyer's open QR code or
    pay page stops taking money."""
    return sum(close_trade(provider, out_trade_no) for provider, out_trade_no in services.unclosed_trades())


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
