"""One place that says what time it is, so tests and jobs agree.

Times are stored in UTC (timezone-aware) and shown in Asia/Shanghai.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Moved only by `travel` (tests): every "now" in the app, jobs included, comes
# from `utcnow`, so a test can let days pass without touching stored dates.
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


_offset_lock = threading.Lock()


@contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Tests and the demo's history: the app's clock runs `delta` ahead inside the block.

    The offset is one for the whole process: travel in the main thread around threads, not
    inside them. Leaving takes back exactly this block's `delta` (rather than restoring the
    value found on entry), so blocks left in another order than entered, as threads would,
    still leave the clock as it was."""
    global _offset
    with _offset_lock:
        _offset += delta
    try:
        yield
    finally:
        with _offset_lock:
            _offset -= delta


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(value).astimezone(SHANGHAI)
