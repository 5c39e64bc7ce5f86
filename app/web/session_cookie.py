"""The session cookie: Flask's signed cookie, with its signing serializer made once per
secret key instead of on every request.

Flask builds a new itsdangerous serializer to read the cookie and another to write it,
every request; the keys, salt and digest never change between requests, and the
serializer keeps no state of a request, so one per key set does. The cookie is the same
as Flask's (same keys, fallbacks, salt, digest and format): cookies made before keep
working. Part of what a stored storefront page costs (bench/request_cost.py,
docs/caching.md)."""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookie(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._made: tuple[tuple, URLSafeTimedSerializer | None] | None = None  # (the keys, their serializer)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made  # one read: another thread may replace it meanwhile
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookie()
