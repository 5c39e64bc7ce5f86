"""What payment and refund statuses are called and their badge colours, on every surface
(UI.md tones: waiting grey, money in green, money going back blue, failed or closed red)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.payments.states import NotificationOutcome, PaymentStatus, RefundStatus

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
    RefundStatus.ABNORMAL: _l("退款异常"),
}, {
    RefundStatus.PENDING: Tone.PENDING,
    RefundStatus.SUCCEEDED: Tone.GOOD,
    RefundStatus.FAILED: Tone.BAD,
    RefundStatus.ABNORMAL: Tone.WARNING,  # money still owed: an operator must act
})

# What became of a gateway notification: green for money in, grey for harmless repeats,
# red for what an operator should look at, orange for the gateway's own failures, blue
# for money going back.
OUTCOME_LABELS = StatusLabels("payment_notification", {
    NotificationOutcome.APPLIED: _l("已入账"),
    NotificationOutcome.DUPLICATE: _l("重复通知"),
    NotificationOutcome.REJECTED: _l("已拒绝（验签失败）"),
    NotificationOutcome.AMOUNT_MISMATCH: _l("金额不符"),
    NotificationOutcome.UNKNOWN_TRADE: _l("未知交易"),
    NotificationOutcome.FAILED_PAYMENT: _l("支付失败"),
    NotificationOutcome.REFUNDED: _l("到账后退回"),
    NotificationOutcome.REFUND_SUCCEEDED: _l("退款成功"),
    NotificationOutcome.REFUND_ABNORMAL: _l("退款异常"),
    NotificationOutcome.REFUND_CLOSED: _l("退款关闭"),
    NotificationOutcome.UNKNOWN_REFUND: _l("未知退款"),
    NotificationOutcome.REFUND_CONFLICT: _l("退款状态冲突"),
}, {
    NotificationOutcome.APPLIED: Tone.GOOD,
    NotificationOutcome.DUPLICATE: Tone.PENDING,
    NotificationOutcome.REJECTED: Tone.BAD,
    NotificationOutcome.AMOUNT_MISMATCH: Tone.BAD,
    NotificationOutcome.UNKNOWN_TRADE: Tone.WARNING,
    NotificationOutcome.FAILED_PAYMENT: Tone.WARNING,
    NotificationOutcome.REFUNDED: Tone.REVIEW,
    NotificationOutcome.REFUND_SUCCEEDED: Tone.REVIEW,
    NotificationOutcome.REFUND_ABNORMAL: Tone.WARNING,
    NotificationOutcome.REFUND_CLOSED: Tone.BAD,
    NotificationOutcome.UNKNOWN_REFUND: Tone.WARNING,
    NotificationOutcome.REFUND_CONFLICT: Tone.BAD,
})

PROVIDER_NAMES = {"sandbox": _l("沙箱"), "wechatpay": _l("微信支付"), "alipay": _l("支付宝")}


def provider_name(provider: str | None) -> str:
    """The gateway as people call it (the code itself when unknown, a dash when none)."""
    return str(PROVIDER_NAMES.get(provider or "", provider or "—"))
