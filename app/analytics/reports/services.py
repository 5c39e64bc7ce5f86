"""Asking for a report, the history of a scope's reports, their files, and their expiry.

A scope is a shop (`merchant_id`) or the platform (None). The caller names the scope
from who is asking (the merchant console's current shop, the admin console's platform),
never from the form.

Guarantees:
- `request_report` queues one report job, or raises ValidationError naming the field
  (`report`, `range`, `format`) and writes nothing; a scope with RUNNING_LIMIT reports
  queued or running gets Conflict (`reports_busy`) — a shop counts all its members'
  reports, the platform each admin's own. The count is taken under a lock on the shop's
  (or the admin's) row, so two requests at once cannot both pass it.
- `downloadable` gives a file only for a finished report whose file is still there.
- `expire_old_reports` (daily) deletes the files of reports finished more than the
  `report_retention_days` setting ago and marks their result `expired`; the rows stay in
  the history. Safe to run twice.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.analytics.errors import AnalyticsError
from app.analytics.figures import MAX_DAYS
from app.analytics.reports import files, registry, writers
from app.analytics.reports.jobs import KIND
from app.core import settings, tracked_jobs
from app.core.clock import SHANGHAI, utcnow
from app.core.errors import Conflict, ValidationError
from app.core.pagination import Page, paginate
from app.core.tracked_jobs import JobStatus, TrackedJob
from app.extensions import db
from app.merchants.models import Merchant

RUNNING_LIMIT = 3
EXPIRE_BATCH = 500
STALE_PART_AFTER = timedelta(days=1)


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def _invalid(field: str, message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code, fields={field: message})


def request_report(*, report: str, first: date, last: date, fmt: str, merchant_id: int | None,
                   requested_by_id: int, locale: str) -> TrackedJob:
    """Queue the report `report` of the days `first`..`last` (Shanghai, both included) as a
    `fmt` file for the scope `merchant_id`. Flushes only; the job is sent after the commit."""
    kind = registry.find(report, merchant_id)
    if kind is None:
        raise _invalid("report", _("请选择报表类型"), AnalyticsError.UNKNOWN_REPORT)
    if first > last:
        raise _invalid("range", _("结束日期不能早于开始日期"), AnalyticsError.INVALID_RANGE)
    if last > today():
        raise _invalid("range", _("不能选择今天以后的日期"), AnalyticsError.INVALID_RANGE)
    if (last - first).days + 1 > MAX_DAYS:
        raise _invalid("range", _("最多可选 %(n)d 天", n=MAX_DAYS), AnalyticsError.INVALID_RANGE)
    if fmt not in writers.FORMATS:
        raise _invalid("format", _("请选择文件格式"), AnalyticsError.UNKNOWN_FORMAT)
    _lock_scope(merchant_id, requested_by_id)
    if busy(merchant_id, requested_by_id) >= RUNNING_LIMIT:
        raise Conflict(_("已有 %(n)d 个报表正在生成，请等它们完成后再试", n=RUNNING_LIMIT),
                       code=AnalyticsError.REPORTS_BUSY)
    title = _("%(report)s %(first)s 至 %(last)s", report=kind.label, first=first.isoformat(), last=last.isoformat())
    return tracked_jobs.create(KIND, title, merchant_id=merchant_id, requested_by_id=requested_by_id,
                               params={"report": kind.key, "from": first.isoformat(), "to": last.isoformat(),
                                       "format": fmt, "locale": locale})


def _scope(merchant_id: int | None, requested_by_id: int | None):
    if merchant_id is not None:
        return TrackedJob.merchant_id == merchant_id
    return sa.and_(TrackedJob.merchant_id.is_(None), TrackedJob.requested_by_id == requested_by_id)


def _lock_scope(merchant_id: int | None, requested_by_id: int) -> None:
    """Serialise the limit check of one scope (a no-op on SQLite, which has one writer anyway)."""
    if merchant_id is not None:
        db.session.execute(sa.select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())
    else:
        db.session.execute(sa.select(User.id).where(User.id == requested_by_id).with_for_update())


def busy(merchant_id: int | None, requested_by_id: int | None) -> int:
    """Reports of the scope queued or running now."""
    return int(db.session.scalar(sa.select(sa.func.count(TrackedJob.id)).where(
        TrackedJob.kind == KIND, TrackedJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        _scope(merchant_id, requested_by_id))) or 0)


def history(merchant_id: int | None, page=1, per_page=10) -> Page:
    """The scope's reports, newest first, each as (job, who asked or None): two queries a page."""
    scoped = tracked_jobs.for_shop(KIND, merchant_id) if merchant_id is not None else tracked_jobs.for_platform(KIND)
    stmt = scoped.add_columns(User).outerjoin(User, User.id == TrackedJob.requested_by_id)
    return paginate(stmt, page, per_page, scalars=False)


def get(job_id: int, merchant_id: int | None) -> TrackedJob:
    """One report of the scope; NotFound for another shop's or the platform's."""
    return tracked_jobs.get_scoped(KIND, job_id, merchant_id)


def downloadable(job: TrackedJob) -> Path | None:
    if not job.succeeded or job.result.get("expired"):
        return None
    path = files.path_of(job.result.get("file"))
    return path if path is not None and path.is_file() else None


def download_name(job: TrackedJob) -> str:
    """订单明细_2026-12-01_2026-12-07.xlsx (in the reader's language)."""
    params = job.params
    kind = registry.REPORTS.get(params.get("report", ""))
    label = str(kind.label) if kind else _("报表")
    return f"{label}_{params.get('from')}_{params.get('to')}.{job.result.get('format') or params.get('format')}"


def expire_old_reports() -> dict:
    """Daily: delete the files of reports finished more than `report_retention_days` ago."""
    cutoff = utcnow() - timedelta(days=settings.get("report_retention_days"))
    expired = 0
    while True:
        jobs = db.session.scalars(sa.select(TrackedJob).where(
            TrackedJob.kind == KIND, TrackedJob.status == JobStatus.DONE, TrackedJob.finished_at < cutoff,
            TrackedJob.result["file"].as_string().is_not(None)).order_by(TrackedJob.id).limit(EXPIRE_BATCH)).all()
        if not jobs:
            break
        for job in jobs:
            files.remove(job.result.get("file"))
            job.result = {**{k: v for k, v in job.result.items() if k != "file"}, "expired": True}
            expired += 1
        db.session.flush()
    return {"expired": expired, "stale_parts": files.remove_stale_parts(STALE_PART_AFTER)}
