"""Third-party sign-in adapters: WeChat mini-program (`wechat_mp`), WeChat
website QR login (`wechat_web`) and Alipay (`alipay`).

Each adapter speaks the provider's documented HTTP API with `requests`, reads
its base URLs, keys and the timeout from the app config (so tests point them at
local fake servers) and turns every failure into a typed error with a message a
shopper can read:

- the code was wrong, used or expired    -> `ValidationError` (422)
- the provider throttled us               -> `RateLimited` (429)
- the provider refused this user          -> `Forbidden` (403)
- not configured on this site             -> `ProviderNotConfigured` (503)
- unreachable, garbled or badly signed    -> `ProviderUnavailable` (502)

Adapters only talk to the provider; they never write to the database. Turning
a provider's user into one of our users is `app.accounts.identities`.
"""
from __future__ import annotations

from app.accounts.errors import AccountError
from app.core.errors import DomainError


class ProviderUnavailable(DomainError):
    """The provider could not be reached, answered something we cannot read,
    or refused our credentials. Nothing the shopper did wrong."""

    status = 502
    code = AccountError.PROVIDER_UNAVAILABLE


class ProviderNotConfigured(DomainError):
    """This sign-in method has no app id / keys on this site."""

    status = 503
    code = AccountError.PROVIDER_NOT_CONFIGURED


__all__ = ["ProviderNotConfigured", "ProviderUnavailable"]
