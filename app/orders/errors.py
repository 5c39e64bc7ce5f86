"""The error codes orders raise (`DomainError.code`): clients and tests rely on these
strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum


class OrderError(StrEnum):
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_ITEM_NOT_FOUND = "order_item_not_found"
    CANNOT_CANCEL = "cannot_cancel"
    CANNOT_SHIP = "cannot_ship"
    CANNOT_CONFIRM = "cannot_confirm"
    CANNOT_REFUND = "cannot_refund"
    AFTERSALE_OPEN = "aftersale_open"
    INVALID_CARRIER = "invalid_carrier"
    INVALID_TRACKING_NO = "invalid_tracking_no"
    # cart and checkout
    CART_FULL = "cart_full"
    CART_ITEM_NOT_FOUND = "cart_item_not_found"
    INSUFFICIENT_STOCK = "insufficient_stock"
    SKU_NOT_FOUND = "sku_not_found"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    INVALID_SKU = "invalid_sku"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ITEMS = "invalid_items"
    EMPTY_ORDER = "empty_order"
    BUSY = "busy"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    NOTE_TOO_LONG = "note_too_long"
    ADDRESS_REQUIRED = "address_required"
    TOTAL_CHANGED = "total_changed"
    CANNOT_PAY = "cannot_pay"
    # shipping and tracking
    NOT_SHIPPED = "not_shipped"
    DESCRIPTION_REQUIRED = "description_required"
    DUPLICATE_EVENT = "duplicate_event"
    SHIPMENT_NOT_FOUND = "shipment_not_found"
    INVALID_SHIP_SHEET = "invalid_ship_sheet"
    TRACKING_UNAVAILABLE = "tracking_unavailable"
    TRACKING_CONFIG_ERROR = "tracking_config_error"
    TRACKING_NOT_FOUND = "tracking_not_found"
    TRACKING_PHONE_REQUIRED = "tracking_phone_required"
    # reviews
    INVALID_RATING = "invalid_rating"
    NOT_RECEIVED = "not_received"
    ALREADY_REVIEWED = "already_reviewed"
    TEXT_TOO_LONG = "text_too_long"
    TOO_MANY_IMAGES = "too_many_images"
    REPLY_REQUIRED = "reply_required"
    REPLY_TOO_LONG = "reply_too_long"
    ALREADY_REPLIED = "already_replied"
    REVIEW_NOT_FOUND = "review_not_found"
    REASON_REQUIRED = "reason_required"
