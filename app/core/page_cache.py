"""The storefront's shared page cache: fragments that are the same for every visitor
(home blocks, the category tree, search result pages, the product page's body), kept in
Flask-Caching (Redis in production and tests, an in-process SimpleCache in the embedded
default), and the invalidation the services that change the catalogue call.

What it guarantees:

- Only what is the same for everyone goes in: callers render a fragment from catalogue
  data alone (no cart, login state, CSRF token, favourites or distributor link); the
  per-visitor parts of a page are rendered around it on every request.
- A key names everything the fragment varies by: its name, the locale, the request
  arguments it reads, and the generations below (a whole page carries its generations
  in its value instead, one copy per page: `page_lookup`).
- Generations, not deletes: `listing` (every list page: home, categories, search),
  `all` (everything, for shop and category changes) and one per product (its page).
  A service that changes what a page shows calls `product_changed`, `listing_changed`
  or `everything_changed`; the bump is made after the transaction commits (a reader
  racing the commit cannot store the old state under the new generation: it read the
  generation before it read the rows), and is dropped on rollback. Old entries are
  never served again and expire by their timeout (or are replaced, for whole pages).
- Time-driven changes (a promotion or a flash sale starting or ending) are not events:
  a fragment passes the time its content stops being true (`expires_at`) and is kept
  no longer than that.
- Redis down: `fragment` renders without the cache and stops asking Redis for
  RETRY_AFTER_SECONDS, so a page costs a render, never a timeout per request; a bump
  that cannot reach Redis is logged (entries then live at most their timeout).
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from cachelib.redis import RedisCache
from flask import Flask, current_app, g, has_app_context, has_request_context
from flask_babel import get_locale
from flask_caching import Cache
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

cache = Cache()

PREFIX = "pc:"
ALL = "gen:all"
LISTING = "gen:listing"
RETRY_AFTER_SECONDS = 10
PENDING_KEY = "page_cache_pending"
ON_CHANGE = "page_cache_on_change"  # in app.extensions: called on every bump
DOWN_UNTIL = "page_cache_down_until"  # in app.extensions: Redis failed, render without it until then


def redis_backend(app: Flask, config: dict, args: list, kwargs: dict) -> RedisCache:
    """Flask-Caching's backend factory (CACHE_TYPE names it): the app's own Redis client,
    with its short timeouts (app.extensions.redis_options)."""
    return RedisCache(host=app.extensions["redis"].client, key_prefix=PREFIX,
                      default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300))


def init_app(app: Flask) -> None:
    """Redis when the app has one, else an in-process SimpleCache (the embedded default
    runs one process; its invalidations reach that process)."""
    if app.config.get("REDIS_URL"):
        app.config.setdefault("CACHE_TYPE", "app.core.page_cache.redis_backend")
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
        app.config.setdefault("CACHE_KEY_PREFIX", PREFIX)
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    cache.init_app(app)


def _enabled() -> bool:
    return (current_app.config.get("PAGE_CACHE_ENABLED", True)
            and time.monotonic() >= current_app.extensions.get(DOWN_UNTIL, 0.0))


def _failed(exc: BaseException) -> None:
    current_app.extensions[DOWN_UNTIL] = time.monotonic() + RETRY_AFTER_SECONDS
    log.warning("page cache unavailable, rendering without it: %s", exc)


def product_key(product_id: int) -> str:
    return f"gen:p:{int(product_id)}"


def _locale() -> str:
    return str(get_locale() or "zh_Hans_CN")


def _digest(parts: Iterable[Any]) -> str:
    return hashlib.sha1(repr(tuple(parts)).encode()).hexdigest()[:16]


def fragment(name: str, render: Callable[[], tuple[Any, datetime | None]], *, timeout: int,
             vary: Iterable[Any] = (), product_id: int | None = None) -> Any:
    """The value `render()` returns for this fragment, from the cache when it holds one.

    `render` returns (value, expires_at): expires_at is when the value stops being true
    by the clock alone (a promotion ending), or None. The key is the name, the locale,
    `vary`, and the generations that invalidate it: `all` plus `listing` for list pages,
    `all` plus the product's own for a product page."""
    if not _enabled():
        return render()[0]
    gens = [ALL, product_key(product_id) if product_id is not None else LISTING]
    try:
        all_gen, own_gen = (int(v or 0) for v in cache.get_many(*gens))
        scope = f"p{int(product_id)}" if product_id is not None else "l"
        key = f"f:{name}:{_locale()}:{scope}.{all_gen}.{own_gen}:{_digest(vary)}"
        hit = cache.get(key)
    except RedisError as exc:
        _failed(exc)
        return render()[0]
    if hit is not None:  # (value, when it is dropped): a page made with it is kept no longer
        _page_keeps(int(hit[1] - time.time()))
        return hit[0]
    value, expires_at = render()
    if expires_at is not None:
        timeout = min(timeout, int((expires_at - utcnow()).total_seconds()))
    _page_keeps(timeout)
    if timeout > 0:
        try:
            cache.set(key, (value, time.time() + timeout), timeout=timeout)
        except RedisError as exc:
            _failed(exc)
    return value


