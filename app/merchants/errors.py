"""The error codes merchants raise (`DomainError.code`). Values are what API clients and
tests read, so they never change; add a member rather than rewording one."""
from __future__ import annotations

from enum import StrEnum


class MerchantError(StrEnum):
    # applications
    APPLICATION_NOT_FOUND = "application_not_found"
    APPLICATION_EXISTS = "application_exists"  # a second open application
    APPLICATION_IN_REVIEW = "application_in_review"  # editing while the platform reviews it
    APPLICATION_INCOMPLETE = "application_incomplete"
    SHOP_NAME_TAKEN = "shop_name_taken"
    REASONS_REQUIRED = "reasons_required"  # a rejection says what to fix
    # shops, staff, keys
    MERCHANT_NOT_FOUND = "merchant_not_found"
    OWNER_ONLY = "owner_only"
    USER_NOT_FOUND = "user_not_found"
    ALREADY_MEMBER = "already_member"
    MEMBER_NOT_FOUND = "member_not_found"
    CANNOT_REMOVE_OWNER = "cannot_remove_owner"
    TOO_MANY_KEYS = "too_many_keys"
    API_KEY_NOT_FOUND = "api_key_not_found"
    # return addresses (退货地址)
    INVALID_RETURN_ADDRESS = "invalid_return_address"
    TOO_MANY_RETURN_ADDRESSES = "too_many_return_addresses"
    RETURN_ADDRESS_NOT_FOUND = "return_address_not_found"
    # platform actions
    REASON_REQUIRED = "reason_required"
    FORBIDDEN = "forbidden"
    INVALID_PLATFORM_FEE = "invalid_platform_fee"
