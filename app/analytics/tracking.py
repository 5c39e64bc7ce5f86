"""Behaviour tracking (埋点): what the shop's pages and the mini-program report, checked,
normalised and buffered so taking them costs a request one Redis round trip.

Guarantees:
- `record_batch` accepts a whole batch or nothing: one malformed event refuses the batch
  with `InvalidBatch` (400 `invalid_events`, naming the field) and nothing is kept.
- Client times are not trusted: `ts` is clamped to [now - 1 day, now].
- Bots (by user agent) and visitors asking not to be tracked (`DNT: 1`, `Sec-GPC: 1`)
  are dropped silently: the answer counts 0 accepted.
- Where events go: with Redis, onto the list `BUFFER_KEY`, written in batches by the
  `flush_buffer` job (sent when the list starts filling or passes a multiple of
  `FLUSH_EVERY`, and swept every minute from `app/cron_jobs.py`). Jobs inline (the
  embedded default, no Redis) or Redis unreachable: written at once in the caller's
  transaction, so an outage loses nothing.
- Server-side events (search, add to cart, order, pay, refund) are written at once by
  `record_server_event`, in the transaction of what they record.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError

from app.analytics import partitions
from app.analytics.errors import AnalyticsError
from app.analytics.models import Event
from app.catalog.models import Product
from app.core import ratelimit, settings
from app.core.bounds import MAX_INT, to_int
from app.core.clock import utcnow
from app.core.db import transaction
from app.core.errors import ValidationError
from app.core.jobs import enqueue_after_commit, get_queue, get_redis
from app.extensions import db

log = logging.getLogger(__name__)

CLIENT_TYPES = frozenset({"page_view", "click", "impression"})
# "order" is what checkout has always written for a submitted order ("checkout" in the issue).
SERVER_TYPES = frozenset({"search", "add_to_cart", "checkout", "order", "pay", "refund"})
EVENT_TYPES = CLIENT_TYPES | SERVER_TYPES
EVENT_FIELDS = frozenset({"type", "ts", "path", "product_id", "dwell_ms", "props"})

MAX_BATCH = 50
MAX_PATH = 300
MAX_DWELL_MS = 30 * 60 * 1000
MAX_PROPS = 10
MAX_PROP_KEY = 32
MAX_PROP_TEXT = 100
CLOCK_SKEW = timedelta(days=1)

# Case-insensitive pieces of a user agent that mean "not a person". HeadlessChrome is
# what automation (Playwright, Puppeteer, scrapers) reports; our browser tests that
# check tracking give their context an ordinary Chrome user agent.
BOT_MARKERS = ("bot", "spider", "crawler", "crawl", "slurp", "headless", "phantomjs", "selenium", "puppeteer",
               "playwright", "python-requests", "python-urllib", "curl/", "wget/", "httpclient", "go-http-client",
               "okhttp", "scrapy", "lighthouse", "pingdom", "uptime", "monitor", "preview", "facebookexternalhit",
               "bingpreview", "yandex", "baiduspider", "sogou", "360spider", "bytespider", "petalbot")

BUFFER_KEY = "analytics:events"
FLUSH_EVERY = 200  # buffered events that earn a flush job before the minute's sweep
FLUSH_BATCH = 500  # rows written per transaction by `flush_buffer`
FLUSH_MAX_BATCHES = 100  # per run; the sweep (or the next trigger) takes the rest

# Takes up to ARGV[1] events off the buffer in one step: LRANGE and LTRIM run atomically,
# so two flushers never take the same event and a taken event is no longer in Redis.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then redis.call('LTRIM', KEYS[1], #items, -1) end
return items
"""


class InvalidBatch(ValidationError):
    """A batch the service refuses whole (400, as the issue asks, not the API's usual 422)."""

    status = 400
    code = AnalyticsError.INVALID_EVENTS


@dataclass(frozen=True)
class Visitor:
    """Who sent a batch: a signed-in user and/or the anonymous id of the browser or app."""

    user_id: int | None
    anon_id: str | None


def valid_anon_id(raw: str | None) -> str | None:
    """An anonymous id as the cookie or the mini-program sends it (8..40 letters, digits, dashes), else None."""
    value = (raw or "").strip()
    if 8 <= len(value) <= 40 and value.replace("-", "").isalnum() and value.isascii():
        return value
    return None


