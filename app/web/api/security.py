"""Bearer-token authentication for the API (opaque tokens, stored hashed)."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.accounts import identities
from app.accounts import services as accounts
from app.accounts.models import User
from app.core.errors import Unauthorized

BEARER = [{"bearer": []}]  # for `@blp.doc(security=BEARER)`


def bearer_token() -> str | None:
    return token_in(request.headers.get("Authorization", ""))


def token_in(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header's value, or None."""
    scheme, _sep, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_required(view, *, before_phone: bool = False):
    """Load the user from the bearer token into `g.api_user`, or answer 401; a user who
    must bind a phone first gets 403 `phone_required` (identities.refuse_without_phone)
    unless the operation is one of the few open `before_phone`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = accounts.user_for_api_token(bearer_token() or "")
        if user is None:
            raise Unauthorized(_("请先登录"), code="unauthorized")
        g.api_user = user
        g.log_user_id = user.id
        if not before_phone:
            identities.refuse_without_phone(user)
        return view(*args, **kwargs)

    return wrapped


def api_user():
    return g.api_user


class BearerIdentity:
    """Who a bearer token says the caller is, as `cached_token_required` found it: `id`
    from the token cache (Redis) or from PostgreSQL. Good enough to refuse the caller;
    `user()` is the User checked in PostgreSQL (the token still live), or 401."""

    def __init__(self, user_id: int, raw: str, user: User | None = None) -> None:
        self.id = user_id
        self._raw = raw
        self._user = user

    def user(self) -> User:
        """The User (checked in PostgreSQL), or 401; 403 `phone_required` while they must
        bind a phone first (as `token_required`)."""
        if self._user is None:
            user = accounts.user_for_api_token(self._raw)
            if user is None or user.id != self.id:
                accounts.forget_api_token(self._raw)
                raise Unauthorized(_("请先登录"), code="unauthorized")
            self._user = user
        identities.refuse_without_phone(self._user)
        return self._user


def cached_token_required(view):
    """Like `token_required`, but the user id may come from the token cache in Redis
    (app/accounts/token_cache.py) and the User is loaded only when the view asks
    (`api_identity().user()`, checked in PostgreSQL then). For an endpoint that answers
    most callers a refusal decided in Redis (the flash-sale buy): those run no SQL."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        raw = bearer_token() or ""
        user_id = accounts.cached_user_id_for_api_token(raw)
        if user_id is not None:
            identity = BearerIdentity(user_id, raw)
        else:
            user = accounts.user_for_api_token(raw, remember=True)
            if user is None:
                raise Unauthorized(_("请先登录"), code="unauthorized")
            identity = BearerIdentity(user.id, raw, user)
        g.api_identity = identity
        g.log_user_id = identity.id
        return view(*args, **kwargs)

    return wrapped


def api_identity() -> BearerIdentity:
    return g.api_identity
