"""The error codes distribution answers with (`DomainError.code`). Clients and tests
rely on these strings: values never change, new refusals add a member."""
from __future__ import annotations

from enum import StrEnum


class DistributionError(StrEnum):
    # distributors
    APPLICATION_NOT_OPEN = "application_not_open"
    INVALID_APPLICATION = "invalid_application"
    ALREADY_APPLIED = "already_applied"
    ALREADY_DISTRIBUTOR = "already_distributor"
    NOT_DISTRIBUTOR = "not_distributor"
    DISTRIBUTOR_NOT_FOUND = "distributor_not_found"
    USER_NOT_FOUND = "user_not_found"
    NOT_PENDING = "not_pending"
    NOT_ACTIVE = "not_active"
    NOT_FROZEN = "not_frozen"
    REASON_REQUIRED = "reason_required"
    BUSY = "busy"
    # referral bindings
    INVALID_CODE = "invalid_code"
    DISTRIBUTOR_INACTIVE = "distributor_inactive"
    CANNOT_BIND_SELF = "cannot_bind_self"
    CANNOT_BIND_DOWNLINE = "cannot_bind_downline"
    # withdrawals
    INVALID_AMOUNT = "invalid_amount"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MAXIMUM = "above_maximum"
    INVALID_METHOD = "invalid_method"
    INVALID_ACCOUNT = "invalid_account"
    CANNOT_WITHDRAW = "cannot_withdraw"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    WITHDRAWAL_NOT_FOUND = "withdrawal_not_found"
    STALE_WITHDRAWAL = "stale_withdrawal"
    TRANSFER_REF_REQUIRED = "transfer_ref_required"
    # rules and sharing
    INVALID_RULES = "invalid_rules"
    INVALID_PRODUCT_ID = "invalid_product_id"
    PRODUCT_NOT_FOUND = "product_not_found"
