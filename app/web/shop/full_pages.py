"""Whole storefront pages for visitors who are not signed in, from the page cache
(app.core.page_cache), before Flask renders anything.

A signed-out visitor with no flashed message sees on home, 分类, 搜索 and a product page
exactly what every other such visitor sees with the same locale and URL, except the
CSRF token: the page is stored cut where the token was and each answer gets the visitor's
own token. Signed-in visitors, HTMX requests, answers other than 200 and pages
that say they are not to be shared (`not_shared()`: a product page with a live 秒杀
block, whose buy form carries a one-off key) are rendered every time, from the shared
fragments. A page is kept as long as the shortest-lived fragment it was made of, with the
generations that invalidate it.

The cut copy is bytes (the rendered body split at the token): an answer is its pieces
joined with the token, with no decoding, replacing or encoding of the ~30 KB page."""
from __future__ import annotations

from flask import g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.core import page_cache
from app.core.htmx import is_htmx
from app.web.shop.blueprint import bp
from app.web.shop.views_tracking import record_search

# The pages kept whole and the arguments each reads: a URL with any other argument is
# rendered from the fragments instead, so made-up query strings cannot multiply the copies.
CACHED_ENDPOINTS = {"shop.home": (), "shop.categories": ("id",),
                    "shop.search": ("q", "category_id", "min_price", "max_price", "promotion", "sort", "page"),
                    "shop.product_page": ("sku", "qty")}
SLOT = "full_page_slot"


def not_shared() -> None:
    """This answer carries something made for this request alone: do not keep it."""
    g.full_page_not_shared = True


def _shareable_request() -> bool:
    return (request.method == "GET" and request.endpoint in CACHED_ENDPOINTS and not is_htmx()
            and all(name in CACHED_ENDPOINTS[request.endpoint] for name in request.args)
            and "_flashes" not in session and not current_user.is_authenticated)


@bp.before_request
def serve_stored_page():
    if not _shareable_request():
        return None
    product_id = (request.view_args or {}).get("product_id")
    found = page_cache.page_lookup(request.endpoint, sorted(request.args.items(multi=True)), product_id)
    if found is None:
        return None
    slot, stored = found
    if stored is None:
        g.full_page_slot = slot
        return None
    response = make_response(generate_csrf().encode().join(stored["parts"]))
    if stored.get("search"):  # recorded for every visitor, as the view does
        record_search(*stored["search"])
    return response


@bp.after_request
def keep_page(response):
    slot = g.pop(SLOT, None)
    if slot and response.status_code == 200 and response.mimetype == "text/html" and not g.get("full_page_not_shared"):
        body = response.get_data()
        token = g.get("csrf_token")
        parts = body.split(token.encode()) if token else [body]
        page_cache.page_store(slot, {"parts": parts, "search": g.get("full_page_search")})
    return response
