"""Database helpers: the unit of work, a timezone-safe datetime column and the
guarded state transition every stateful entity uses.

Services only `flush()`. The caller (view, job, CLI command) owns the unit of
work with `with transaction():`, which commits or rolls back; jobs registered
with `app.core.jobs.enqueue_after_commit` go out only after the commit.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.core.clock import as_utc, utcnow
from app.core.errors import DomainError
from app.core.jobs import send_committed_jobs
from app.extensions import db

log = logging.getLogger(__name__)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """The embedded SQLite (`make run`): write-ahead logging, so pages keep reading while
    a request or the demo seed writes, and fsync at checkpoints rather than at every
    commit (a power cut may lose the last commits, never corrupt the file). The seed
    commits hundreds of times; with a sync per commit that was most of its time."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class UTCDateTime(TypeDecorator):
    """Stores aware UTC datetimes; returns aware UTC datetimes on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return as_utc(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return as_utc(value)


def upsert(model):
    """An INSERT into `model` with `on_conflict_do_nothing` / `on_conflict_do_update` for the
    database in use (PostgreSQL, or the embedded SQLite): same statement, both dialects."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def once_per_transaction(key: str, load: Callable[[], Any]) -> Any:
    """`load()`'s answer, computed once per database transaction and kept in the session
    (a savepoint counts as a transaction of its own, so a rolled-back one leaves nothing
    behind). For reference data many services read in one request (the platform settings,
    the category tree): the identity map keeps rows but not the SELECT that found them.
    Whoever changes what `load` reads calls `forget_for_transaction(key)`."""
    session = db.session()
    cached = session.info.get(key)
    if cached is not None and cached[0] is _innermost_transaction(session):
        return cached[1]
    value = load()
    session.info[key] = (_innermost_transaction(session), value)  # begun by `load` if none was
    return value


def forget_for_transaction(key: str) -> None:
    db.session().info.pop(key, None)


def _innermost_transaction(session):
    return session.get_nested_transaction() or session.get_transaction()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the session when the block succeeds, roll back when it raises."""
    try:
        yield
        db.session.commit()
    except DomainError as exc:
        if exc.keeps_changes:
            db.session.commit()
        else:
            db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    send_committed_jobs(run_inline=run_in_unit_of_work)


def run_in_unit_of_work(func: Callable, *args, **kwargs):
    """Run one job in a unit of work of its own: what it flushes is committed when it
    returns and rolled back when it raises. Every job runs this way, inline (the
    embedded default) or in the worker (`app.worker.UnitOfWorkJob`), so a job's body
    is a service function that only flushes."""
    with transaction():
        return func(*args, **kwargs)


def each(ids: Iterable[int], act: Callable[[int], object], what: str = "") -> int:
    """Run `act(id)` for every id, each in a unit of work of its own, for sweeps: one
    item refused (a DomainError, logged) neither stops the others nor undoes them.
    Returns how many acts returned something true."""
    done = 0
    for item_id in ids:
        try:
            with transaction():
                done += bool(act(item_id))
        except DomainError:
            log.warning("%s skipped %s %s", getattr(act, "__name__", act), what or "item", item_id, exc_info=True)
    return done


def add_unique(row, refusal: DomainError):
    """Insert `row`, or raise `refusal` when a unique constraint says it exists already
    (a second tab, a double click, a racing request). The insert runs in a savepoint, so
    the caller's transaction goes on either way; the database decides, not a read
    before the write. Returns the row, flushed."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise refusal from None
    return row
