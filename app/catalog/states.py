"""Product statuses and their lifecycle (DOMAIN.md, Catalog)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class ProductStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    ON_SALE = "on_sale"
    REJECTED = "rejected"
    OFF_SALE = "off_sale"


# The product's life (DOMAIN.md): the merchant submits, the platform reviews; an on-sale
# product goes off sale by the merchant's 下架, the platform's violation delist or the
# shop's closure, and comes back through review when it changed. Without required
# review (platform setting) `publish` and `relist` skip it.
PRODUCT_LIFECYCLE = Lifecycle("product", ProductStatus, (
    act("submit", (ProductStatus.DRAFT, ProductStatus.REJECTED), ProductStatus.PENDING_REVIEW),
    act("publish", (ProductStatus.DRAFT, ProductStatus.REJECTED), ProductStatus.ON_SALE),
    # the merchant takes it back from review to keep editing
    act("withdraw", ProductStatus.PENDING_REVIEW, ProductStatus.DRAFT),
    act("approve", ProductStatus.PENDING_REVIEW, ProductStatus.ON_SALE),
    act("reject", ProductStatus.PENDING_REVIEW, ProductStatus.REJECTED),
    # a content edit of a listed product when review is required
    act("revise", ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW),
    act("delist", ProductStatus.ON_SALE, ProductStatus.OFF_SALE),
    act("violation_delist", ProductStatus.ON_SALE, ProductStatus.OFF_SALE),
    act("relist", ProductStatus.OFF_SALE, ProductStatus.ON_SALE),
    act("relist_for_review", ProductStatus.OFF_SALE, ProductStatus.PENDING_REVIEW),
    # the shop is closed for good
    act("close_shop", (ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW), ProductStatus.OFF_SALE),
))

# Tabs of the merchant's product list, in order.
STATUS_TABS = (ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW, ProductStatus.OFF_SALE,
               ProductStatus.REJECTED, ProductStatus.DRAFT)

MAX_CATEGORY_DEPTH = 3
MAX_SPEC_DIMENSIONS = 3
MAX_SPEC_VALUES = 20
MAX_SKUS = 200
MAX_IMAGES = 9
