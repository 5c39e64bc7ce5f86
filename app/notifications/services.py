"""Sending notifications. Guarantees:

- `notify` puts a message in a user's inbox in the caller's transaction.
- `send_sms` / `send_mail` record an `OutboundMessage` (status `queued`) and
  hand delivery to a background job that runs only after the caller commits;
  nothing is sent for a transaction that rolled back.
- Delivery is retried by RQ; every attempt is recorded on the row, and a row
  already `sent` is never sent again.
- A row still `queued` a minute after its last attempt (its job was lost: Redis
  was down at the commit, or lost its memory) is queued again by the sweep
  `tasks.resend_stuck_outbound`, or by an admin (`retry_outbound`); a
  verification code that expired meanwhile is never sent late.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from jinja2 import TemplateNotFound

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.jobs import enqueue_after_commit
from app.core.lifecycle import try_move
from app.extensions import db
from app.notifications import delivery, queries, tasks
from app.notifications.models import Message, OutboundMessage
from app.notifications.states import OUTBOUND_LIFECYCLE, Channel, OutboundStatus
from app.notifications.templates import MAIL_SUBJECTS, render_sms


def notify(user_id: int, title: str, body: str = "", link: str | None = None, kind: str = "system") -> Message:
    message = Message(recipient_id=user_id, title=title, body=body, link=link, kind=kind)
    db.session.add(message)
    db.session.flush()
    return message


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Message.id)).where(Message.recipient_id == user_id, Message.read_at.is_(None))
    ) or 0


def mark_read(user_id: int, message_id: int) -> Message:
    """Mark one of the user's own messages read (another user's id is NotFound)."""
    message = db.session.scalar(
        sa.select(Message).where(Message.id == message_id, Message.recipient_id == user_id)
    )
    if message is None:
        raise NotFound(_("消息不存在"))
    if message.read_at is None:
        message.read_at = utcnow()
        db.session.flush()
    return message


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        sa.update(Message)
        .where(Message.recipient_id == user_id, Message.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount


def delete_inbox(user_id: int) -> None:
    """Remove every in-site message of a user whose account is being deleted."""
    db.session.execute(sa.delete(Message).where(Message.recipient_id == user_id)
                       .execution_options(synchronize_session=False))


def send_sms(to: str, template: str, params: dict) -> OutboundMessage:
    row = OutboundMessage(
        channel=Channel.SMS, recipient=to, template=template, params=params,
        text=render_sms(template, params), provider=current_app.config["SMS_PROVIDER"],
    )
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(tasks.deliver_outbound, row.id, queue="high")
    return row


def render_mail(name: str, params: dict) -> str:
    """Render a mail body from its params only. Not `render_template`: the web
    context processors need a request, and mail is also sent from jobs and CLI."""
    return current_app.jinja_env.get_template(name).render(**params)


def send_mail(to: str, template: str, params: dict, subject: str | None = None) -> OutboundMessage:
    text = render_mail(f"emails/{template}.txt", params)
    try:
        html = render_mail(f"emails/{template}.html", params)
    except TemplateNotFound:  # a plain-text-only template is fine
        html = None
    row = OutboundMessage(
        channel=Channel.EMAIL, recipient=to, template=template, params=params,
        subject=subject or MAIL_SUBJECTS.get(template, "通知"), text=text, html=html,
        provider=current_app.config["MAIL_PROVIDER"],
    )
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(tasks.deliver_outbound, row.id, queue="high")
    return row


def retryable(row: OutboundMessage) -> bool:
    """May an admin queue this row again: failed, or stuck in the queue (see `queries.stuck_cutoffs`),
    and not a verification code that has expired."""
    now = utcnow()
    return not queries.expired(row, now) and (OUTBOUND_LIFECYCLE.allows("retry", row.status) or queries.stuck(row, now))


def retry_outbound(actor, outbound_id: int) -> OutboundMessage:
    """Queue a failed message, or one stuck in the queue, again (admin action). Guarded, so
    two admins clicking at once (or an admin and the sweep) queue it only once."""
    row = db.session.get(OutboundMessage, outbound_id)
    if row is None:
        raise NotFound(_("消息不存在"))
    now = utcnow()
    if queries.expired(row, now):
        raise Conflict(_("验证码已过期，无需重发"))
    before = row.status
    if OUTBOUND_LIFECYCLE.allows("retry", before):
        claimed = try_move(OUTBOUND_LIFECYCLE, OutboundMessage, outbound_id, "retry", actor_id=actor.id,
                           values={"error": None, "updated_at": now})
    else:
        claimed = delivery.claim_stuck(outbound_id, now, error=None)
    if not claimed:
        raise Conflict(_("只有发送失败或排队过久的消息可以重试"))
    db.session.expire_all()
    audit.record(actor, "outbound.retry", row, changes={"status": [before, OutboundStatus.QUEUED.value]})
    enqueue_after_commit(tasks.deliver_outbound, outbound_id, queue="high")
    return db.session.get(OutboundMessage, outbound_id)
