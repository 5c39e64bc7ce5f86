"""Words and badge tones of flash-sale statuses (`status_tag("flash_sale", sale.status)`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.flashsales.states import FlashSaleStatus

FLASH_SALE = StatusLabels("flash_sale", {
    FlashSaleStatus.DRAFT: _l("草稿"),
    FlashSaleStatus.PENDING_REVIEW: _l("待审核"),
    FlashSaleStatus.SCHEDULED: _l("已排期"),
    FlashSaleStatus.REJECTED: _l("已驳回"),
    FlashSaleStatus.ENDED: _l("已结束"),
    FlashSaleStatus.CANCELLED: _l("已取消"),
}, {
    FlashSaleStatus.DRAFT: Tone.PENDING,
    FlashSaleStatus.PENDING_REVIEW: Tone.REVIEW,
    FlashSaleStatus.SCHEDULED: Tone.GOOD,
    FlashSaleStatus.REJECTED: Tone.BAD,
    FlashSaleStatus.ENDED: Tone.PENDING,
    FlashSaleStatus.CANCELLED: Tone.BAD,
})
