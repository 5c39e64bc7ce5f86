"""Reads worth naming: which outbound messages are stuck in the queue, which
expired before they could be sent."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.notifications.models import OutboundMessage
from app.notifications.states import OutboundStatus
from app.notifications.templates import VALID_FOR_MINUTES_PARAM


def stuck_cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """When a queued row counts as stuck, its delivery job presumed lost (Redis was
    down at the commit, or lost its memory): a row never tried, last touched before
    the first time (OUTBOUND_RESEND_AFTER_SECONDS ago); a row between RQ retries
    (attempts > 0, still queued), before the second, which adds the longest retry
    interval so RQ's own backoff is never overtaken."""
    config = current_app.config
    after = timedelta(seconds=config.get("OUTBOUND_RESEND_AFTER_SECONDS", 60))
    longest_retry = timedelta(seconds=max(config.get("JOB_RETRY_INTERVALS") or (0,)))
    return now - after, now - after - longest_retry


def stuck_clause(now: datetime):
    never_tried, retrying = stuck_cutoffs(now)
    return sa.and_(
        OutboundMessage.status == OutboundStatus.QUEUED,
        sa.or_(sa.and_(OutboundMessage.attempts == 0, OutboundMessage.updated_at <= never_tried),
               sa.and_(OutboundMessage.attempts > 0, OutboundMessage.updated_at <= retrying)),
    )


def stuck(row: OutboundMessage, now: datetime) -> bool:
    never_tried, retrying = stuck_cutoffs(now)
    return row.status == OutboundStatus.QUEUED and row.updated_at <= (never_tried if row.attempts == 0 else retrying)


def expired(row: OutboundMessage, now: datetime) -> bool:
    """A message whose content is valid for a while (a verification code) and no longer is."""
    param = VALID_FOR_MINUTES_PARAM.get(row.template)
    minutes = (row.params or {}).get(param) if param else None
    return isinstance(minutes, int) and row.created_at + timedelta(minutes=minutes) <= now


def failed_count() -> int:
    """How many messages failed for good (the admin sidebar badge and the dashboard)."""
    return db.session.scalar(
        sa.select(sa.func.count(OutboundMessage.id)).where(OutboundMessage.status == OutboundStatus.FAILED)) or 0
