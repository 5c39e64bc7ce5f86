"""RQ jobs that deliver SMS and mail, and the sweep that sends again what lost its
job. Safe to run twice: a row already sent is skipped."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
from flask import current_app
from rq import get_current_job

from app.core.clock import utcnow
from app.core.db import transaction
from app.core.jobs import enqueue_after_commit
from app.extensions import db
from app.notifications import providers, queries
from app.notifications.models import OutboundMessage


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


def deliver_outbound(outbound_id: int) -> str:
    """Deliver one queued message; on failure record the error and raise so RQ retries.

    The row is locked while the provider is called (`FOR UPDATE SKIP LOCKED`), so
    two copies of this job running at once cannot both send it. The row shows
    `failed` only once RQ has no retries left; until then it stays `queued`
    with the last error, so an admin does not queue a second copy meanwhile.
    """
    row = db.session.scalar(
        sa.select(OutboundMessage).where(OutboundMessage.id == outbound_id).with_for_update(skip_locked=True)
    )
    if row is None:
        # Either no such row, or another worker holds it and is sending it right now.
        return "busy" if db.session.get(OutboundMessage, outbound_id) is not None else "skipped"
    if row.status == "sent":
        db.session.rollback()
        return "skipped"
    row.attempts += 1
    try:
        if row.channel == "sms":
            provider_id = providers.sms_provider().send(row.recipient, row.text, row.template, row.params)
        else:
            provider_id = providers.mail_provider().send(build_email(row))
    except Exception as exc:
        job = get_current_job()
        row.status = "queued" if job is not None and job.retries_left else "failed"
        row.error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    # Guarded: a concurrent duplicate run cannot mark it twice.
    db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id == outbound_id, OutboundMessage.status != "sent")
        .values(status="sent", provider_id=provider_id, error=None, sent_at=utcnow(), attempts=row.attempts)
    )
    db.session.commit()
    return provider_id


def resend_stuck_outbound(limit: int = 200) -> int:
    """Every minute: queue again the messages stuck in `queued` (see
    `queries.stuck_cutoffs`), oldest first, at most `limit` per run.

    Claims the rows by moving their `updated_at` (rows a worker is sending right
    now are locked and skipped), so the next sweep or an admin does not queue them
    again meanwhile; the delivery job skips a row already sent, so nothing goes
    out twice. A verification code that expired meanwhile is marked failed instead
    of being sent late. Returns how many were queued again."""
    with transaction():
        now = utcnow()
        rows = list(db.session.scalars(
            sa.select(OutboundMessage).where(queries.stuck_clause(now)).order_by(OutboundMessage.id).limit(limit)
            .with_for_update(skip_locked=True)))
        expired = [row.id for row in rows if queries.expired(row, now)]
        again = [row.id for row in rows if row.id not in expired]
        if expired:
            db.session.execute(
                sa.update(OutboundMessage).where(OutboundMessage.id.in_(expired), OutboundMessage.status == "queued")
                .values(status="failed", error="expired before it could be sent", updated_at=now)
                .execution_options(synchronize_session=False))
        if again:
            db.session.execute(
                sa.update(OutboundMessage).where(OutboundMessage.id.in_(again), OutboundMessage.status == "queued")
                .values(updated_at=now).execution_options(synchronize_session=False))
        for row_id in again:
            enqueue_after_commit(deliver_outbound, row_id, queue="high")
    return len(again)
