"""Long jobs a person waits for, with a progress bar: a report being written, a message
going out to a customer segment.

A `TrackedJob` row is what the person watches (its status, `done` of `total`, its result);
the work is an RQ job (inline in the embedded default) that runs the handler registered
for the row's `kind` with `@handler("report")`.

Guarantees:
- `create(...)` flushes a `queued` row and sends `run_tracked(id)` after the commit; a
  job that could not be sent (Redis down) is sent again by `sweep_tracked_jobs`.
- `run_tracked` moves `queued → running` with the guarded UPDATE of the lifecycle, so a
  job sent twice (the original and the sweep's) runs once.
- `Progress.set_total` / `Progress.advance` write the counts and COMMIT the session: what
  the handler wrote so far is kept together with its progress, so a handler that works
  in batches (messages sent to 500 people) commits each batch with its count, and the jobs
  it queued so far are sent then. They stop
  the handler (`JobAbandoned`) when the row is no longer running (the sweep gave up on it).
- The handler's return value (a small JSON-able dict) becomes `result` and the row
  `done`; an exception makes it `failed` with a short reason for the person (the
  traceback goes to the log). It is not retried: a person starts a failed job again.
- `sweep_tracked_jobs` fails a running job that has not moved for `STALLED_AFTER` (its
  worker died), and re-sends queued ones older than `RESEND_AFTER` that RQ no longer
  holds (each is sent under its own RQ job id, `rq_job_id`).
Who may see a row is the caller's business: `for_shop` / `for_platform` give the
scoped queries (a shop's rows never come out of the platform's and the other way).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime, run_in_unit_of_work
from app.core.errors import DomainError, NotFound
from app.core.jobs import enqueue_after_commit, send_committed_jobs, waiting_in_queue
from app.core.labels import StatusLabels, Tone
from app.core.lifecycle import Lifecycle, act, try_move
from app.extensions import db

log = logging.getLogger(__name__)

RESEND_AFTER = timedelta(minutes=2)
STALLED_AFTER = timedelta(minutes=30)  # without progress
RUN_LIMIT_SECONDS = 3600  # RQ stops a tracked job after an hour however it progresses (its default is 3 minutes)
ERROR_MAX = 200


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


FINISHED = (JobStatus.DONE, JobStatus.FAILED)

TRACKED_JOB_LIFECYCLE = Lifecycle("tracked_job", JobStatus, (
    act("start", JobStatus.QUEUED, JobStatus.RUNNING),
    act("finish", JobStatus.RUNNING, JobStatus.DONE),
    act("fail", (JobStatus.QUEUED, JobStatus.RUNNING), JobStatus.FAILED),
))

TRACKED_JOB_LABELS = StatusLabels("tracked_job", {
    JobStatus.QUEUED: _l("排队中"),
    JobStatus.RUNNING: _l("进行中"),
    JobStatus.DONE: _l("已完成"),
    JobStatus.FAILED: _l("失败"),
}, {
    JobStatus.QUEUED: Tone.PENDING,
    JobStatus.RUNNING: Tone.REVIEW,
    JobStatus.DONE: Tone.GOOD,
    JobStatus.FAILED: Tone.BAD,
})


class TrackedJob(TimestampMixin, db.Model):
    """One long job someone started and watches. `merchant_id` is the shop whose data it
    works on (None: the platform's)."""

    __tablename__ = "tracked_jobs"
    __table_args__ = (
        sa.CheckConstraint("done >= 0 AND total >= 0", name="counts_not_negative"),
        sa.Index("ix_tracked_jobs_scope", "kind", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    merchant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=JobStatus.QUEUED)
    done: Mapped[int] = mapped_column(nullable=False, default=0)
    total: Mapped[int] = mapped_column(nullable=False, default=0)  # 0 while not known yet
    params: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    result: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last progress: stalled jobs are found by it
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.DONE

    @property
    def failed(self) -> bool:
        return self.status == JobStatus.FAILED

    @property
    def percent(self) -> int:
        """0–100 for the bar: 100 once done, the share of `total` while running."""
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


class JobAbandoned(Exception):
    """The row stopped being `running` under the handler (the sweep failed it)."""


_HANDLERS: dict[str, Callable[[TrackedJob, Progress], dict | None]] = {}


def handler(kind: str):
    """Register the function that does the work of `kind` jobs: `fn(job, progress) -> result dict`."""
    def register(fn):
        _HANDLERS[kind] = fn
        return fn
    return register


class Progress:
    """Handed to a handler: reports how far it got, committing with each report."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = 0

    def set_total(self, total: int) -> None:
        self._write(total=max(0, int(total)))

    def advance(self, count: int = 1) -> None:
        self.done += max(0, int(count))
        self._write(done=self.done)

    def _write(self, **values) -> None:
        moved = db.session.execute(
            sa.update(TrackedJob).where(TrackedJob.id == self.job_id, TrackedJob.status == JobStatus.RUNNING)
            .values(moved_at=utcnow(), **values).execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            db.session.rollback()
            raise JobAbandoned(self.job_id)
        db.session.commit()
        # Jobs the handler queued before this commit (a batch's SMS) go now, not when it ends.
        send_committed_jobs(run_in_unit_of_work)


def create(kind: str, title: str, *, merchant_id: int | None, requested_by_id: int | None,
           params: dict | None = None) -> TrackedJob:
    """A queued job row; its work is sent after the caller's commit. Flushes only."""
    if kind not in _HANDLERS:
        raise ValueError(f"no handler registered for tracked job kind {kind!r}")
    job = TrackedJob(kind=kind, title=title[:120], merchant_id=merchant_id, requested_by_id=requested_by_id,
                     params=params or {})
    db.session.add(job)
    db.session.flush()
    _send_after_commit(job.id)
    return job


def rq_job_id(job_id: int) -> str:
    """The id its RQ job is sent under, so the sweep can tell one still waiting in the
    queue from one that was lost."""
    return f"tracked-job-{job_id}"


def _send_after_commit(job_id: int) -> None:
    enqueue_after_commit(run_tracked, job_id, queue="low", retry=False, job_timeout=RUN_LIMIT_SECONDS,
                         job_id=rq_job_id(job_id))


def run_tracked(job_id: int) -> None:
    """The RQ job: run the handler of a queued row once. Safe to run twice."""
    if not try_move(TRACKED_JOB_LIFECYCLE, TrackedJob, job_id, "start",
                    values={"started_at": utcnow(), "moved_at": utcnow()}):
        return
    db.session.commit()
    job = db.session.get(TrackedJob, job_id)
    try:
        result = _HANDLERS[job.kind](job, Progress(job_id)) or {}
    except JobAbandoned:
        log.warning("tracked job %s was given up while it ran", job_id)
        return
    except Exception as exc:
        db.session.rollback()
        log.exception("tracked job %s (%s) failed", job_id, job.kind)
        shown = exc.message if isinstance(exc, DomainError) and exc.message else str(_l("任务失败，请稍后重试"))
        _fail(job_id, shown)
        return
    if not try_move(TRACKED_JOB_LIFECYCLE, TrackedJob, job_id, "finish",
                    values={"result": result, "finished_at": utcnow(), "moved_at": utcnow()}):
        # The sweep gave up on it during a long silent step; the person already sees it failed.
        log.warning("tracked job %s finished after it was given up; its result is dropped", job_id)


def _fail(job_id: int, reason: str) -> None:
    try_move(TRACKED_JOB_LIFECYCLE, TrackedJob, job_id, "fail",
             values={"error": str(reason)[:ERROR_MAX], "finished_at": utcnow()})


def sweep_tracked_jobs() -> dict:
    """Periodic: fail jobs whose worker died (running, no progress for STALLED_AFTER) and
    re-send queued jobs whose first sending was lost. A queued job RQ still holds (behind
    a long backlog on the `low` queue) is left where it is: sending it again would only
    stack copies of it in the queue."""
    now = utcnow()
    stalled = db.session.scalars(sa.select(TrackedJob.id).where(
        TrackedJob.status == JobStatus.RUNNING, TrackedJob.moved_at < now - STALLED_AFTER)).all()
    for job_id in stalled:
        _fail(job_id, str(_l("任务中断，请重新发起")))
    old = db.session.scalars(sa.select(TrackedJob.id).where(
        TrackedJob.status == JobStatus.QUEUED, TrackedJob.created_at < now - RESEND_AFTER)).all()
    lost = [job_id for job_id in old if not waiting_in_queue(rq_job_id(job_id))]
    for job_id in lost:
        _send_after_commit(job_id)
    return {"failed": len(stalled), "resent": len(lost), "waiting": len(old) - len(lost)}


def for_shop(kind: str, merchant_id: int) -> sa.Select:
    """A shop's jobs of one kind, newest first."""
    return (sa.select(TrackedJob).where(TrackedJob.kind == kind, TrackedJob.merchant_id == merchant_id)
            .order_by(TrackedJob.id.desc()))


def for_platform(kind: str) -> sa.Select:
    """The platform's own jobs of one kind (never a shop's), newest first."""
    return (sa.select(TrackedJob).where(TrackedJob.kind == kind, TrackedJob.merchant_id.is_(None))
            .order_by(TrackedJob.id.desc()))


def get_scoped(kind: str, job_id: int, merchant_id: int | None) -> TrackedJob:
    """One job of `kind` in a scope (a shop, or None for the platform); NotFound otherwise,
    so another shop's job looks like one that does not exist."""
    job = db.session.get(TrackedJob, job_id)
    if job is None or job.kind != kind or job.merchant_id != merchant_id:
        raise NotFound()
    return job
