"""Delivering one outbound message, and claiming one stuck in the queue. Guarantees:

- Only a `queued` row is ever sent (`OUTBOUND_LIFECYCLE`), and the row is locked while
  the provider is called (`FOR UPDATE SKIP LOCKED`), so two copies of a delivery job
  cannot both send it and a verification code the sweep expired is never sent late.
- Every attempt is counted on the row with its error. A failed attempt keeps the row
  `queued` while RQ still has a retry for it (so nobody queues a second copy meanwhile)
  and fails it once RQ has none; `DeliveryFailed` carries the bookkeeping through the
  rolled-back job (its changes are kept) and makes RQ retry.

Runs inside the caller's unit of work (the job's); flushes only.
"""
from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
from flask import current_app
from rq import get_current_job

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.lifecycle import move
from app.extensions import db
from app.notifications import providers, queries
from app.notifications.errors import NotificationError
from app.notifications.models import OutboundMessage
from app.notifications.states import OUTBOUND_LIFECYCLE, Channel

EXPIRED_ERROR = "expired before it could be sent"


class DeliveryFailed(DomainError):
    """The provider refused or could not be reached; the attempt stays recorded and RQ retries."""

    status = 502
    code = NotificationError.DELIVERY_FAILED
    keeps_changes = True


def build_email(row: OutboundMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = row.recipient
    message["Subject"] = row.subject or ""
    message["Message-ID"] = make_msgid(domain="shop.local")
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    return message


def deliver(outbound_id: int) -> str:
    """Send one queued message through its channel's provider; returns the provider's id,
    or "skipped" (no such row, or not queued any more) or "busy" (another worker holds it)."""
    row = db.session.scalar(
        sa.select(OutboundMessage).where(OutboundMessage.id == outbound_id).with_for_update(skip_locked=True))
    if row is None:
        # Either no such row, or another worker holds it and is sending it right now.
        return "busy" if db.session.get(OutboundMessage, outbound_id) is not None else "skipped"
    if not OUTBOUND_LIFECYCLE.allows("send", row.status):
        return "skipped"
    row.attempts += 1
    try:
        if row.channel == Channel.SMS:
            provider_id = providers.sms_provider().send(row.recipient, row.text, row.template, row.params)
        else:
            provider_id = providers.mail_provider().send(build_email(row))
    except Exception as exc:
        row.error = f"{type(exc).__name__}: {exc}"[:2000]
        job = get_current_job()
        if job is None or not job.retries_left:
            move(OUTBOUND_LIFECYCLE, OutboundMessage, outbound_id, "fail", values={"error": row.error})
        db.session.flush()
        raise DeliveryFailed(row.error) from exc
    move(OUTBOUND_LIFECYCLE, OutboundMessage, outbound_id, "send",
         values={"provider_id": provider_id, "error": None, "sent_at": utcnow(), "attempts": row.attempts})
    return provider_id


def resend_if_stuck(outbound_id: int, now: datetime) -> bool:
    """Claim a message stuck in the queue (see `queries.stuck_cutoffs`) for one more
    delivery job: True when the caller should queue one. A row a worker is sending now
    is locked and left alone; a verification code that expired meanwhile is failed
    instead of being sent late. Claiming moves `updated_at`, so the next sweep or an
    admin does not queue it again meanwhile."""
    row = db.session.scalar(
        sa.select(OutboundMessage).where(OutboundMessage.id == outbound_id, queries.stuck_clause(now))
        .with_for_update(skip_locked=True))
    if row is None:
        return False
    if queries.expired(row, now):
        move(OUTBOUND_LIFECYCLE, OutboundMessage, outbound_id, "expire", note=EXPIRED_ERROR,
             values={"error": EXPIRED_ERROR, "updated_at": now})
        return False
    return claim_stuck(outbound_id, now)


def claim_stuck(outbound_id: int, now: datetime, **values) -> bool:
    """Touch a message still stuck in the queue (and write `values`) so no one else queues
    it again; guarded on the stuck condition, so of two claims (two admins, an admin and
    the sweep) exactly one wins."""
    return db.session.execute(
        sa.update(OutboundMessage).where(OutboundMessage.id == outbound_id, queries.stuck_clause(now))
        .values(updated_at=now, **values).execution_options(synchronize_session=False)).rowcount == 1
