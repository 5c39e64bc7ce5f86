"""Whole storefront pages for visitors who are not signed in, from the page cache
(app.core.page_cache), before Flask renders anything.

A signed-out visitor with no flashed message sees on home, 分类, 搜索 and a product page
exactly what every other such visitor sees with the same locale and URL, except the
CSRF token: the page is stored cut where the token was and each answer gets the visitor's
own token. Signed-in visitors, HTMX requests, answers other than 200 and pages
that show live numbers (`live()`: a product page with a 秒杀 block, its progress read on
every request) are rendered every time, from the shared fragments. A page is kept as long
as the shortest-lived fragment it was made of, with the generations that invalidate it.

A visitor without a session (no cookie but `aid`: a first visit, a crawler) gets the page
with the token left out (`page_token`), so the answer is the same for all of them and
nothing is stored in their browser; the page's script asks `/csrf-token` for a token
before its first POST (static/js/app.js). Those answers are offered to the WSGI layer in
front of Flask (app/web/shop/page_copies.py), which answers the next such visitors from
memory.

The cut copy is bytes (the rendered body split at the token): an answer is its pieces
joined with the token, with no decoding, replacing or encoding of the ~30 KB page."""
from __future__ import annotations

from flask import Flask, current_app, g, jsonify, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.analytics.held_events import HeldEvents
from app.core import page_cache
from app.core.htmx import is_htmx
from app.web.shop import page_copies
from app.web.shop.blueprint import bp
from app.web.shop.views_tracking import copied_search_recorder, record_search

# The pages kept whole and the arguments each reads: a URL with any other argument is
# rendered from the fragments instead, so made-up query strings cannot multiply the copies.
CACHED_ENDPOINTS = {"shop.home": (), "shop.categories": ("id",),
                    "shop.search": ("q", "category_id", "min_price", "max_price", "promotion", "sort", "page"),
                    "shop.product_page": ("sku", "qty")}
SLOT = "full_page_slot"
# Searches answered from page copies are kept together: one push for up to this many, at
# most HELD_SEARCH_SECONDS late (app/analytics/held_events.py).
HELD_SEARCHES_MOST = 100
# Where a page rendered for a visitor without a session had its token: cut out before the
# answer leaves (a page stored from it is cut there, as at a real token).
TOKEN_MARK = "csrf-token-on-demand-7c1e"  # plain ASCII: no filter (escape, tojson) changes it


def live(seconds: float) -> None:
    """This answer shows live numbers (a 秒杀's progress, whether it has started): never
    stored in the shared page cache, and kept as a process copy for visitors without a
    session for at most `seconds`."""
    g.full_page_live = seconds


def _shareable_request() -> bool:
    return (request.method == "GET" and request.endpoint in CACHED_ENDPOINTS and not is_htmx()
            and all(name in CACHED_ENDPOINTS[request.endpoint] for name in request.args)
            and "_flashes" not in session and not current_user.is_authenticated)


def page_token() -> str:
    """`csrf_token()` in templates: the visitor's token, or the mark where it goes on a
    shared page for a visitor without a session (see the module's docstring)."""
    if g.get("sessionless"):
        g.token_marked = True
        return TOKEN_MARK
    return generate_csrf()


@bp.record_once
def _templates_use_page_token(state) -> None:
    # In place of Flask-WTF's generate_csrf, which it sets as a global and in a context
    # processor (ours runs after it, so its name wins).
    state.app.jinja_env.globals["csrf_token"] = page_token
    state.app.context_processor(lambda: {"csrf_token": page_token})


def _sessionless() -> bool:
    return current_app.config["PAGE_CACHE_ENABLED"] and page_copies.sessionless(request.headers.get("Cookie"))


@bp.before_request
def serve_stored_page():
    if not _shareable_request():
        return None
    g.sessionless = _sessionless()
    product_id = (request.view_args or {}).get("product_id")
    found = page_cache.page_lookup(request.endpoint, sorted(request.args.items(multi=True)), product_id)
    if found is None:
        return None
    slot, stored = found
    if stored is None:
        g.full_page_slot = slot
        return None
    token = b"" if g.sessionless else generate_csrf().encode()
    response = make_response(token.join(stored["parts"]))
    g.full_page_search = stored.get("search")
    if g.full_page_search:  # recorded for every visitor, as the view does
        record_search(*g.full_page_search)
    return response


@bp.after_request
def keep_page(response):
    slot = g.pop(SLOT, None)
    sessionless = g.get("sessionless", False)
    live_for = g.get("full_page_live")
    shared = (response.status_code == 200 and response.mimetype == "text/html"
              # a token made for this visitor all the same (by a form): this answer is theirs alone
              and not (sessionless and "csrf_token" in g))
    parts = None
    if sessionless and g.pop("token_marked", False):  # rendered here: the marks come out
        parts = response.get_data().split(TOKEN_MARK.encode())
        response.set_data(b"".join(parts))
    elif slot and shared:
        body = response.get_data()
        token = g.get("csrf_token")
        parts = body.split(token.encode()) if token else [body]
    if slot and shared and live_for is None:
        page_cache.page_store(slot, {"parts": parts or [response.get_data()], "search": g.get("full_page_search")})
    if sessionless and shared:
        keep_for = min(g.get(page_cache.PAGE_TTL, float("inf")), float("inf") if live_for is None else live_for)
        page_copies.offer(request.environ, keep_for, g.get("full_page_search"))
    return response


@bp.get("/csrf-token")
def csrf_token_for_page():
    """The CSRF token a page shared by visitors without a session leaves out: the page's
    script asks for it before its first POST. This starts the visitor's session."""
    response = jsonify(token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """The WSGI layer that answers visitors without a session from memory, and the batch
    its searches are kept in (app.extensions["held_searches"])."""
    held = app.extensions["held_searches"] = HeldEvents(app, seconds=app.config["HELD_SEARCH_SECONDS"],
                                                        most=HELD_SEARCHES_MOST)
    page_copies.init_app(app, copied_search_recorder(held))
