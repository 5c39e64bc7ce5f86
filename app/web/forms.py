"""Helpers shared by every surface's forms: copying a domain ValidationError's
field messages onto a WTForms form so they show under the fields."""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm

from app.core.errors import DomainError


def attach_errors(form: FlaskForm, exc: DomainError, default_field: str | None = None) -> bool:
    """Put `exc`'s messages under the matching fields. Returns True when at least
    one landed on a field (otherwise the caller flashes the message)."""
    placed = False
    for name, message in (exc.fields or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*(field.errors or []), message]
            placed = True
    if not placed and default_field and getattr(form, default_field, None) is not None:
        field = getattr(form, default_field)
        field.errors = [*(field.errors or []), exc.message]
        placed = True
    return placed


def client_ip() -> str | None:
    return request.remote_addr
