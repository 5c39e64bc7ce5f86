"""Long jobs with a progress bar (app/core/tracked_jobs.py), run by a real RQ worker."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string

from app.core.clock import utcnow
from app.core.db import transaction
from app.core.errors import NotFound, ValidationError
from app.core.jobs import enqueue_after_commit, get_queue
from app.core.models import StateChange
from app.core.tracked_jobs import (
    RUN_LIMIT_SECONDS,
    JobStatus,
    TrackedJob,
    create,
    for_platform,
    for_shop,
    get_scoped,
    handler,
    rq_job_id,
    run_tracked,
    sweep_tracked_jobs,
)
from app.extensions import db

handled: list[int] = []
seen_progress: list[tuple[int, int]] = []


@handler("test_tally")
def _tally(job, progress):
    """Counts to params["n"] in steps of 10, recording what the row said after each step."""
    handled.append(job.id)
    n = job.params["n"]
    progress.set_total(n)
    for _ in range(0, n, 10):
        progress.advance(10)
        row = db.session.get(TrackedJob, job.id)
        db.session.refresh(row)
        seen_progress.append((row.done, row.total))
    return {"counted": n}


@handler("test_broken")
def _broken(job, progress):
    progress.set_total(3)
    if job.params.get("domain"):
        raise ValidationError("日期范围不对")
    raise RuntimeError("connection string postgres://secret")


@pytest.fixture(autouse=True)
def _forget_calls():
    handled.clear()
    seen_progress.clear()


def _start(kind="test_tally", merchant_id=None, **params) -> int:
    with transaction():
        job = create(kind, "测试任务", merchant_id=merchant_id, requested_by_id=None, params=params)
    return job.id


def test_a_job_runs_in_the_worker_with_its_progress_and_result(run_jobs):
    job_id = _start(n=30)
    assert db.session.get(TrackedJob, job_id).status == JobStatus.QUEUED
    run_jobs()
    job = db.session.get(TrackedJob, job_id)
    db.session.refresh(job)
    assert (job.status, job.done, job.total, job.result) == (JobStatus.DONE, 30, 30, {"counted": 30})
    assert job.percent == 100 and job.started_at and job.finished_at
    # Each step was committed with its count, so a person polling saw 10, 20, 30 of 30.
    assert seen_progress == [(10, 30), (20, 30), (30, 30)]
    moves = db.session.execute(sa.select(StateChange.from_state, StateChange.to_state).where(
        StateChange.entity == "tracked_job", StateChange.entity_id == job_id).order_by(StateChange.id)).all()
    assert moves == [("queued", "running"), ("running", "done")]


def test_a_job_sent_twice_runs_once(run_jobs):
    job_id = _start(n=10)
    run_jobs()
    run_tracked(job_id)  # the sweep's copy arriving late
    assert handled == [job_id]


def test_a_failing_job_is_failed_with_a_reason_fit_to_show(run_jobs):
    leaky = _start("test_broken")
    domain = _start("test_broken", domain=True)
    run_jobs()
    leaky_job, domain_job = db.session.get(TrackedJob, leaky), db.session.get(TrackedJob, domain)
    db.session.refresh(leaky_job)
    db.session.refresh(domain_job)
    assert leaky_job.status == domain_job.status == JobStatus.FAILED
    assert "secret" not in leaky_job.error and leaky_job.error
    assert domain_job.error == "日期范围不对"
    assert leaky_job.finished_at is not None


def test_the_sweep_fails_stalled_jobs_and_resends_lost_ones(run_jobs):
    stalled = TrackedJob(kind="test_tally", title="卡住", status=JobStatus.RUNNING, params={"n": 10},
                         moved_at=utcnow() - timedelta(hours=1))
    lost = TrackedJob(kind="test_tally", title="丢失", params={"n": 20}, created_at=utcnow() - timedelta(minutes=5))
    fresh = TrackedJob(kind="test_tally", title="刚建", params={"n": 10})
    db.session.add_all([stalled, lost, fresh])
    db.session.commit()
    with transaction():
        assert sweep_tracked_jobs() == {"failed": 1, "resent": 1, "waiting": 0}
    run_jobs()
    for row in (stalled, lost, fresh):
        db.session.refresh(row)
    assert stalled.status == JobStatus.FAILED and stalled.error
    assert (lost.status, lost.done) == (JobStatus.DONE, 20)
    assert fresh.status == JobStatus.QUEUED  # not old enough to be called lost
    assert handled == [lost.id]


def test_the_sweep_leaves_a_job_still_waiting_in_the_queue_and_resends_it_once_lost(run_jobs):
    """A long backlog on `low`: the job's RQ copy is still queued after RESEND_AFTER, so the
    sweep adds no second copy; when that copy is lost (Redis emptied), it sends one."""
    job_id = _start(n=10)
    queue = get_queue("low")
    assert queue.job_ids == [rq_job_id(job_id)]
    db.session.execute(sa.update(TrackedJob).where(TrackedJob.id == job_id)
                       .values(created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    for _ in range(2):  # two sweeps, five minutes apart
        with transaction():
            assert sweep_tracked_jobs() == {"failed": 0, "resent": 0, "waiting": 1}
    assert queue.job_ids == [rq_job_id(job_id)]

    queue.connection.flushdb()  # the queued copy is lost with Redis's data
    with transaction():
        assert sweep_tracked_jobs() == {"failed": 0, "resent": 1, "waiting": 0}
    assert queue.job_ids == [rq_job_id(job_id)]
    assert run_jobs() == 1 and handled == [job_id]


def test_a_handler_stops_when_the_sweep_gave_up_on_its_job(app):
    job = TrackedJob(kind="test_tally", title="慢", params={"n": 30})
    db.session.add(job)
    db.session.commit()

    @handler("test_slow")
    def _slow(row, progress):
        progress.set_total(3)
        db.session.execute(sa.update(TrackedJob).where(TrackedJob.id == row.id).values(status=JobStatus.FAILED))
        db.session.commit()
        progress.advance(1)
        handled.append(-1)  # never reached
        return {}

    job.kind = "test_slow"
    db.session.commit()
    run_tracked(job.id)
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED and handled == []


def test_scopes_keep_shops_and_the_platform_apart(make_merchant):
    shop, other = make_merchant(), make_merchant()
    mine = _start(merchant_id=shop.id, n=10)
    theirs = _start(merchant_id=other.id, n=10)
    platform = _start(n=10)
    assert db.session.scalars(for_shop("test_tally", shop.id)).all() == [db.session.get(TrackedJob, mine)]
    assert [j.id for j in db.session.scalars(for_platform("test_tally"))] == [platform]
    assert get_scoped("test_tally", mine, shop.id).id == mine
    for job_id, scope in ((theirs, shop.id), (platform, shop.id), (mine, None), (mine, shop.id + 999)):
        with pytest.raises(NotFound):
            get_scoped("test_tally", job_id, scope)
    with pytest.raises(NotFound):
        get_scoped("test_broken", mine, shop.id)  # the right scope, another kind


def test_an_unknown_kind_is_refused_before_anything_is_written():
    with pytest.raises(ValueError):
        create("no_such_kind", "x", merchant_id=None, requested_by_id=None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


PARTIAL = ('{% from "components/_job_progress.html" import job_progress %}'
           '{% call job_progress(job, "/poll") %}<a href="/file">下载</a>{% endcall %}')


def test_the_progress_block_polls_while_running_and_stops_when_finished(app):
    running = TrackedJob(id=1, kind="test_tally", title="导出", status=JobStatus.RUNNING, done=25, total=100)
    unknown = TrackedJob(id=2, kind="test_tally", title="导出", status=JobStatus.QUEUED, done=0, total=0)
    done = TrackedJob(id=3, kind="test_tally", title="导出", status=JobStatus.DONE, done=100, total=100)
    failed = TrackedJob(id=4, kind="test_tally", title="导出", status=JobStatus.FAILED, error="日期范围不对")
    with app.test_request_context():
        html = {job.id: render_template_string(PARTIAL, job=job) for job in (running, unknown, done, failed)}
    assert 'hx-trigger="every 1s"' in html[1] and 'value="25"' in html[1] and "25%" in html[1]
    assert 'hx-trigger' in html[2] and "value=" not in html[2]  # indeterminate until the total is known
    assert 'hx-trigger' not in html[3] and "下载" in html[3] and "<progress" not in html[3]
    assert 'hx-trigger' not in html[4] and "日期范围不对" in html[4] and "下载" not in html[4]


def _noop(n):
    return n


@handler("test_queues")
def _queues(job, progress):
    """Queues a job, reports progress, and notes how many jobs were waiting just after."""
    enqueue_after_commit(_noop, 1, queue="high")
    progress.advance(1)
    handled.append(get_queue("high").count)
    return {}


def test_jobs_a_handler_queues_go_out_with_its_progress_and_it_may_run_an_hour(run_jobs):
    job_id = _start("test_queues")
    [queued] = get_queue("low").jobs
    assert queued.timeout == RUN_LIMIT_SECONDS  # RQ's default 180 s would cut a big report short
    run_jobs()
    assert handled[0] == 1  # sent at the progress commit, while the handler still ran
    assert db.session.get(TrackedJob, job_id).status == JobStatus.DONE
