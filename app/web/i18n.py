"""Locale: Simplified Chinese by default, English when the user picks it (cookie)."""
from __future__ import annotations

from flask import current_app, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    choice = request.cookies.get(LANG_COOKIE)
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
