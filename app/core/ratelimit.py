"""Rate limits that services apply by key (a phone number, an account, an IP).

Decorators on routes cannot see "per phone number", so services call `hit()`
here. It uses Flask-Limiter's own storage and strategy (Redis in production
and tests, memory in the embedded default) and honours RATELIMIT_ENABLED.
"""
from __future__ import annotations

import time

from limits import parse

from app.core.errors import RateLimited
from app.extensions import limiter


def _enabled() -> bool:
    return bool(limiter.enabled)


def hit(name: str, limit: str, identifier: str, message: str, code: str = "rate_limited") -> None:
    """Count one use of `name` for `identifier`; raise RateLimited (with the seconds
    until the window resets as `retry_after`) when over `limit`."""
    if not _enabled():
        return
    item = parse(limit)
    if not limiter.limiter.hit(item, name, identifier):
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
    return limiter.limiter.test(parse(limit), name, identifier)


def retry_after_seconds(name: str, limit: str, identifier: str) -> int:
    if not _enabled():
        return 0
    reset_at, _remaining = limiter.limiter.get_window_stats(parse(limit), name, identifier)
    return max(0, int(reset_at - time.time()))


def clear(name: str, limit: str, identifier: str) -> None:
    if _enabled():
        limiter.limiter.clear(parse(limit), name, identifier)
