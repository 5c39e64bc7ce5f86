"""Product statuses and their transitions (DOMAIN.md, Catalog)."""
from __future__ import annotations

from enum import StrEnum


class ProductStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    ON_SALE = "on_sale"
    REJECTED = "rejected"
    OFF_SALE = "off_sale"


# target -> the statuses a product may move from (used by guarded UPDATEs).
PRODUCT_TRANSITIONS: dict[ProductStatus, tuple[ProductStatus, ...]] = {
    # the merchant withdraws a product from review to keep editing it
    ProductStatus.DRAFT: (ProductStatus.PENDING_REVIEW,),
    # submitting (or relisting, or resubmitting after a rejection)
    ProductStatus.PENDING_REVIEW: (ProductStatus.DRAFT, ProductStatus.REJECTED, ProductStatus.OFF_SALE),
    # approval, or straight to sale when review is off / nothing changed on relist
    ProductStatus.ON_SALE: (ProductStatus.PENDING_REVIEW, ProductStatus.DRAFT, ProductStatus.REJECTED,
                            ProductStatus.OFF_SALE),
    ProductStatus.REJECTED: (ProductStatus.PENDING_REVIEW,),
    # the merchant's 下架 or the platform's violation delist
    ProductStatus.OFF_SALE: (ProductStatus.ON_SALE,),
}
EDITABLE_STATUSES = tuple(ProductStatus)  # editing an on-sale product sends the change through review again

# Tabs of the merchant's product list, in order.
STATUS_TABS = (ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW, ProductStatus.OFF_SALE,
               ProductStatus.REJECTED, ProductStatus.DRAFT)

MAX_CATEGORY_DEPTH = 3
MAX_SPEC_DIMENSIONS = 3
MAX_SPEC_VALUES = 20
MAX_SKUS = 200
MAX_IMAGES = 9
