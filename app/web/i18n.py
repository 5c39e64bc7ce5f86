"""Locale: Simplified Chinese by default, English when the user picks it (cookie)."""
from __future__ import annotations

from flask import current_app, has_request_context, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    # Jobs and CLI commands have no request: they speak the default language.
    choice = request.cookies.get(LANG_COOKIE) if has_request_context() else None
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
