"""Payment gateways behind one interface (see `base.PaymentProvider`).

`get(name)` returns the adapter; `available()` lists the ones this deployment
may offer to a buyer (the sandbox only where it is enabled).
"""
from __future__ import annotations

from flask import current_app

from app.core.errors import NotFound, ValidationError
from app.payments.errors import PaymentError
from app.payments.providers.alipay import AlipayProvider
from app.payments.providers.base import PaymentProvider
from app.payments.providers.sandbox import SandboxProvider
from app.payments.providers.wechatpay import WechatPayProvider

NAMES = ("sandbox", "wechatpay", "alipay")


def sandbox_enabled() -> bool:
    """The sandbox gateway exists only in development or where its secret is set,
    so it can never take real orders."""
    return bool(current_app.config.get("SANDBOX_PAY_SECRET"))


def get(name: str) -> PaymentProvider:
    if name == "sandbox":
        if not sandbox_enabled():
            raise NotFound("sandbox disabled", code=PaymentError.PROVIDER_UNAVAILABLE)
        return SandboxProvider()
    if name == "wechatpay":
        return WechatPayProvider()
    if name == "alipay":
        return AlipayProvider()
    raise ValidationError("unknown payment provider", code=PaymentError.INVALID_PROVIDER, fields={"provider": name})


def available() -> list[str]:
    """Providers a buyer can choose here: configured real gateways, plus the sandbox where enabled."""
    names = []
    config = current_app.config
    if config.get("WECHATPAY_MCHID") and config.get("WECHATPAY_PRIVATE_KEY"):
        names.append("wechatpay")
    if config.get("ALIPAY_APP_ID") and config.get("ALIPAY_APP_PRIVATE_KEY"):
        names.append("alipay")
    if sandbox_enabled():
        names.append("sandbox")
    return names
