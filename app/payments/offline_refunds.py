"""Refunds paid back outside the gateway: the operator's answer to an abnormal refund.

WeChat reports a refund ABNORMAL when it took the request but the bank refused the
money (the buyer's card is closed or frozen); nothing retries it. Finance pays the
buyer back another way (a bank transfer, cash at the counter) and records it here.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, StaleState, ValidationError
from app.core.lifecycle import NOTE_MAX, move
from app.extensions import db
from app.payments import policies
from app.payments.errors import PaymentError
from app.payments.models import Refund
from app.payments.signals import refund_succeeded
from app.payments.states import REFUND_LIFECYCLE

AUDIT_ACTION = "refund.settle_offline"  # the audit row that says who settled it, how (its note)


def settle_refund_offline(admin, refund_id: int, note: str) -> Refund:
    """Record that `admin` paid an abnormal refund back outside the gateway.

    Guarantees: only an admin allowed `refunds.settle` (finance, super) may (Forbidden),
    only while the refund is abnormal (Conflict, `stale_refund`, otherwise: a refund the
    gateway paid meanwhile is not settled twice), and only with a note saying how the
    money went back (ValidationError on `note`). The move is `settle_offline` (a timeline
    row with the admin and the note), an audit row records it, and `refund_succeeded` is
    announced once, exactly as for a gateway's success. Flushes only."""
    try:
        refund = db.session.get(Refund, int(refund_id))
    except (TypeError, ValueError):
        refund = None
    if refund is None:
        raise NotFound(_("退款单不存在"), code=PaymentError.REFUND_NOT_FOUND)
    note = (note or "").strip()
    try:
        policies.require(refund, admin, "settle_offline")
        if not note:
            message = _("请填写线下退款说明（如转账流水号）")
            raise ValidationError(message, code=PaymentError.REFUND_NOTE_REQUIRED, fields={"note": message})
        if len(note) > NOTE_MAX:
            message = _("说明不能超过 %(n)d 个字", n=NOTE_MAX)
            raise ValidationError(message, code=PaymentError.REFUND_NOTE_REQUIRED, fields={"note": message})
        was = move(REFUND_LIFECYCLE, Refund, refund.id, "settle_offline", actor_id=admin.id, note=note,
                   values={"finished_at": utcnow(), "last_error": None})
    except StaleState:
        raise Conflict(_("该退款状态已变化，请刷新"), code=PaymentError.STALE_REFUND) from None
    refund = db.session.get(Refund, refund.id)
    audit.record(admin, AUDIT_ACTION, refund, {"status": [was, refund.status]}, note=note)
    refund_succeeded.send(refund)
    return refund
