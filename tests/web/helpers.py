"""Readers for test-client responses, shared by the surface tests."""
from __future__ import annotations

import json


def text(resp) -> str:
    """The response body as text."""
    return resp.get_data(as_text=True)


def toast(resp) -> dict:
    """The toast an HTMX response asks for in its HX-Trigger header: {"message", "level"}."""
    return json.loads(resp.headers["HX-Trigger"])["toast"]
