"""Rows for the notifications lifecycles."""
from __future__ import annotations

from app.extensions import db
from app.notifications.models import OutboundMessage
from tests.core.lifecycle_rows import row_maker


@row_maker("outbound_message")
def _outbound_message(request):
    row = OutboundMessage(channel="sms", recipient="+8613800000000", template="notice", params={"text": "hi"},
                          text="hi", provider="console")
    db.session.add(row)
    db.session.flush()
    return OutboundMessage, row.id
