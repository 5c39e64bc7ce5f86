"""What product statuses are called and their badge tones, on every surface. The
platform's review pages call a product in review 待审核 (it waits for them); the
merchant console says 审核中."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.catalog.states import ProductStatus
from app.core.labels import StatusLabels, Tone

PLATFORM = "platform"  # the audience of the admin's review pages

PRODUCT_LABELS = StatusLabels("product", {
    ProductStatus.PENDING_REVIEW: {"default": _l("审核中"), PLATFORM: _l("待审核")},
    ProductStatus.ON_SALE: _l("出售中"),
    ProductStatus.OFF_SALE: _l("已下架"),
    ProductStatus.REJECTED: _l("被驳回"),
    ProductStatus.DRAFT: _l("草稿"),
}, {
    ProductStatus.PENDING_REVIEW: Tone.REVIEW,
    ProductStatus.ON_SALE: Tone.GOOD,
    ProductStatus.OFF_SALE: Tone.WARNING,
    ProductStatus.REJECTED: Tone.BAD,
    ProductStatus.DRAFT: Tone.PENDING,
})

# A timeline row titled by where it went (when where it came from does not say more).
_ARRIVALS = {ProductStatus.DRAFT: _l("退回草稿"), ProductStatus.PENDING_REVIEW: _l("提交审核"),
             ProductStatus.ON_SALE: _l("上架销售"), ProductStatus.REJECTED: _l("审核驳回"),
             ProductStatus.OFF_SALE: _l("下架")}


def timeline_title(event) -> str:
    """The title of one ProductEvent in the platform's timeline of a product."""
    came, went = event.from_status, event.to_status
    if went == ProductStatus.ON_SALE and came == ProductStatus.PENDING_REVIEW:
        return str(_l("审核通过，上架销售"))
    if went == ProductStatus.DRAFT and came == ProductStatus.PENDING_REVIEW:
        return str(_l("商家撤回审核"))
    if went == ProductStatus.OFF_SALE:
        return str(_l("平台违规下架") if event.note else _l("商家下架"))
    if went == ProductStatus.DRAFT and not came:
        return str(_l("创建商品"))
    return str(_ARRIVALS.get(went, went))
