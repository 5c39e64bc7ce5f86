"""The report job: a `TrackedJob` of kind "report" (app/core/tracked_jobs.py) whose
handler writes the file a chunk at a time, with the progress bar moving per chunk.

Guarantees:
- The shop is the job row's `merchant_id` (None: the platform), never a parameter; a
  type the scope may not have (a platform-only type on a shop's row) fails the job.
- `total` is a COUNT taken first; each chunk written advances `done` and commits.
- The file is written as `<key>.part` and renamed when complete, so a download never
  sees half a file; on any failure the part is deleted and the job fails with a reason
  fit to show. The result is {"file", "rows", "bytes", "format"}.
- Headers and words are in the language of the person who asked (`params["locale"]`).
"""
from __future__ import annotations

import os
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.analytics.errors import AnalyticsError
from app.analytics.reports import files, registry, writers
from app.core import tracked_jobs
from app.core.errors import ValidationError

KIND = "report"
CHUNK = 500
MAX_ROWS = 1_000_000  # an XLSX sheet holds 1,048,576 rows; one file stays openable


def window_of(job) -> registry.Window:
    return registry.Window(date.fromisoformat(job.params["from"]), date.fromisoformat(job.params["to"]),
                           job.merchant_id)


@tracked_jobs.handler(KIND)
def write_report(job, progress: tracked_jobs.Progress) -> dict:
    params, merchant_id = dict(job.params), job.merchant_id
    locale = params.get("locale")
    if locale not in current_app.config["LANGUAGES"]:
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        report = registry.find(params.get("report"), merchant_id)
        fmt = params.get("format")
        if report is None or fmt not in writers.FORMATS:
            raise ValidationError(_("没有这种报表"), code=AnalyticsError.UNKNOWN_REPORT)
        window = window_of(job)
        total = report.count(window)
        if total > MAX_ROWS:
            raise ValidationError(_("报表超过 %(n)d 行，请缩短时间范围后重新生成", n=MAX_ROWS),
                                  code=AnalyticsError.REPORT_TOO_LONG)
        progress.set_total(total)
        key = files.new_key(fmt)
        final = files.path_of(key)
        part = final.with_name(final.name + files.PART)
        part.parent.mkdir(parents=True, exist_ok=True)
        rows = 0
        sheet = writers.open_sheet(fmt, part, report.columns, str(report.label))
        try:
            for chunk in report.chunks(window, CHUNK):
                sheet.write(chunk)
                rows += len(chunk)
                progress.advance(len(chunk))
            sheet.close()
            os.replace(part, final)
        except BaseException:
            sheet.abandon()
            part.unlink(missing_ok=True)
            raise
    return {"file": key, "rows": rows, "bytes": final.stat().st_size, "format": fmt}
