"""Behaviour tracking on the shop's pages: the anonymous id cookie and the endpoint
`static/js/track.js` beacons its batches to.

The cookie `aid` is a random first-party id (1 year, SameSite=Lax). It is HttpOnly:
track.js never needs to read it (its beacons are same-origin, the browser sends the
cookie), so no script on the page can lift it. It is not set for a visitor who asks not
to be tracked (DNT / GPC). At sign-in its events become the user's (`views_auth.sign_in`).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from flask import g, make_response, request
from flask_login import current_user
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import dump_cookie, parse_cookie

from app.analytics import tracking
from app.analytics.held_events import HeldEvents
from app.core.db import transaction
from app.core.errors import RateLimited
from app.extensions import csrf, db
from app.web.forms import client_ip
from app.web.shop.blueprint import bp

ANON_COOKIE = "aid"
MAX_BEACON_BYTES = 32 * 1024


def anon_id() -> str:
    """The visitor's anonymous id from the cookie, or a new one for this request (set on
    the response by `give_anon_id`)."""
    cookie = tracking.valid_anon_id(request.cookies.get(ANON_COOKIE))
    if cookie:
        return cookie
    if "new_anon_id" not in g:
        g.new_anon_id = uuid.uuid4().hex
    return g.new_anon_id


def tracked() -> bool:
    """Whether this request may be tracked at all (no DNT / GPC)."""
    return not tracking.do_not_track(request.headers)


def record_search(query: str, results: int) -> None:
    """The search as a server-side event with how many products it found (the dashboards'
    keywords with no results), unless the visitor asks not to be tracked or is a bot."""
    search_event(query, results, headers=request.headers, path=request.path, anon=anon_id,
                 user_id=current_user.id if current_user.is_authenticated else None)


def search_event(query: str, results: int, *, headers, path: str, anon: Callable[[], str],
                 user_id: int | None, hold: HeldEvents | None = None) -> None:
    """`record_search` with the request's parts given (also used without a request: the
    page copies, app/web/shop/page_copies.py, which `hold` the event to keep it with
    others). `anon()` is asked only when it is recorded."""
    if tracking.do_not_track(headers) or tracking.is_bot(headers.get("User-Agent")):
        return
    if hold is not None:
        hold.add(tracking.search_row(query, results, anon_id=anon(), path=path, user_id=user_id))
    elif not tracking.buffer_search(query, results, anon_id=anon(), path=path, user_id=user_id):
        db.session.commit()


ANON_COOKIE_OPTIONS = {"max_age": 365 * 86400, "httponly": True, "samesite": "Lax"}


def set_anon_cookie(response, value: str) -> None:
    response.set_cookie(ANON_COOKIE, value, secure=request.is_secure, **ANON_COOKIE_OPTIONS)


def copied_search_recorder(held: HeldEvents) -> Callable[[dict, tuple[str, int]], list[tuple[str, str]]]:
    def record(environ: dict, search: tuple[str, int]) -> list[tuple[str, str]]:
        """A search answered from a process copy (app/web/shop/page_copies.py), recorded as
        `record_search` does but held to be kept with others (`held`), without a request or
        app context: the copy's answer is made without Flask. Returns the headers to add:
        the `aid` cookie a visitor without one is given."""
        cookie = tracking.valid_anon_id(parse_cookie(environ.get("HTTP_COOKIE", "")).get(ANON_COOKIE))
        made: list[str] = []

        def anon() -> str:
            if not cookie and not made:
                made.append(uuid.uuid4().hex)
            return cookie or made[0]

        search_event(*search, headers=EnvironHeaders(environ), anon=anon, user_id=None, hold=held,
                     path=environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"))
        if not made:
            return []
        secure = environ.get("wsgi.url_scheme") == "https"
        return [("Set-Cookie", dump_cookie(ANON_COOKIE, made[0], secure=secure, **ANON_COOKIE_OPTIONS))]
    return record


@bp.after_request
def give_anon_id(response):
    """Shop pages give a visitor without one an anonymous id (or the one made for it
    during this request, e.g. by a search or a beacon). A page shared by visitors without
    a session (app/web/shop/page_copies.py) sets no cookie: their first beacon gets one."""
    if "new_anon_id" in g or (request.method == "GET" and response.status_code == 200
                              and response.mimetype == "text/html" and not g.get("sessionless")
                              and tracked() and not tracking.valid_anon_id(request.cookies.get(ANON_COOKIE))):
        set_anon_cookie(response, anon_id())  # the id made for this request, or a new one
    return response


@bp.post("/t/events")
@csrf.exempt
def track_events():
    """sendBeacon target: `{"events": [...]}` (as text/plain or JSON, ≤ 32 KB) → 204.
    A malformed batch is a bare 400; nothing of it is kept; too many from one address, a 429."""
    try:
        tracking.limit_batches(client_ip())
    except RateLimited:
        return make_response("", 429)  # a beacon reads no page: a bare status, as for the others
    if (request.content_length or 0) > MAX_BEACON_BYTES:
        return make_response("", 413)
    body = request.get_data()
    if len(body) > MAX_BEACON_BYTES:
        return make_response("", 413)
    try:
        payload = json.loads(body)
    except ValueError:
        return make_response("", 400)
    if not isinstance(payload, dict) or set(payload) != {"events"}:
        return make_response("", 400)
    try:
        with transaction():
            tracking.record_batch(payload["events"],
                                  user_id=current_user.id if current_user.is_authenticated else None,
                                  anon_id=anon_id() if tracked() else tracking.valid_anon_id(request.cookies.get(ANON_COOKIE)),
                                  user_agent=request.user_agent.string, dnt=not tracked())
    except tracking.InvalidBatch:
        return make_response("", 400)
    return make_response("", 204)
