"""The error codes flash sales raise (`DomainError.code`): clients and tests rely on
these strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum


class FlashSaleError(StrEnum):
    SOLD_OUT = "sold_out"
    LIMIT_REACHED = "limit_reached"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    BUSY = "busy"  # the same idempotency key is being handled by another request
    NOT_FOUND = "flash_sale_not_found"
    ITEM_NOT_FOUND = "flash_sale_item_not_found"
    INVALID = "invalid_flash_sale"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"  # the same code as checkout's
    SKU_TAKEN = "sku_in_other_flash_sale"
    NOT_EDITABLE = "flash_sale_not_editable"
    FORBIDDEN = "flash_sale_forbidden"
