"""Background jobs, sent only after the surrounding transaction commits.

`enqueue_after_commit(func, *args)` remembers the job on the session; when the
session commits the job goes to RQ, or runs inline (the embedded default has
no Redis). On rollback the job is dropped. Jobs take ids, never ORM objects,
and must be safe to run twice.

Redis down: a job that cannot be sent is logged and dropped, never raised, so
the request whose transaction committed still answers normally. Nothing is
lost: every job sent after a commit is also reached by a periodic sweep in
`app/cron_jobs.py` that reads the database (a queued message, an unpaid order
past its deadline, a pending refund, an alert not yet notified, a closed
payment not yet closed at its gateway), so a lost job is only late.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RQStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
PENDING_KEY = "after_commit_jobs"
# Keyword arguments that are RQ's (how to run the job), not the function's: dropped inline.
RQ_OPTIONS = frozenset({"job_timeout", "job_id"})
# What RQ still holds to run (a finished, failed or stopped job is not).
WAITING = frozenset({RQStatus.QUEUED, RQStatus.SCHEDULED, RQStatus.DEFERRED, RQStatus.STARTED})
QUEUE_NAMES = ("high", "default", "low")


def get_redis():
    holder = current_app.extensions.get("redis")
    return holder.client if holder else None


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis())


def waiting_in_queue(job_id: str) -> bool:
    """Whether RQ holds the job sent with `job_id=job_id` still to run (queued, scheduled,
    deferred or running). False when it has no such job (never sent, lost with Redis,
    expired), when it has finished or failed, when jobs run inline, or when Redis does
    not answer (the caller sends it again, which then fails the usual way)."""
    redis = get_redis()
    if redis is None or current_app.config.get("JOBS_INLINE"):
        return False
    try:
        return Job.fetch(job_id, connection=redis).get_status() in WAITING
    except (NoSuchJobError, RedisError):
        return False


def enqueue_after_commit(func: Callable, *args: Any, queue: str = "default", retry: bool = True, **kwargs: Any) -> None:
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append((func, args, kwargs, queue, retry))


def schedule_after_commit(func: Callable, *args: Any, at: datetime, queue: str = "default") -> None:
    """Run `func(*args)` at `at` (after the commit). Without Redis nothing is
    scheduled: the periodic sweep that backs every scheduled effect does the work."""
    enqueue_after_commit(_ScheduledCall(func, at), *args, queue=queue, retry=False)


class _ScheduledCall:
    """Marks a pending job as 'run at', so `dispatch` uses `enqueue_at`."""

    def __init__(self, func: Callable, at: datetime) -> None:
        self.func, self.at = func, at
        self.__name__ = getattr(func, "__name__", "scheduled")


def dispatch(func: Callable, args: tuple, kwargs: dict, queue: str = "default", retry: bool = True,
             run_inline: Callable = None) -> None:
    """Send one job now: to RQ when Redis is configured, else run it inline with
    `run_inline(func, *args, **kwargs)` (the caller's unit of work for one job).
    A job RQ cannot take (Redis unreachable) is logged and left to its sweep."""
    try:
        _send(func, args, kwargs, queue, retry, run_inline)
    except RedisError as exc:
        _queue_unreachable(func, args, exc)
        return
    _queue_reachable()


class _QueueState:
    """Whether the last send of this process failed, so an outage is logged as an
    error once (with the cause) and each job it drops as one warning line."""

    lock = threading.Lock()
    down = False


def _queue_unreachable(func: Callable, args: tuple, exc: BaseException) -> None:
    with _QueueState.lock:
        first, _QueueState.down = not _QueueState.down, True
    if first:
        log.error("job queue unreachable (%s: %s): jobs are dropped until it answers; their sweeps do the work",
                  type(exc).__name__, exc)
    log.warning("job %s%r not sent (queue unreachable); left to its sweep", getattr(func, "__name__", func), args)


def _queue_reachable() -> None:
    if _QueueState.down:
        with _QueueState.lock:
            was_down, _QueueState.down = _QueueState.down, False
        if was_down:
            log.warning("job queue answers again")


def _send(func: Callable, args: tuple, kwargs: dict, queue: str, retry: bool, run_inline: Callable) -> None:
    if isinstance(func, _ScheduledCall):
        if not current_app.config.get("JOBS_INLINE") and get_redis() is not None:
            get_queue(queue).enqueue_at(func.at, func.func, *args, **kwargs)
        return
    if current_app.config.get("JOBS_INLINE") or get_redis() is None:
        kwargs = {name: value for name, value in kwargs.items() if name not in RQ_OPTIONS}
        try:
            run_inline(func, *args, **kwargs)
        except Exception:  # inline jobs must not break the request that caused them
            log.exception("inline job %s failed", func.__name__)
        return
    intervals = list(current_app.config.get("JOB_RETRY_INTERVALS", (10, 60, 300)))
    get_queue(queue).enqueue(
        func, *args, **kwargs,
        retry=Retry(max=len(intervals), interval=intervals) if retry and intervals else None,
    )


READY_KEY = "committed_jobs"


@event.listens_for(Session, "after_commit")
def _release_pending_jobs(session: Session) -> None:
    # No SQL may run inside after_commit, and inline jobs need the session, so
    # the jobs are only marked ready here; `send_committed_jobs` sends them.
    pending = session.info.pop(PENDING_KEY, [])
    if pending:
        session.info.setdefault(READY_KEY, []).extend(pending)


def send_committed_jobs(run_inline: Callable) -> None:
    """Send the jobs whose transaction has committed (called by `transaction()`, which
    passes how to run one job in its own unit of work when jobs run inline)."""
    ready = db.session.info.pop(READY_KEY, [])
    for func, args, kwargs, queue, retry in ready:
        dispatch(func, args, kwargs, queue, retry, run_inline)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_jobs(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None or not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)
