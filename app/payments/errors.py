"""The error codes payments raise (`DomainError.code`): clients and tests rely on
these strings, so a value never changes once published."""
from __future__ import annotations

from enum import StrEnum


class PaymentError(StrEnum):
    PAYMENT_NOT_FOUND = "payment_not_found"
    ALREADY_PAID = "already_paid"
    PAYMENT_CLOSED = "payment_closed"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    INVALID_PROVIDER = "invalid_provider"
    INVALID_CHANNEL = "invalid_channel"
    WRONG_MERCHANT = "wrong_merchant"
    WECHAT_OPENID_REQUIRED = "wechat_openid_required"
    CLIENT_IP_REQUIRED = "client_ip_required"
    GATEWAY_ERROR = "gateway_error"
    REFUND_NOT_FOUND = "refund_not_found"
    REFUND_NOTE_REQUIRED = "refund_note_required"
    STALE_REFUND = "stale_refund"
    ALIPAY_CONFIG_ERROR = "alipay_config_error"
    WECHATPAY_CONFIG_ERROR = "wechatpay_config_error"
    REFUND_EXCEEDS_PAYMENT = "refund_exceeds_payment"
    NOT_PAID = "not_paid"
