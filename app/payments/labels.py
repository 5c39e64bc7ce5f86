"""What payment and refund statuses are called and their badge colours, on every surface
(UI.md tones: waiting grey, money in green, money going back blue, failed or closed red)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.payments.states import PaymentStatus, RefundStatus

PAYMENT_LABELS = StatusLabels("payment", {
    PaymentStatus.PENDING: _l("待支付"),
    PaymentStatus.PAID: _l("已支付"),
    PaymentStatus.CLOSED: _l("已关闭"),
}, {
    PaymentStatus.PENDING: Tone.PENDING,
    PaymentStatus.PAID: Tone.GOOD,
    PaymentStatus.CLOSED: Tone.BAD,
})

REFUND_LABELS = StatusLabels("refund", {
    RefundStatus.PENDING: _l("退款中"),
    RefundStatus.SUCCEEDED: _l("已退款"),
    RefundStatus.FAILED: _l("退款失败"),
}, {
    RefundStatus.PENDING: Tone.PENDING,
    RefundStatus.SUCCEEDED: Tone.GOOD,
    RefundStatus.FAILED: Tone.BAD,
})
