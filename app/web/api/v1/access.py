"""Who may call an operation, checked and documented in one decorator.

`@bearer_operation(blp, ...)` (a shopper's bearer token) and `@api_key_operation(blp, ...)`
(a shop's X-Api-Key) go right under the route decorator, above `@blp.arguments`: the
credentials are checked before the body or the query is read (an anonymous call is a
401, never a 422 about its fields), and the OpenAPI document states the operation's
security scheme and its 401, with the other error statuses given (as `error_responses`
takes them).
"""
from __future__ import annotations

from functools import partial

from app.web.api.merchant_security import SECURITY, api_key_required
from app.web.api.security import BEARER, cached_token_required, token_required
from app.web.api.v1.errors import error_responses


def _secured(check, security, blp, statuses):
    def decorator(view):
        view = error_responses(blp, 401, *statuses)(view)
        view = blp.doc(security=security)(view)
        return check(view)  # outermost: runs before the body or the query is parsed
    return decorator


PHONE_REQUIRED = ("phone_required: the account signed in through WeChat or Alipay and the platform asks such "
                  "accounts for a phone; bind one first (POST /api/v1/me/phone)")


def bearer_operation(blp, *statuses: int | tuple[int, str], cached: bool = False, before_phone: bool = False):
    """The bearer token's user (`api_user()`), or 401 `unauthorized`; 403 `phone_required`
    while the user must bind a phone first, unless `before_phone` (the operations that
    user still needs: their account, binding the phone, signing out). With `cached`, the
    caller's identity (`api_identity()`) may come from the token cache in Redis and the
    User is loaded only when the view asks for it (see `cached_token_required`), which is
    also when the phone is asked for."""
    if cached:
        check = cached_token_required
    else:
        check = partial(token_required, before_phone=before_phone)
    if not before_phone:
        statuses = _with_phone_required(statuses)
    return _secured(check, BEARER, blp, statuses)


def _with_phone_required(statuses: tuple) -> tuple:
    """`statuses` with 403 naming `phone_required` (beside the 403's own codes, if any)."""
    for n, status in enumerate(statuses):
        code, description = status if isinstance(status, tuple) else (status, None)
        if code == 403:
            merged = f"{description}; {PHONE_REQUIRED}" if description else PHONE_REQUIRED
            return (*statuses[:n], (403, merged), *statuses[n + 1:])
    return (*statuses, (403, PHONE_REQUIRED))


def api_key_operation(blp, *statuses: int | tuple[int, str]):
    """The API key's merchant (`api_merchant()`), or 401 `invalid_api_key`."""
    return _secured(api_key_required, SECURITY, blp, statuses)
