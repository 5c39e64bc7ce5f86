"""Error answers shared by the v1 resources, and how an operation documents them.

- `invalid_body`: the 422 of a body or query the schema refused, with nested field
  names (`skus.0.price_fen`, `items.0.quantity`); a blueprint registers it with
  `blp.errorhandler(UnprocessableEntity)(invalid_body)`.
- `error_responses`: the error statuses an operation answers, each documented with
  the `ApiError` body (what app/web/errors.py sends).
"""
from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.exceptions import UnprocessableEntity

from app.web.api.v1.schemas import ErrorSchema
from app.web.errors import json_error


def flatten(messages, prefix: str = "") -> dict[str, str]:
    """{"json": {"skus": {0: {"price_fen": ["..."]}}}} -> {"skus.0.price_fen": "..."}."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten(value, name))
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                flat[name] = value[0]
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    flat.update(flatten(item, f"{name}.{i}") if isinstance(item, dict) else {name: str(item)})
            else:
                flat[name] = str(value)
    return flat


def invalid_body(exc: UnprocessableEntity):
    """Body and query errors as a 422 `invalid` with nested field names."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    flat: dict[str, str] = {}
    for location in messages.values() if isinstance(messages, dict) else []:
        flat.update(flatten(location))
    return json_error(422, "invalid", _("提交的内容有误"), flat)


def error_responses(blp, *statuses: int | tuple[int, str]):
    """Document the error statuses an operation answers, each with the ApiError body: a status,
    or (status, description) naming its codes. The same as stacking
    `@blp.alt_response(status, schema=ErrorSchema, description=...)` in the order given."""
    def decorator(view):
        for status in reversed(statuses):  # as a stack of decorators applies, the last first
            code, description = status if isinstance(status, tuple) else (status, None)
            view = blp.alt_response(code, schema=ErrorSchema, description=description)(view)
        return view
    return decorator
