"""Limits on what any request may carry, applied before a view runs.

Guarantees:
- An `<int:...>` URL segment matches only 0..MAX_INT (every id column is a PostgreSQL
  `integer`): a bigger id is a 404 like any unknown one, never an out-of-range error.
- Text that no text column can store (a NUL character, a lone UTF-16 surrogate, which
  only JSON's `\\ud800` escapes can produce) is refused with a 400 wherever it appears:
  the path, the query string, a form field or name, any string of a JSON body. Nothing
  runs, so nothing changes. The API answers `{"error": {"code": "invalid_text", ...}}`
  naming the field; pages get the error page, HTMX a toast.
"""
from __future__ import annotations

import re

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from app.core.bounds import MAX_INT
from app.web.errors import error_page, json_error, wants_json

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def decimal_up_to(limit: int) -> str:
    """A regex for the whole numbers 0..limit, written without leading zeros."""
    digits = str(limit)
    same_length = [digits]
    for i, digit in enumerate(digits):  # the same prefix, a smaller digit here, anything after
        low, high, rest = 1 if i == 0 and len(digits) > 1 else 0, int(digit) - 1, len(digits) - i - 1
        if high >= low:
            smaller = str(low) if low == high else f"[{low}-{high}]"
            same_length.append(digits[:i] + smaller + (f"[0-9]{{{rest}}}" if rest else ""))
    shorter = (["[0-9]"] if len(digits) > 1 else []) + ([f"[1-9][0-9]{{1,{len(digits) - 2}}}"] if len(digits) > 2 else [])
    return "(?:" + "|".join(same_length + shorter[::-1]) + ")"


class BoundedIntConverter(IntegerConverter):
    """werkzeug's `int` converter with MAX_INT as its default maximum, enforced by the
    regex: werkzeug checks the method before it converts, so a maximum checked only in
    `to_python` turns a too-big id into a 405 wherever another method shares the path."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if not fixed_digits and not signed and max is not None:
            self.regex = decimal_up_to(max)


def unstorable_field(value, name: str = "") -> str | None:
    """The dotted name of the first string in `value` (a JSON value) holding unstorable text."""
    if isinstance(value, str):
        return (name or "body") if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        key = str(key)
        if UNSTORABLE.search(key):
            return f"{name}.{key}" if name else key
        found = unstorable_field(item, f"{name}.{key}" if name else key)
        if found:
            return found
    return None


def _unstorable_place() -> str | None:
    if UNSTORABLE.search(request.path):
        return "path"
    for key, value in request.args.items(multi=True):
        if UNSTORABLE.search(key) or UNSTORABLE.search(value):
            return key
    if not request.want_form_data_parsed:
        # No Content-Type (every plain GET): neither a form nor JSON is read from such a
        # body, so there is nothing more to check (and no per-request parsing to pay for).
        return None
    if request.mimetype != "multipart/form-data":
        # Parse the form from a cached copy of the body: gateway webhooks (Alipay's is a
        # urlencoded form) verify their signatures over the raw bytes, which parsing consumes.
        request.get_data(cache=True)
    for key, value in request.form.items(multi=True):
        if UNSTORABLE.search(key) or UNSTORABLE.search(value):
            return key
    if request.is_json:
        return unstorable_field(request.get_json(silent=True))
    return None


def refuse_unstorable_text():
    field = _unstorable_place()
    if field is None:
        return None
    message = _("内容包含无法识别的字符（如空字符），请修改后重试")
    if wants_json():
        return json_error(400, "invalid_text", message, {field: message})
    return error_page(400, message)


def init_app(app: Flask) -> None:
    """Install the bounded `int` converter (before any route is added) and the text check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_unstorable_text)