def is_bot(user_agent: str | None) -> bool:
    """True for an empty user agent or one naming a crawler, a monitor or a headless browser."""
    agent = (user_agent or "").lower()
    return not agent.strip() or any(marker in agent for marker in BOT_MARKERS)


def do_not_track(headers) -> bool:
    """The request asks not to be tracked: `DNT: 1` or Global Privacy Control `Sec-GPC: 1`."""
    return (headers.get("DNT") or "").strip() == "1" or (headers.get("Sec-GPC") or "").strip() == "1"


# --- checking one event -------------------------------------------------------------------------


def _refuse(index: int, field: str, message: str) -> InvalidBatch:
    return InvalidBatch(f"events.{index}.{field}: {message}", fields={f"events.{index}.{field}": message})


def _number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _normalise(index: int, raw: Any, now: datetime) -> dict:
    if not isinstance(raw, dict):
        raise _refuse(index, "type", "each event must be an object")
    unknown = sorted(set(raw) - EVENT_FIELDS)
    if unknown:
        raise _refuse(index, unknown[0], "unknown field")
    kind = raw.get("type")
    if kind not in CLIENT_TYPES:
        raise _refuse(index, "type", f"one of {', '.join(sorted(CLIENT_TYPES))}")

    ts = raw.get("ts")
    if ts is None:
        at = now
    elif _number(ts) and ts == ts:  # milliseconds since the epoch (not NaN)
        earliest, latest = (now - CLOCK_SKEW).timestamp() * 1000, now.timestamp() * 1000
        at = datetime.fromtimestamp(min(max(ts, earliest), latest) / 1000, UTC)
    else:
        raise _refuse(index, "ts", "milliseconds since 1970-01-01 UTC")

    path = raw.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH
                             or not path.isprintable()):
        raise _refuse(index, "path", f"a path starting with / of at most {MAX_PATH} characters")

    product_id = raw.get("product_id")
    if product_id is not None:
        product_id = to_int(product_id, 1, MAX_INT) if isinstance(product_id, int) else None
        if product_id is None:
            raise _refuse(index, "product_id", "an id (1..2147483647)")

    dwell = raw.get("dwell_ms")
    if dwell is not None:
        if not _number(dwell) or dwell != dwell:  # NaN
            raise _refuse(index, "dwell_ms", "a number of milliseconds")
        dwell = int(min(max(dwell, 0), MAX_DWELL_MS))

    return {"type": kind, "created_at": at, "path": path, "product_id": product_id, "dwell_ms": dwell,
            "props": _props(index, raw.get("props"))}


