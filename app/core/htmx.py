"""HTMX helpers: a full page includes its partials, and an HTMX request gets
just the partial; results are sent as toasts through the HX-Trigger header."""
from __future__ import annotations

import json

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render(template: str, partial: str | None = None, /, **context) -> str:
    """Render `partial` for an HTMX request (unless boosted to a whole page), else `template`."""
    if partial and is_htmx() and not request.headers.get("HX-Boosted"):
        return render_template(partial, **context)
    return render_template(template, **context)


def with_toast(response, message: str, level: str = "success") -> Response:
    """Attach a toast to an HTMX response (shown by app.js from HX-Trigger)."""
    response = make_response(response)
    existing = response.headers.get("HX-Trigger")
    payload = json.loads(existing) if existing else {}
    payload["toast"] = {"message": str(message), "level": level}
    response.headers["HX-Trigger"] = json.dumps(payload)  # ASCII-escaped: headers must be latin-1
    return response


def redirect_htmx(url: str) -> Response:
    """Full-page navigation from an HTMX request."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response
