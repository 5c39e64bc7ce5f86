"""Monthly partitions of the behaviour events table on PostgreSQL.

`events` is the biggest table the shop has (every page view, click and impression), and
almost every read of it is "this type, in this range of days"; retention throws away
whole months. On PostgreSQL it is therefore declared `PARTITION BY RANGE (created_at)`
(migration 0016) with one partition per calendar month (UTC), named `events_pYYYYMM`,
and a default partition `events_default` as a safety net, so an insert never fails for
want of a month.

Guarantees:
- `ensure_partitions()` (daily job, and at migration time) creates the partitions of the
  current month and `MONTHS_AHEAD` months after it. If the default partition already holds
  rows of a month being created (the job had not run), they are moved into the new
  partition in the same transaction, with the default detached meanwhile, so no row is
  lost or seen twice.
- `drop_partitions_before(cutoff)` drops the partitions that end on or before `cutoff`
  (retention in O(1) per month instead of deleting row by row); rows of the month that
  straddles the cutoff, and of the default partition, are left to the batch delete in
  `tracking.purge_old_events`.
- Elsewhere (SQLite, the embedded default) `events` is a plain table and both are no-ops.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from app.core.clock import utcnow
from app.extensions import db

MONTHS_AHEAD = 2
PREFIX = "events_p"
DEFAULT = "events_default"


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def partition_name(first: date) -> str:
    return f"{PREFIX}{first:%Y%m}"


def _bound(first: date) -> str:
    return datetime(first.year, first.month, 1, tzinfo=UTC).isoformat()


def is_partitioned(connection=None) -> bool:
    """Whether `events` is a partitioned table here (PostgreSQL after migration 0016)."""
    connection = connection or db.session.connection()
    if connection.dialect.name != "postgresql":
        return False
    return connection.execute(sa.text(
        "SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = to_regclass('events')")).scalar() is True


def existing(connection) -> set[str]:
    rows = connection.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('events')")).scalars()
    return set(rows)


def create_month(connection, first: date) -> bool:
    """Create the partition of the month starting `first` unless it exists; rows of that
    month already sitting in the default partition move into it. Returns True if created."""
    name = partition_name(first)
    if name in existing(connection):
        return False
    low, high = _bound(first), _bound(next_month(first))
    has_default = DEFAULT in existing(connection)
    if has_default:
        # A new range may not overlap rows in the default: take the default out, create the
        # month, move its rows, put the default back (all in the caller's transaction).
        connection.execute(sa.text(f"ALTER TABLE events DETACH PARTITION {DEFAULT}"))
    connection.execute(sa.text(
        f"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ('{low}') TO ('{high}')"))
    if has_default:
        connection.execute(sa.text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created_at >= :low AND created_at < :high RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"), {"low": low, "high": high})
        connection.execute(sa.text(f"ALTER TABLE events ATTACH PARTITION {DEFAULT} DEFAULT"))
    return True


def ensure_partitions(connection=None, today: date | None = None, since: date | None = None) -> list[str]:
    """Partitions from `since`'s month (default: this month) to MONTHS_AHEAD months ahead.
    Returns the names created. Flushes nothing through the ORM; the caller commits."""
    connection = connection or db.session.connection()
    if not is_partitioned(connection):
        return []
    today = today or utcnow().date()
    first, last = month_start(since or today), month_start(today)
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    created = []
    while first <= last:
        if create_month(connection, first):
            created.append(partition_name(first))
        first = next_month(first)
    return created


def drop_partitions_before(cutoff: datetime, connection=None) -> list[str]:
    """Drop the month partitions whose whole month is older than `cutoff`."""
    connection = connection or db.session.connection()
    if not is_partitioned(connection):
        return []
    dropped = []
    for name in sorted(existing(connection)):
        if not name.startswith(PREFIX):
            continue
        first = date(int(name[len(PREFIX):len(PREFIX) + 4]), int(name[-2:]), 1)
        if datetime.fromisoformat(_bound(next_month(first))) <= cutoff:
            connection.execute(sa.text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped


def maintain_event_partitions() -> list[str]:
    """Daily job: the coming months' partitions exist before their first event."""
    return ensure_partitions()
