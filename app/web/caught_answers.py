"""What the WSGI layers that answer from this process's memory share (the storefront's
page copies, the 秒杀 refusals): Flask's answer, caught as it is sent, to be kept."""
from __future__ import annotations

from collections.abc import Callable, Iterable


def run_and_catch(wsgi_app: Callable, environ: dict, start_response: Callable,
                  wanted: Callable[[dict], bool]) -> tuple[Iterable[bytes], tuple[str, list] | None]:
    """Run the app. When it has started an answer and `wanted(environ)` holds after it ran
    (the app marks the environ), return the body read to the end (and closed) with the
    (status, headers) it sent; otherwise the body as the app gave it, and None."""
    sent: list = []

    def remember(status, headers, exc_info=None):
        sent[:] = [status, headers]
        return start_response(status, headers, exc_info)

    body = wsgi_app(environ, remember)
    if not sent or not wanted(environ):
        return body, None
    try:
        chunks = list(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return chunks, (sent[0], sent[1])
