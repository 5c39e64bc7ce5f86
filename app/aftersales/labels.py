"""What after-sale statuses, kinds, reasons and rulings are called, on every surface.

The buyer and the shop word some statuses differently: a pending request is 待商家处理
to the buyer and 待处理 to the shop. Tones follow UI.md: waiting grey, with the
platform blue, money back or done green, waiting for someone's action orange, refused
or ended red."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.aftersales.states import AfterSaleKind, AfterSaleStatus, Reason, Ruling
from app.core.labels import StatusLabels, Tone

S = AfterSaleStatus

AFTERSALE = StatusLabels(
    "aftersale",
    {
        S.PENDING: {"default": _l("待处理"), "buyer": _l("待商家处理")},
        S.AWAITING_RETURN: {"default": _l("待买家退货"), "buyer": _l("待寄回商品")},
        S.RETURNED: {"default": _l("待确认收货"), "buyer": _l("待商家收货")},
        S.EXCHANGE_SHIPPED: {"default": _l("换货已发出"), "buyer": _l("待确认换货")},
        S.REFUNDING: _l("退款中"),
        S.REFUNDED: _l("已退款"),
        S.COMPLETED: _l("换货完成"),
        S.REJECTED: _l("已拒绝"),
        S.DISPUTED: _l("平台介入中"),
        S.CLOSED: _l("已关闭"),
        S.CANCELLED: {"default": _l("买家已撤销"), "buyer": _l("已撤销申请")},
    },
    {
        S.PENDING: Tone.WARNING, S.AWAITING_RETURN: Tone.PENDING, S.RETURNED: Tone.WARNING,
        S.EXCHANGE_SHIPPED: Tone.REVIEW, S.REFUNDING: Tone.REVIEW, S.REFUNDED: Tone.GOOD, S.COMPLETED: Tone.GOOD,
        S.REJECTED: Tone.BAD, S.DISPUTED: Tone.REVIEW, S.CLOSED: Tone.BAD, S.CANCELLED: Tone.PENDING,
    },
)

KIND = StatusLabels(
    "aftersale_kind",
    {AfterSaleKind.REFUND_ONLY: _l("仅退款"), AfterSaleKind.RETURN_REFUND: _l("退货退款"),
     AfterSaleKind.EXCHANGE: _l("换货")},
    {AfterSaleKind.REFUND_ONLY: Tone.PENDING, AfterSaleKind.RETURN_REFUND: Tone.PENDING,
     AfterSaleKind.EXCHANGE: Tone.PENDING},
)

REASON = StatusLabels(
    "aftersale_reason",
    {Reason.QUALITY: _l("质量问题"), Reason.NOT_AS_DESCRIBED: _l("与描述不符"), Reason.SIZE_COLOR: _l("尺码/颜色不合适"),
     Reason.WRONG_ITEM: _l("发错货"), Reason.NO_LONGER_WANTED: _l("不想要了"), Reason.OTHER: _l("其他")},
    {r: Tone.PENDING for r in Reason},
)

RULING = StatusLabels(
    "aftersale_ruling",
    {Ruling.REFUND: _l("支持买家：直接退款"), Ruling.RETURN_REFUND: _l("支持买家：退货退款"),
     Ruling.CLOSE: _l("支持商家：关闭售后")},
    {Ruling.REFUND: Tone.GOOD, Ruling.RETURN_REFUND: Tone.GOOD, Ruling.CLOSE: Tone.BAD},
)


def reason_text(aftersale) -> str:
    """The reason as the buyer gave it: the preset's words, or their own for `other`."""
    if aftersale.reason == Reason.OTHER and aftersale.reason_text:
        return aftersale.reason_text
    return REASON.label(aftersale.reason)
