"""Refund results a gateway announces (WeChat Pay's 退款结果通知), stored and applied.

Guarantees:
- Every refund notification is stored as it arrived (a `PaymentNotification` row, as
  payment notifications are) before anything else; forged, stale, tampered,
  misaddressed or malformed ones are refused with the gateway's failure reply and
  change nothing else. A gateway that sends no refund notifications refuses them all (404).
- A verified one is applied to the Refund its `out_refund_no` names, for that gateway
  and trade (else 404, `unknown_refund`), only when its amount equals the refund's
  (else 409, `amount_mismatch`). The move is `services.apply_refund_status`: once,
  with `refund_succeeded` announced once, whether the notification, the job or the
  sweep's query records the gateway's word first.
- A repeat (the same notify id, or a new one for a status already recorded) answers
  success and changes nothing (`duplicate`). A notification the refund cannot follow
  (closed after it succeeded, succeeded after it failed) also answers success, since
  retrying cannot help, changes nothing and is kept as `refund_conflict` for an operator.

Flushes only: the caller commits, so the stored row survives a refusal.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.payments import providers, services
from app.payments.models import PaymentNotification, Refund
from app.payments.providers.base import NotificationRejected, VerifiedRefundNotification
from app.payments.services import Reply
from app.payments.states import NotificationOutcome, RefundStatus

log = logging.getLogger(__name__)

# The outcome of a notification that moved its refund, by the status it reported.
MOVED = {
    "succeeded": NotificationOutcome.REFUND_SUCCEEDED,
    "abnormal": NotificationOutcome.REFUND_ABNORMAL,
    "failed": NotificationOutcome.REFUND_CLOSED,
}


def receive_refund_notification(provider_name: str, headers: dict[str, str], body: bytes) -> Reply:
    """Store, verify and apply one refund notification; the reply to send back."""
    provider = providers.get(provider_name)
    # The payment notifications' own storage helpers: one way to keep what arrived.
    row = PaymentNotification(provider=provider_name, notify_id=provider.peek_notify_id(headers, body),
                              body=body.decode("utf-8", "replace"), headers=services._keep_headers(headers))
    db.session.add(row)
    db.session.flush()
    try:
        verified = provider.verify_refund_notification(headers, body)
    except NotificationRejected as exc:
        services._finish(row, NotificationOutcome.REJECTED, exc.message)
        return Reply(*provider.failure_reply(exc.status, exc.code))
    row.verified, row.notify_id, row.out_trade_no = True, verified.notify_id, verified.out_trade_no
    db.session.flush()
    outcome, status, detail = apply_refund_notification(provider_name, verified, row)
    services._finish(row, outcome, detail)
    if status == 200:
        return Reply(*provider.success_reply())
    return Reply(*provider.failure_reply(status, outcome))


def apply_refund_notification(provider_name: str, n: VerifiedRefundNotification,
                              row: PaymentNotification) -> tuple[str, int, str | None]:
    """(outcome, HTTP status, detail) for a verified refund notification, applying it if due."""
    refund = db.session.scalar(sa.select(Refund).where(Refund.out_refund_no == n.out_refund_no))
    if refund is None or refund.provider != provider_name or refund.out_trade_no != n.out_trade_no:
        return NotificationOutcome.UNKNOWN_REFUND, 404, f"out_refund_no {n.out_refund_no}"[:300]
    if n.refund_fen != refund.amount_fen:
        log.warning("refund amount mismatch on %s: %s != %s", refund.out_refund_no, n.refund_fen, refund.amount_fen)
        return NotificationOutcome.AMOUNT_MISMATCH, 409, f"{n.refund_fen} != {refund.amount_fen}"
    try:
        with db.session.begin_nested():
            # Its own namespace: a refund result never shadows a payment notification.
            row.dedupe_key = f"{provider_name}:refund:{n.notify_id}"[:100]
            db.session.flush()
    except IntegrityError:
        row.dedupe_key = None
        return NotificationOutcome.DUPLICATE, 200, None
    if services.apply_refund_status(refund.id, n.status, provider_refund_id=n.provider_refund_id,
                                    message=n.message, note=f"notify {n.notify_id}"):
        return MOVED[n.status], 200, n.message or None
    # Nothing changed: the dedupe key stays with the delivery that did change something.
    row.dedupe_key = None
    db.session.flush()
    _act, reported = services.REFUND_ACTS[n.status]
    now = db.session.scalar(sa.select(Refund.status).where(Refund.id == refund.id))
    if now == reported:
        return NotificationOutcome.DUPLICATE, 200, None
    if now == RefundStatus.SUCCEEDED and n.status == "abnormal":
        # An ABNORMAL delivered late, after the refund was paid (re-sent at the gateway, or offline).
        return NotificationOutcome.DUPLICATE, 200, "refund already succeeded"
    log.error("refund %s is %s but %s reports it %s", refund.out_refund_no, now, provider_name, n.status)
    return NotificationOutcome.REFUND_CONFLICT, 200, f"refund is {now}, gateway says {n.status}"
