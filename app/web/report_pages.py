"""数据报表 pages, shared by the merchant console (the current shop's reports, scope =
`g.merchant.id`) and the admin console (the platform's, scope None): the form that asks
for a report, the history with each report's progress block, the block a running
report polls, and the download.

The scope is the caller's argument, taken from who is asking; nothing in the request
names a shop. Bad input (an unknown type, one not for this scope, a malformed, reversed,
future or too long range, an unknown format) is shown under its field and queues nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.analytics.reports import registry, services, writers
from app.core import settings
from app.core.db import transaction
from app.core.errors import Conflict, ValidationError
from app.core.htmx import is_htmx, with_toast
from app.web import date_ranges
from app.web.date_ranges import CUSTOM, PRESET_LABELS, DateRange, Problem

HISTORY_PER_PAGE = 10
FORMAT_LABELS = {writers.XLSX: _l("Excel（XLSX）"), writers.CSV: "CSV"}


@dataclass(frozen=True)
class Endpoints:
    """The routes of one console's report pages (url_for names)."""

    page: str
    create: str
    progress: str
    download: str


def _range_problem(problem: Problem) -> str:
    return {
        Problem.MALFORMED: _("请填写开始和结束日期，格式为 年-月-日"),
        Problem.REVERSED: _("结束日期不能早于开始日期"),
        Problem.FUTURE: _("不能选择今天以后的日期"),
        Problem.TOO_LONG: _("最多可选 %(n)d 天", n=date_ranges.MAX_DAYS),
        Problem.UNKNOWN_PRESET: _("请选择时间范围"),
    }[problem]


def default_values() -> dict[str, str]:
    rng = date_ranges.preset(date_ranges.DEFAULT)
    return {"report": "", "range": rng.key, "from": rng.first.isoformat(), "to": rng.last.isoformat(),
            "format": writers.XLSX}


def read_form(form) -> dict[str, str]:
    """What was typed, bounded (it is shown again when refused)."""
    return {name: (form.get(name) or "").strip()[:limit]
            for name, limit in (("report", 40), ("range", 20), ("from", 10), ("to", 10), ("format", 10))}


def read_range(values: dict[str, str]) -> DateRange | Problem:
    """A preset, or with 自定义 the two dates, in the dashboards' rules."""
    if values["range"] == CUSTOM:
        return date_ranges.read({"from": values["from"], "to": values["to"]})
    if values["range"] not in date_ranges.PRESETS:
        return Problem.UNKNOWN_PRESET
    return date_ranges.read({"range": values["range"]})


def _context(endpoints: Endpoints, merchant_id: int | None, values: dict, errors: dict, history_page=1) -> dict:
    return {"endpoints": endpoints, "types": registry.allowed(merchant_id), "values": values, "errors": errors,
            "presets": PRESET_LABELS, "preset_days": {key: date_ranges.preset(key) for key in PRESET_LABELS},
            "formats": FORMAT_LABELS, "custom": CUSTOM,
            "history": services.history(merchant_id, history_page, HISTORY_PER_PAGE),
            "limit": services.RUNNING_LIMIT, "max_days": date_ranges.MAX_DAYS, "size_text": size_text,
            "keep_days": settings.get("report_retention_days")}


def page(template: str, endpoints: Endpoints, merchant_id: int | None):
    """The page; a history page asked for by its pagination (HTMX) gets the history only."""
    context = _context(endpoints, merchant_id, default_values(), {}, request.args.get("page", 1))
    if is_htmx() and request.headers.get("HX-Target") == "report-history":
        return render_template("backoffice/reports/_history.html", **context)
    return render_template(template, **context)


def submit(template: str, endpoints: Endpoints, merchant_id: int | None):
    """Queue the report asked for; the history then shows it first, polling its progress."""
    values = read_form(request.form)
    errors: dict[str, str] = {}
    rng = read_range(values)
    if isinstance(rng, Problem):
        errors["range"] = _range_problem(rng)
    if registry.find(values["report"], merchant_id) is None:
        errors["report"] = _("请选择报表类型")
    if values["format"] not in writers.FORMATS:
        errors["format"] = _("请选择文件格式")
    if not errors:
        try:
            with transaction():
                services.request_report(report=values["report"], first=rng.first, last=rng.last, fmt=values["format"],
                                        merchant_id=merchant_id, requested_by_id=current_user.id,
                                        locale=str(get_locale()))
        except ValidationError as exc:
            errors.update(exc.fields or {"report": exc.message})
        except Conflict as exc:
            return _refused(template, endpoints, merchant_id, values, {}, exc.message, "warning", 409)
    if errors:
        return _refused(template, endpoints, merchant_id, values, errors, _("请检查标红的内容"), "danger", 422)
    message = _("报表已开始生成，完成后可在下方下载")
    if is_htmx():  # the body again: a fresh form, and the history's first page with the new report on top
        return with_toast(render_template("backoffice/reports/_body.html", created=True,
                                          **_context(endpoints, merchant_id, default_values(), {})), message)
    flash(message, "success")
    return redirect(url_for(endpoints.page), 303)


def _refused(template, endpoints, merchant_id, values, errors, message, level, status):
    """The form again with what was typed and why not; HTMX gets the body and a toast."""
    context = _context(endpoints, merchant_id, values, errors)
    if is_htmx():
        return with_toast(render_template("backoffice/reports/_body.html", **context), message, level)
    flash(message, level)
    return render_template(template, **context), status


def progress(endpoints: Endpoints, merchant_id: int | None, job_id: int):
    """A report's progress block (what a running one polls); another scope's is a 404."""
    job = services.get(job_id, merchant_id)
    return render_template("backoffice/reports/_job.html", job=job, endpoints=endpoints, size_text=size_text)


def download(merchant_id: int | None, job_id: int):
    """The file of a finished report of this scope, as an attachment named in the reader's language."""
    job = services.get(job_id, merchant_id)
    path = services.downloadable(job)
    if path is None:
        abort(404)
    name = services.download_name(job)
    fmt = job.result.get("format") or writers.XLSX
    response = make_response(send_file(path, mimetype=writers.CONTENT_TYPES.get(fmt, "application/octet-stream"),
                                       conditional=False, etag=False, max_age=0))
    # RFC 6266 / 5987: an ASCII name for old clients, the Chinese one for the rest.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"report-{job.id}.{fmt}\"; filename*=UTF-8''{quote(name)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def size_text(size: int | None) -> str:
    """1536 -> 1.5 KB."""
    size = int(size or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
