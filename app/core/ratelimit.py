"""Rate limits that services apply by key (a phone number, an account, an IP).

Decorators on routes cannot see "per phone number", so services call `hit()`
here. It uses Flask-Limiter's own storage and strategy (Redis in production
and tests, memory in the embedded default) and honours RATELIMIT_ENABLED.

Redis down: the limits keep working, counted in this process (each web process
counts on its own, so the effective limit is at most one per process times the
number of processes) until Redis answers again. Flask-Limiter does the same for
route limits (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED), but it notices an outage,
and a recovery, only while it evaluates a route limit; the calls here go to its
strategy directly, so they keep their own switch (`_Fallback`).
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from redis.exceptions import RedisError

from app.core.errors import RateLimited
from app.extensions import limiter

log = logging.getLogger(__name__)
# limits wraps the storage's errors (RATELIMIT_STORAGE_OPTIONS wrap_exceptions); the
# others are what a strategy method that bypasses the wrapper can still raise.
STORAGE_ERRORS = (StorageError, RedisError, OSError)
FALLBACK_KEY = "ratelimit_fallback"


class _Fallback:
    """One app's switch to in-process counting while the shared storage is unreachable.

    The first storage error turns it on (logged once, as an error); from then on
    the storage is asked (PING) at most every RATELIMIT_STORAGE_RECHECK_SECONDS,
    and the first answer turns it off again (logged). Counts made meanwhile stay
    in this process and are dropped when the storage is back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None  # wall clock, for the log and /healthz
        self.next_check = 0.0  # monotonic
        self.strategy = None  # Flask-Limiter's strategy over a MemoryStorage

    def active(self, recheck_seconds: float) -> bool:
        if self.down_since is None:
            return False
        now = time.monotonic()
        if now < self.next_check:
            return True
        with self.lock:
            if self.down_since is None:
                return False
            if now < self.next_check:
                return True
            self.next_check = now + recheck_seconds  # before the probe: other threads keep counting here meanwhile
            if not limiter.storage.check():  # check() answers False on any error
                return True
            log.warning("rate-limit storage answers again after %d s: limits are shared again",
                        time.time() - self.down_since)
            self.down_since = None
            return False

    def switch_on(self, exc: BaseException, recheck_seconds: float) -> None:
        with self.lock:
            if self.down_since is None:
                log.error("rate-limit storage unreachable (%s: %s): counting limits in this process until it "
                          "answers again", type(exc).__name__, exc)
                self.strategy = type(limiter.limiter)(MemoryStorage())
                self.down_since = time.time()
            self.next_check = time.monotonic() + recheck_seconds


def _fallback() -> _Fallback:
    return current_app.extensions.setdefault(FALLBACK_KEY, _Fallback())


def storage_down_since() -> float | None:
    """When this process found the rate-limit storage unreachable (epoch seconds), or None."""
    fallback = current_app.extensions.get(FALLBACK_KEY)
    return fallback.down_since if fallback is not None else None


def _call(method: str, *args):
    fallback = _fallback()
    recheck = current_app.config.get("RATELIMIT_STORAGE_RECHECK_SECONDS", 30)
    if not fallback.active(recheck):
        try:
            return getattr(limiter.limiter, method)(*args)
        except STORAGE_ERRORS as exc:
            fallback.switch_on(exc, recheck)
    return getattr(fallback.strategy, method)(*args)


def _enabled() -> bool:
    # This app's setting, not `limiter.enabled`: the Limiter object is process-wide and
    # takes the setting of the last app bound to it (an app made with limits off, as
    # the order-race test's server is, switched them off for every other app).
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def hit(name: str, limit: str, identifier: str, message: str, code: str = "rate_limited") -> None:
    """Count one use of `name` for `identifier`; raise RateLimited (with the seconds
    until the window resets as `retry_after`) when over `limit`."""
    if not _enabled():
        return
    item = parse(limit)
    if not _call("hit", item, name, identifier):
        raise _refusal(name, limit, identifier, message, code)


def hit_all(limits: list[tuple[str, str, str, str, str]]) -> None:
    """Count one use against every (name, limit, identifier, message, code), or against
    none when one is already reached (RateLimited for the first such): a request one
    limit refuses does not use up the others."""
    if not _enabled():
        return
    for name, limit, identifier, message, code in limits:
        if not test(name, limit, identifier):
            raise _refusal(name, limit, identifier, message, code)
    for name, limit, identifier, message, code in limits:
        hit(name, limit, identifier, message, code)  # still refuses if a racing request took the last use


def _refusal(name: str, limit: str, identifier: str, message: str, code: str) -> RateLimited:
    return RateLimited(message, code=code, retry_after=max(1, retry_after_seconds(name, limit, identifier)))


def test(name: str, limit: str, identifier: str) -> bool:
    """True while `identifier` is still within `limit` (does not count a use)."""
    if not _enabled():
        return True
    return _call("test", parse(limit), name, identifier)


def retry_after_seconds(name: str, limit: str, identifier: str) -> int:
    if not _enabled():
        return 0
    reset_at, _remaining = _call("get_window_stats", parse(limit), name, identifier)
    return max(0, int(reset_at - time.time()))


def clear(name: str, limit: str, identifier: str) -> None:
    if _enabled():
        _call("clear", parse(limit), name, identifier)
