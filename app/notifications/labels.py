"""How outbound message statuses read and look, on every surface."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.notifications.states import Channel, OutboundStatus

OUTBOUND_LABELS = StatusLabels("outbound_message", {
    OutboundStatus.QUEUED: _l("排队中"),
    OutboundStatus.SENT: _l("已发送"),
    OutboundStatus.FAILED: _l("发送失败"),
}, {
    OutboundStatus.QUEUED: Tone.PENDING,
    OutboundStatus.SENT: Tone.GOOD,
    OutboundStatus.FAILED: Tone.BAD,
})

CHANNEL_LABELS = {Channel.SMS: _l("短信"), Channel.EMAIL: _l("邮件")}