# --- whole pages: what a page made of fragments may be kept for ---------------------------

PAGE_TTL = "page_cache_ttl"  # in flask.g: the shortest timeout of the fragments a page used


def _page_keeps(seconds: int | None) -> None:
    if has_request_context() and seconds is not None:
        g.setdefault(PAGE_TTL, seconds)
        g.page_cache_ttl = min(g.page_cache_ttl, seconds)


def page_lookup(name: str, vary: Iterable[Any], product_id: int | None = None) -> tuple[tuple[str, str], Any] | None:
    """(slot, stored page or None) for a whole page, or None when the cache is off or down;
    `page_store(slot, ...)` keeps the page rendered on a miss.

    One MGET reads the generations a page may depend on (all, listing, the product's)
    and the one copy kept per page; the copy carries the generations it was made under,
    and one made under any other is not served (a change since: rendered again and the
    copy replaced). As with fragments, the generations are read before the page is
    rendered, so a copy made from rows read before a change always carries the older
    generations. (The generations were in the key, looked up by a Lua script in one
    round trip: Redis spent about 60 µs running it per lookup, against about 3 µs for
    the MGET; bench/request_cost.py.)"""
    if not _enabled():
        return None
    gens = [ALL, LISTING] + ([product_key(product_id)] if product_id is not None else [])
    key = f"page:{name}:{_locale()}:{product_id or ''}:{_digest(vary)}"
    try:
        *values, stored = cache.get_many(*gens, key)
    except RedisError as exc:
        _failed(exc)
        return None
    made_under = ".".join(str(int(v or 0)) for v in values)
    if stored is not None and stored.get("gens") != made_under:
        stored = None
    return (key, made_under), stored


def page_store(slot: tuple[str, str], value: dict) -> None:
    """Keep a whole page (`slot` from `page_lookup`) as long as the shortest-lived
    fragment it was made of, with the generations read before it was rendered."""
    timeout = g.get(PAGE_TTL)
    if not timeout or timeout <= 0:
        return
    key, made_under = slot
    try:
        cache.set(key, {**value, "gens": made_under}, timeout=timeout)
    except RedisError as exc:
        _failed(exc)


# --- invalidation: services call these; the bumps go out after the commit -----------------

def _mark(*keys: str) -> None:
    db.session.info.setdefault(PENDING_KEY, set()).update(keys)


def product_changed(*product_ids: int) -> None:
    """The products' pages and every list page that may show them (edits, prices, images,
    status, stock crossing zero, flash sales of theirs)."""
    _mark(LISTING, *(product_key(pid) for pid in product_ids if pid is not None))


def listing_changed() -> None:
    """Every list page (home, categories, search), product pages untouched."""
    _mark(LISTING)


def everything_changed() -> None:
    """Every fragment (shops opening or closing, categories renamed, moved or hidden)."""
    _mark(ALL)


def on_change(app: Flask, callback: Callable[[], None]) -> None:
    """Call `callback` whenever this app moves a generation on (copies of pages kept
    outside this cache, in process: app/web/shop/page_copies.py)."""
    app.extensions.setdefault(ON_CHANGE, []).append(callback)


def bump(keys: Iterable[str]) -> None:
    """Move the generations on now (what the after-commit hook does). While Redis is
    known to be down the bump is skipped rather than waited for: the entries it would
    have retired are kept at most their timeout."""
    for callback in current_app.extensions.get(ON_CHANGE, ()):
        callback()
    if time.monotonic() < current_app.extensions.get(DOWN_UNTIL, 0.0):
        log.error("page cache down: generations %s not bumped", ", ".join(keys))
        return
    for key in keys:
        try:
            cache.cache.inc(key)
        except RedisError as exc:
            _failed(exc)
            log.error("page cache generation %s not bumped: entries live out their timeout", key)


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    keys = session.info.pop(PENDING_KEY, None)
    if keys and has_app_context():
        bump(sorted(keys))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None or not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)
