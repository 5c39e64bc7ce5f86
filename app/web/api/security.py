"""Bearer-token authentication for the API (opaque tokens, stored hashed)."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.accounts import services as accounts
from app.core.errors import Unauthorized

BEARER = [{"bearer": []}]  # for `@blp.doc(security=BEARER)`


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_required(view):
    """Load the user from the bearer token into `g.api_user`, or answer 401."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = accounts.user_for_api_token(bearer_token() or "")
        if user is None:
            raise Unauthorized(_("请先登录"), code="unauthorized")
        g.api_user = user
        g.log_user_id = user.id
        return view(*args, **kwargs)

    return wrapped


def api_user():
    return g.api_user
