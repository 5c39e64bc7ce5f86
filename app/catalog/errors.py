"""Error codes of the catalog (the strings API clients and tests rely on)."""
from __future__ import annotations

from enum import StrEnum


class CatalogError(StrEnum):
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_UNAVAILABLE = "product_unavailable"  # a shopper asked for a product not on sale
    SKU_NOT_FOUND = "sku_not_found"
    SHOP_NOT_OPEN = "shop_not_open"
    SHOP_UNAVAILABLE = "shop_unavailable"
    INVALID_PRODUCT = "invalid_product"
    INVALID_COMMISSION = "invalid_commission"
    INVALID_SPECS = "invalid_specs"
    DUPLICATE_SPEC = "duplicate_spec"
    DUPLICATE_SPEC_VALUE = "duplicate_spec_value"
    TOO_MANY_IMAGES = "too_many_images"
    INVALID_IMAGE_ORDER = "invalid_image_order"
    IMAGE_NOT_FOUND = "image_not_found"
    PRODUCT_INCOMPLETE = "product_incomplete"
    REASON_REQUIRED = "reason_required"
    FORBIDDEN = "forbidden"
    CATEGORY_NOT_FOUND = "category_not_found"
    CATEGORY_HAS_PRODUCTS = "category_has_products"
    DUPLICATE_NAME = "duplicate_name"
    TOO_DEEP = "too_deep"
    INVALID_AFTERSALE_WINDOW = "invalid_aftersale_window"
    INVALID_PLATFORM_FEE = "invalid_platform_fee"
