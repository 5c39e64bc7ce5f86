"""Who may do what to an outbound message now."""
from __future__ import annotations

from app.accounts import policies as account_policies
from app.notifications.models import OutboundMessage
from app.notifications.services import retryable


def actions_for(row: OutboundMessage, actor) -> tuple[str, ...]:
    """`retry` for an admin allowed to queue messages again (`jobs.retry`), when the row is
    failed or stuck in the queue and not a verification code that has expired."""
    if account_policies.can(actor, "jobs.retry") and retryable(row):
        return ("retry",)
    return ()
