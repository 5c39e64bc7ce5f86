"""The job that delivers one SMS or mail, and the sweep that sends again what lost
its job. Jobs run in a unit of work of their own (`app.core.db.run_in_unit_of_work`);
the work itself is `app.notifications.delivery`. Safe to run twice: only a queued row
is sent."""
from __future__ import annotations

from functools import partial

import sqlalchemy as sa

from app.core.clock import utcnow
from app.core.db import each
from app.core.jobs import enqueue_after_commit
from app.extensions import db
from app.notifications import delivery, queries
from app.notifications.models import OutboundMessage


def deliver_outbound(outbound_id: int) -> str:
    """Deliver one queued message (see `delivery.deliver`); a failed attempt raises so RQ retries."""
    return delivery.deliver(outbound_id)


def resend_stuck_outbound(limit: int = 200) -> int:
    """Every minute: queue again the messages stuck in `queued` (see
    `queries.stuck_cutoffs`), oldest first, at most `limit` per run, each in its own
    unit of work (`delivery.resend_if_stuck`: a row a worker holds is left to it, an
    expired verification code is failed instead). The delivery job skips a row already
    sent, so nothing goes out twice. Returns how many were queued again."""
    now = utcnow()
    ids = list(db.session.scalars(
        sa.select(OutboundMessage.id).where(queries.stuck_clause(now)).order_by(OutboundMessage.id).limit(limit)))
    return each(ids, partial(_resend_if_stuck, now=now), "outbound message")


def _resend_if_stuck(outbound_id: int, now) -> bool:
    if not delivery.resend_if_stuck(outbound_id, now):
        return False
    enqueue_after_commit(deliver_outbound, outbound_id, queue="high")
    return True
