"""Locale: Simplified Chinese by default, English when the user picks it (cookie)."""
from __future__ import annotations

from functools import cache

from babel import Locale
from flask import current_app, has_request_context, request

LANG_COOKIE = "lang"


@cache
def _parsed(identifier: str) -> Locale:
    # Parsed once per process: Babel's parse looks for the locale's data file on disk
    # (a stat) every time, and flask-babel parses what the selector returns on every
    # request. Only configured LANGUAGES reach here, so the cache stays that small.
    return Locale.parse(identifier)


def select_locale() -> Locale:
    # Jobs and CLI commands have no request: they speak the default language.
    choice = request.cookies.get(LANG_COOKIE) if has_request_context() else None
    if choice in current_app.config["LANGUAGES"]:
        return _parsed(choice)
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
