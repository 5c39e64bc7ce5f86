"""Background jobs that failed for good (after their retries), per queue, with requeue.
With Redis unreachable the page says so instead of failing."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.core import audit
from app.core.db import transaction
from app.core.errors import NotFound, Unavailable
from app.core.jobs import QUEUE_NAMES, get_redis
from app.web.admin.blueprint import bp
from app.web.auth import admin_required

PAGE_SIZE = 50


def failed_jobs() -> list[tuple[str, Job]]:
    redis = get_redis()
    if redis is None:
        return []
    rows: list[tuple[str, Job]] = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(name, connection=redis)
        ids = registry.get_job_ids(0, PAGE_SIZE - 1)
        rows.extend((name, job) for job in Job.fetch_many(ids, connection=redis) if job is not None)
    rows.sort(key=lambda row: row[1].ended_at or row[1].created_at, reverse=True)
    return rows[:PAGE_SIZE]


@bp.get("/jobs")
@admin_required("jobs.view")
def jobs():
    rows = []
    try:
        for queue, job in failed_jobs():
            result = job.latest_result()
            error = (result.exc_string or "").strip().splitlines()[-1] if result and result.exc_string else ""
            rows.append({"queue": queue, "job": job, "error": error})
        unreachable = False
    except RedisError:
        rows, unreachable = [], True
    return render_template("admin/jobs/index.html", rows=rows, redis_configured=get_redis() is not None,
                           redis_unreachable=unreachable)


@bp.post("/jobs/<queue>/<job_id>/requeue")
@admin_required("jobs.retry")
def jobs_requeue(queue: str, job_id: str):
    redis = get_redis()
    if redis is None or queue not in QUEUE_NAMES:
        raise NotFound(_("任务不存在"))
    try:
        FailedJobRegistry(queue, connection=redis).requeue(job_id)
    except (NoSuchJobError, ValueError, TypeError):
        raise NotFound(_("任务不存在或已重新执行")) from None
    except RedisError:
        raise Unavailable(_("任务队列暂时无法连接，请稍后再试")) from None
    with transaction():
        audit.record(current_user._get_current_object(), "job.requeue", ("Job", job_id), note=queue)
    flash(_("任务已重新加入队列"), "success")
    return redirect(url_for("admin.jobs"))