def _props(index: int, raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_PROPS:
        raise _refuse(index, "props", f"an object of at most {MAX_PROPS} values")
    props = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key or len(key) > MAX_PROP_KEY:
            raise _refuse(index, "props", f"names of 1..{MAX_PROP_KEY} characters")
        if isinstance(value, str):
            if len(value) > MAX_PROP_TEXT:
                raise _refuse(index, "props", f"texts of at most {MAX_PROP_TEXT} characters")
        elif not _number(value) or value != value or abs(value) == float("inf"):
            raise _refuse(index, "props", "texts or numbers only (no nesting)")
        props[key] = value
    return props


def normalise_batch(events: Any) -> list[dict]:
    """The batch checked and normalised, or `InvalidBatch` naming the first problem."""
    if not isinstance(events, list):
        raise InvalidBatch("events: a list", fields={"events": "a list of 1..50 events"})
    if not 1 <= len(events) <= MAX_BATCH:
        raise InvalidBatch(f"events: 1..{MAX_BATCH} per batch", fields={"events": f"1..{MAX_BATCH} events per batch"})
    now = utcnow()
    return [_normalise(i, event, now) for i, event in enumerate(events)]


# --- taking a batch -----------------------------------------------------------------------------


def record_batch(events: list[dict], *, user_id: int | None, anon_id: str | None, user_agent: str | None,
                 dnt: bool) -> int:
    """Check the client's batch (whole or nothing, `InvalidBatch`), then keep it unless the
    visitor is a bot or asks not to be tracked. Returns how many events were kept.

    Kept events are pushed to Redis for `flush_buffer`; with jobs inline, or Redis
    unreachable, they are added to the caller's transaction instead."""
    rows = normalise_batch(events)
    if dnt or is_bot(user_agent):
        return 0
    visitor = Visitor(user_id, valid_anon_id(anon_id))
    for row in rows:
        row["user_id"], row["anon_id"] = visitor.user_id, visitor.anon_id
    if not _buffer(rows):
        _write(rows)
        db.session.flush()
    return len(rows)


# A page sends a batch when it is hidden and every few seconds of impressions; 240 batches a
# minute from one address is far beyond a person and cheap to refuse.
BATCHES_PER_IP = "240/minute"


def limit_batches(ip: str | None) -> None:
    """Count one batch from `ip`; RateLimited (429) past BATCHES_PER_IP."""
    ratelimit.hit("event-batches-ip", BATCHES_PER_IP, ip or "unknown", _("请求过于频繁，请稍后再试"))


def record_server_event(kind: str, *, user_id: int | None = None, anon_id: str | None = None,
                        product_id: int | None = None, merchant_id: int | None = None, query: str | None = None,
                        path: str | None = None, props: dict | None = None) -> Event:
    """A server-side event (search, add to cart, order, pay, refund), added to the caller's
    transaction so it exists exactly when what it records does."""
    if kind not in SERVER_TYPES:
        raise ValueError(f"not a server-side event type: {kind}")
    event = Event(type=kind, user_id=user_id, anon_id=valid_anon_id(anon_id), product_id=product_id,
                  merchant_id=merchant_id, query=query[:100] if query else None,
                  path=path[:MAX_PATH] if path else None, props=props or {})
    db.session.add(event)
    return event


def search_row(query: str, results: int, *, user_id: int | None, anon_id: str | None, path: str | None) -> dict:
    """A storefront search as a buffered event row (what `buffer_search` keeps)."""
    return {"type": "search", "created_at": utcnow(), "path": path[:MAX_PATH] if path else None,
            "query": query[:100], "props": {"results": results}, "user_id": user_id, "anon_id": valid_anon_id(anon_id)}


def buffer_search(query: str, results: int, *, user_id: int | None, anon_id: str | None, path: str | None) -> bool:
    """A storefront search, kept like the client's events (the Redis buffer that
    `flush_buffer` writes), so a search costs no transaction of its own. False when it was
    added to the caller's transaction instead (jobs inline, Redis unreachable): commit it."""
    row = search_row(query, results, user_id=user_id, anon_id=anon_id, path=path)
    if _buffer([row]):
        return True
    _write([row])
    return False


def keep_rows(rows: list[dict]) -> None:
    """Event rows into the Redis buffer, or, when they cannot be buffered (jobs inline,
    Redis unreachable), written in a transaction of their own (app.analytics.held_events)."""
    if not _buffer(rows):
        with transaction():
            _write(rows)


def _buffer(rows: list[dict]) -> bool:
    """Push to the Redis buffer; False when the events must be written now instead."""
    redis = get_redis()
    if current_app.config.get("JOBS_INLINE") or redis is None:
        return False
    encoded = [json.dumps({**row, "created_at": row["created_at"].isoformat()}, ensure_ascii=False) for row in rows]
    try:
        length = redis.rpush(BUFFER_KEY, *encoded)
        if length == len(encoded) or length // FLUSH_EVERY != (length - len(encoded)) // FLUSH_EVERY:
            get_queue("low").enqueue(flush_buffer)
    except RedisError as exc:
        log.warning("analytics buffer unreachable (%s): %d events written at once", type(exc).__name__, len(rows))
        return False
    return True


def _write(rows: list[dict]) -> None:
    """Insert rows (one statement), each product event with its product's shop."""
    product_ids = {row["product_id"] for row in rows if row.get("product_id")}
    shops = dict(db.session.execute(sa.select(Product.id, Product.merchant_id)
                                    .where(Product.id.in_(product_ids))).all()) if product_ids else {}
    values = [{"type": row["type"], "created_at": row["created_at"], "path": row.get("path"),
               "product_id": row.get("product_id"), "merchant_id": row.get("merchant_id") or shops.get(row.get("product_id")),
               "dwell_ms": row.get("dwell_ms"), "props": row.get("props") or {}, "user_id": row.get("user_id"),
               "anon_id": row.get("anon_id"), "query": row.get("query")} for row in rows]
    db.session.execute(sa.insert(Event), values)


def _decode(item: bytes | str) -> dict | None:
    try:
        row = json.loads(item)
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        return row
    except (ValueError, KeyError, TypeError):
        log.warning("analytics buffer: unreadable item dropped: %r", item[:200])
        return None


def flush_buffer() -> int:
    """Job and sweep: write the buffered events to the database. Returns how many.

    Why this is idempotent: each batch is *claimed* first by one Lua script (LRANGE +
    LTRIM, atomic in Redis), so an event leaves the buffer exactly once and two
    flushers running together never both take it; then the batch is inserted and
    committed in a transaction of its own. If the insert fails before the commit the
    batch is pushed back (nothing of it was written). A crash of the process between
    the claim and the commit loses that one batch (at most FLUSH_BATCH events) instead
    of writing it twice: re-reading after a commit we cannot see would duplicate rows,
    and for behaviour counts a small gap is better than inflated figures. (Making it
    exactly-once would need a unique event id column; not worth a migration here.)
    Running it again, or while another runs, writes nothing twice."""
    redis = get_redis()
    if redis is None:
        return 0
    claim = redis.register_script(_CLAIM)
    written = 0
    for _batch in range(FLUSH_MAX_BATCHES):
        items = claim(keys=[BUFFER_KEY], args=[FLUSH_BATCH])
        if not items:
            break
        rows = [row for row in map(_decode, items) if row is not None]
        if not rows:
            continue
        try:
            with transaction():
                _write(rows)
                db.session.flush()
                written += len(rows)
        except Exception:
            redis.rpush(BUFFER_KEY, *items)  # not committed: give the batch back
            raise
    return written


# --- people -------------------------------------------------------------------------------------


def merge_anonymous(anon_id: str | None, user_id: int) -> int:
    """At sign-in: the anonymous id's events that belong to nobody become the user's.
    Runs now for what is written, and once more after the commit (as a job that flushes
    the buffer first) for events still waiting in Redis. Returns the rows merged now."""
    anon = valid_anon_id(anon_id)
    if anon is None:
        return 0
    merged = _merge(anon, user_id)
    if get_redis() is not None and not current_app.config.get("JOBS_INLINE"):
        enqueue_after_commit(merge_buffered, anon, user_id, queue="low")
    return merged


def _merge(anon: str, user_id: int) -> int:
    result = db.session.execute(sa.update(Event).where(Event.anon_id == anon, Event.user_id.is_(None))
                                .values(user_id=user_id).execution_options(synchronize_session=False))
    return result.rowcount


def merge_buffered(anon_id: str, user_id: int) -> int:
    """Job: flush the buffer, then merge again (the events sent just before sign-in)."""
    flush_buffer()
    return _merge(anon_id, user_id)


# --- retention ----------------------------------------------------------------------------------


PURGE_BATCH = 5000


def purge_old_events() -> int:
    """Daily: delete events older than the `analytics_retention_days` setting: the month
    partitions wholly before the cutoff are dropped (PostgreSQL), then what is left is
    deleted in batches of PURGE_BATCH rows each committed on its own (no long lock on a
    big table). Returns the rows deleted one by one. Re-running deletes nothing more."""
    with transaction():
        cutoff = utcnow() - timedelta(days=settings.get("analytics_retention_days"))
        # Whole months past the cutoff go at once on PostgreSQL; the rest row by row.
        partitions.drop_partitions_before(cutoff)
    deleted = 0
    while True:
        with transaction():
            ids = sa.select(Event.id).where(Event.created_at < cutoff).order_by(Event.id).limit(PURGE_BATCH)
            count = db.session.execute(sa.delete(Event).where(Event.id.in_(ids.scalar_subquery()))
                                       .execution_options(synchronize_session=False)).rowcount
        deleted += count
        if count < PURGE_BATCH:
            return deleted
