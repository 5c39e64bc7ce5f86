"""Rows for the tracked job lifecycle."""
from __future__ import annotations

from app.core.tracked_jobs import TrackedJob
from app.extensions import db
from tests.core.lifecycle_rows import row_maker


@row_maker("tracked_job")
def _tracked_job(request):
    row = TrackedJob(kind="report", title="walk", merchant_id=None)
    db.session.add(row)
    db.session.flush()
    return TrackedJob, row.id
