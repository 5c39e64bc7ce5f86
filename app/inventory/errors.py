"""The error codes inventory raises (`DomainError.code`): clients and tests rely on
these strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum


class StockError(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_STOCK = "invalid_stock"
    SKU_NOT_FOUND = "sku_not_found"
    STOCK_CHANGED = "stock_changed"
