"""Storefront pages for visitors without a session, answered from this process's memory
before Flask runs.

A visitor who sends no cookie (or only the anonymous tracking id `aid`) has no session,
no sign-in, no flashed message and the default language: on home, 分类, 搜索 and a product
page such a visitor sees exactly what every other one sees for the same URL, because
those pages leave the CSRF token out for them (`full_pages`: the page's script fetches
one from `/csrf-token` before its first POST). Flask says which answers may be kept (it
marks the WSGI environ: `offer`); this layer keeps the answer as sent, headers and body,
and gives it to the next such visitor for the same scheme, host, path and query string.

What it guarantees:

- Only answers Flask marked are kept, and only when they set no cookie but `aid`
  (made per request, never kept). So a page with anything per visitor in it (a token, a
  signed-in top bar, a live 秒杀 buy form) is never kept: it was never marked.
- A copy is kept `PAGE_COPY_SECONDS` at most (1 s), and no longer than the fragments
  it was made of (a promotion starting). A change committed in this process drops every
  copy at once (`page_cache.bump` calls `forget`); one committed in another process
  shows here within `PAGE_COPY_SECONDS`. Nothing is sold on a copy: prices and stock
  are read again at checkout.
- At most `PAGE_COPY_LIMIT` pages a process (made-up search words cannot grow it
  further: the oldest copy goes).
- Each answer is still logged with its own request id, and a search answered from a copy
  is still recorded (analytics), with an `aid` cookie for a visitor who has none, as the
  page rendered by Flask does.

Why: a stored page answered inside Flask cost 500–600 µs of CPU (session, CSRF token,
cookies, hooks; docs/caching.md), against about 50 µs for a hello world; here it costs
about what a hello world costs.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from werkzeug.http import parse_cookie

from app.core import page_cache
from app.web.caught_answers import run_and_catch
from app.web.logging_setup import log_request
from app.web.shop.views_tracking import ANON_COOKIE

OFFER = "shop.page_copy"  # in the WSGI environ: Flask's mark, {"seconds": ..., "search": ...}
EXTENSION = "page_copies"
FREE_COOKIES = frozenset({ANON_COOKIE})  # the one cookie a visitor without a session may carry


@dataclass(frozen=True)
class Copy:
    until: float  # time.monotonic()
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    search: tuple[str, int] | None


def sessionless(cookie_header: str | None) -> bool:
    """Whether a request's cookies leave it without a session: none, or only `aid`."""
    return not cookie_header or set(parse_cookie(cookie_header)) <= FREE_COOKIES


class PageCopies:
    """WSGI layer around the Flask app (`app.wsgi_app`). `record_search(environ, search)`
    records a search answered from a copy and returns the headers (an `aid` cookie) to
    add to that answer."""

    def __init__(self, wsgi_app: Callable, app: Flask,
                 record_search: Callable[[dict, tuple[str, int]], list[tuple[str, str]]]) -> None:
        self.wsgi_app = wsgi_app
        self.config = app.config
        self.record_search = record_search
        self.copies: dict[tuple, Copy] = {}
        self.lock = threading.Lock()

    def forget(self) -> None:
        """Drop every copy (a change was committed in this process)."""
        with self.lock:
            self.copies.clear()

    def _key(self, environ: dict) -> tuple | None:
        if (environ["REQUEST_METHOD"] != "GET" or "HTTP_HX_REQUEST" in environ
                or "HTTP_AUTHORIZATION" in environ or not sessionless(environ.get("HTTP_COOKIE"))):
            return None
        return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST") or environ.get("SERVER_NAME"),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self._key(environ) if self.config.get("PAGE_CACHE_ENABLED") else None
        if key is None:
            return self.wsgi_app(environ, start_response)
        copy = self.copies.get(key)
        if copy is not None and copy.until > time.monotonic():
            return self._answer(copy, environ, start_response)
        return self._pass_and_keep(key, environ, start_response)

    def _answer(self, copy: Copy, environ: dict, start_response: Callable) -> list[bytes]:
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_REQUEST_ID") or secrets.token_hex(8)
        headers = [*copy.headers, ("X-Request-Id", request_id)]
        if copy.search is not None:
            headers += self.record_search(environ, copy.search)
        start_response(copy.status, headers)
        log_request({"request_id": request_id, "method": "GET", "path": environ.get("PATH_INFO", ""),
                     "status": int(copy.status[:3]), "ms": round((time.perf_counter() - started) * 1000, 1),
                     "user_id": None, "ip": environ.get("REMOTE_ADDR")})
        return [copy.body]

    def _pass_and_keep(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        chunks, sent = run_and_catch(self.wsgi_app, environ, start_response, lambda env: OFFER in env)
        if sent is None:
            return chunks
        offer, (status, headers) = environ[OFFER], sent
        kept = [(name, value) for name, value in headers if name.lower() not in ("x-request-id", "set-cookie")]
        cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        if all(value.split("=", 1)[0] in FREE_COOKIES for value in cookies):
            seconds = min(self.config["PAGE_COPY_SECONDS"], offer["seconds"])
            self._keep(key, Copy(time.monotonic() + seconds, status, kept, b"".join(chunks), offer.get("search")))
        return chunks

    def _keep(self, key: tuple, copy: Copy) -> None:
        with self.lock:
            self.copies.pop(key, None)
            while len(self.copies) >= self.config["PAGE_COPY_LIMIT"]:
                del self.copies[next(iter(self.copies))]  # the oldest kept
            self.copies[key] = copy


def offer(environ: dict, seconds: float, search: tuple[str, int] | None) -> None:
    """Flask's side: this answer, as it will be sent, may be kept for `seconds`."""
    if seconds > 0:
        environ[OFFER] = {"seconds": seconds, "search": search}


def init_app(app: Flask, record_search: Callable[[dict, tuple[str, int]], list[tuple[str, str]]]) -> PageCopies:
    """Wrap the app's WSGI callable; the copies are dropped whenever this process commits a
    change to what the pages show (page_cache's after-commit bump)."""
    layer = PageCopies(app.wsgi_app, app, record_search)
    app.wsgi_app = layer
    app.extensions[EXTENSION] = layer
    page_cache.on_change(app, layer.forget)
    return layer
