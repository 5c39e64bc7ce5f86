"""Why stock changed (StockMovement.reason)."""
from __future__ import annotations

from enum import StrEnum


class MovementReason(StrEnum):
    INITIAL = "initial"
    MANUAL = "manual"
    ORDER_RESERVE = "order_reserve"
    ORDER_RELEASE = "order_release"
    PAYMENT_DEDUCT = "payment_deduct"
    RETURN_RESTOCK = "return_restock"
    EXCHANGE_OUT = "exchange_out"
    API_SYNC = "api_sync"
    FLASH_SALE_HOLD = "flash_sale_hold"  # event stock carved out when a flash sale is scheduled
    FLASH_SALE_RELEASE = "flash_sale_release"  # what the event did not sell, back when it is over
