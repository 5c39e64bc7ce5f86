"""The 经常一起买 job: `recompute_rules` mines and stores the rules of every scope (nightly,
from app/cron_jobs.py) or of one shop (its merchant's button), and `request_recompute`
sends it from a page at most once at a time.

"Queued or running" is a Redis key per scope (`all`, or a shop's id) with an expiry, set by
`request_recompute` (SET NX: a second click while it is there is refused as busy) and by the
job itself while it runs, removed when the job ends. The expiry frees a key a killed worker
left behind. Without Redis (the embedded default) the job runs inline after the commit, so
there is nothing to guard.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.analytics import recompute
from app.analytics.rules import Thresholds
from app.core.db import transaction
from app.core.jobs import enqueue_after_commit, get_redis

log = logging.getLogger(__name__)

BUSY_SECONDS = 30 * 60  # longer than a run; frees the guard a dead worker leaves behind
KEY = "analytics:rules:recompute:{}"


def _key(merchant_id: int | None) -> str:
    return KEY.format("all" if merchant_id is None else merchant_id)


def recompute_rules(merchant_id: int | None = None) -> int:
    """Job: recompute the rules of every scope (or only the shop `merchant_id`), each scope
    replaced in a transaction of its own. Idempotent. Returns how many rules it kept."""
    redis = get_redis()
    _mark(redis, merchant_id)
    try:
        thresholds = Thresholds.from_settings()
        kept = 0
        for result in recompute.mine_scopes(thresholds, merchant_id):
            with transaction():
                recompute.store_scope(result, thresholds)
            kept += len(result.rules)
        log.info("association rules recomputed (%s): %d kept", "all" if merchant_id is None else merchant_id, kept)
        return kept
    finally:
        _clear(redis, merchant_id)


def request_recompute(merchant_id: int | None = None) -> bool:
    """Send `recompute_rules` after the commit, unless one for the same scope (or, for a
    shop, the whole run) is queued or running: returns False then, and sends nothing."""
    redis = get_redis()
    if redis is not None:
        try:
            if merchant_id is not None and redis.exists(_key(None)):
                return False
            if not redis.set(_key(merchant_id), "queued", nx=True, ex=BUSY_SECONDS):
                return False
        except RedisError:
            log.warning("recompute guard unavailable (Redis); sending the job anyway")
    enqueue_after_commit(recompute_rules, merchant_id, queue="low", retry=False)
    return True


def is_busy(merchant_id: int | None = None) -> bool:
    """Is a recompute covering this scope queued or running? (False without Redis.)"""
    redis = get_redis()
    if redis is None:
        return False
    try:
        keys = [_key(None)] + ([] if merchant_id is None else [_key(merchant_id)])
        return bool(redis.exists(*keys))
    except RedisError:
        return False


def _mark(redis, merchant_id: int | None) -> None:
    if redis is None:
        return
    try:
        redis.set(_key(merchant_id), "running", ex=BUSY_SECONDS)
    except RedisError:
        pass


def _clear(redis, merchant_id: int | None) -> None:
    if redis is None:
        return
    try:
        redis.delete(_key(merchant_id))
    except RedisError:
        pass
