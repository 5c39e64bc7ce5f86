"""The error codes after-sales raise (`DomainError.code`): clients and tests rely on
these strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum


class AfterSaleError(StrEnum):
    AFTERSALE_NOT_FOUND = "aftersale_not_found"
    NOT_ALLOWED = "aftersale_not_allowed"  # window over, open request, quantity above what remains
    INVALID_KIND = "invalid_aftersale_kind"
    INVALID_REASON = "invalid_reason"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ITEMS = "invalid_items"
    DESCRIPTION_TOO_LONG = "description_too_long"
    TOO_MANY_IMAGES = "too_many_images"
    REAPPLY_LIMIT = "reapply_limit"
    RETURN_ADDRESS_REQUIRED = "return_address_required"
    REJECT_REASON_REQUIRED = "reject_reason_required"
    STATEMENT_REQUIRED = "statement_required"
    MESSAGE_REQUIRED = "message_required"
    INVALID_RULING = "invalid_ruling"
    NOT_RECEIVED_YET = "return_not_received"
    CANNOT_ACT = "aftersale_cannot_act"  # the request is not (or no longer) in a state for this
