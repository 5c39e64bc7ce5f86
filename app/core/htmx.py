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


# Fired after a back-office write: the console's sidebar asks for its queue counts again.
QUEUES_CHANGED = "queues-changed"


def trigger(response, event: str, detail=True) -> Response:
    """Add `event` (with `detail`) to the response's HX-Trigger, keeping the events there."""
    response = make_response(response)
    existing = response.headers.get("HX-Trigger")
    payload = json.loads(existing) if existing else {}
    payload[event] = detail
    response.headers["HX-Trigger"] = json.dumps(payload)  # ASCII-escaped: headers must be latin-1
    return response


def with_toast(response, message: str, level: str = "success") -> Response:
    """Attach a toast to an HTMX response (shown by app.js from HX-Trigger)."""
    return trigger(response, "toast", {"message": str(message), "level": level})


def announce_queues_changed(response: Response) -> Response:
    """After-request hook of the back offices: an HTMX write that went through may
    have moved something into or out of a queue, so the sidebar's counts are asked for
    again (QUEUES_CHANGED). Reads are not announced, nor refusals: an error status, or
    the form sent back with a danger toast (they change nothing)."""
    if not is_htmx() or request.method in ("GET", "HEAD", "OPTIONS") or response.status_code >= 400:
        return response
    sent = response.headers.get("HX-Trigger")
    if sent and (json.loads(sent).get("toast") or {}).get("level") == "danger":
        return response
    return trigger(response, QUEUES_CHANGED)


def redirect_htmx(url: str) -> Response:
    """Full-page navigation from an HTMX request."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response
