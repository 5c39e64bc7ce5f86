"""Payment sweeps, the periodic backstops listed in `app/cron_jobs.py`: each item in
a unit of work of its own (`app.core.db.each`), safe to re-run. The jobs for one item
(`services.submit_refund`, `services.close_at_gateway`) are service functions queued
after commit; they run in the job's unit of work."""
from __future__ import annotations

from app.core.db import each
from app.payments import queries, services
from app.payments.states import NotificationOutcome, RefundStatus


def _close(trade: tuple[str, str]) -> bool:
    return services.close_at_gateway(*trade)


def sweep_gateway_closes() -> int:
    """Every 5 minutes: close at their gateway the closed payments whose close job
    was lost (Redis down) or failed (gateway down), so the buyer's open QR code or
    pay page stops taking money."""
    return each(queries.unclosed_trades(), _close, "trade")


def _refunded(refund_id: int) -> bool:
    return services.submit_refund(refund_id) == RefundStatus.SUCCEEDED


def sweep_refunds() -> int:
    """Every 5 minutes: retry refunds the gateway has not confirmed."""
    return each(queries.pending_refund_ids(), _refunded, "refund")


def _applied(payment_id: int) -> bool:
    return services.query_and_apply(payment_id) in (NotificationOutcome.APPLIED, NotificationOutcome.REFUNDED)


def sweep_pending_payments() -> int:
    """Every 2 minutes: ask the gateway about payments we heard nothing of, so a
    lost notification only delays the order."""
    return each(queries.stale_pending_ids(), _applied, "payment")
