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
