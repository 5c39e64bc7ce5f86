"""Who may call an operation, checked and documented in one decorator.

`@bearer_operation(blp, ...)` (a shopper's bearer token) and `@api_key_operation(blp, ...)`
(a shop's X-Api-Key) go right under the route decorator, above `@blp.arguments`: the
credentials are checked before the body or the query is read (an anonymous call is a
401, never a 422 about its fields), and the OpenAPI document states the operation's
security scheme and its 401, with the other error statuses given (as `error_responses`
takes them).
"""
from __future__ import annotations

from app.web.api.merchant_security import SECURITY, api_key_required
from app.web.api.security import BEARER, cached_token_required, token_required
from app.web.api.v1.errors import error_responses


def _secured(check, security, blp, statuses):
    def decorator(view):
        view = error_responses(blp, 401, *statuses)(view)
        view = blp.doc(security=security)(view)
        return check(view)  # outermost: runs before the body or the query is parsed
    return decorator


def bearer_operation(blp, *statuses: int | tuple[int, str], cached: bool = False):
    """The bearer token's user (`api_user()`), or 401 `unauthorized`. With `cached`, the
    caller's identity (`api_identity()`) may come from the token cache in Redis and the
    User is loaded only when the view asks for it (see `cached_token_required`)."""
    return _secured(cached_token_required if cached else token_required, BEARER, blp, statuses)


def api_key_operation(blp, *statuses: int | tuple[int, str]):
    """The API key's merchant (`api_merchant()`), or 401 `invalid_api_key`."""
    return _secured(api_key_required, SECURITY, blp, statuses)
