"""Finance's periodic job, listed in `app/cron_jobs.py`: the nightly reconciliation.

`reconcile_yesterday` checks yesterday (Asia/Shanghai) with the internal checks at 03:30
Shanghai, once: the run is stored with the day as its unique `job_day`, so a second tick
(a retry, two schedulers) finds the day done and does nothing. When the run finds
differences, every finance admin (the super admins when there is none) is told in the site,
with a link to the run."""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.states import AdminRole, UserStatus
from app.core.db import transaction
from app.core.errors import Conflict
from app.extensions import db
from app.finance import reconciliation
from app.finance.reconciliation_models import ReconciliationRun
from app.finance.reconciliation_states import RunTrigger
from app.notifications import services as notifications

log = logging.getLogger(__name__)

NOTIFY_KIND = "reconciliation"


def run_link(run_id: int) -> str:
    return f"/admin/finance/reconciliation/{run_id}"


def finance_admin_ids() -> list[int]:
    """Who hears of differences: the finance admins, or the super admins when there is none."""
    for role in (AdminRole.FINANCE, AdminRole.SUPER):
        ids = list(db.session.scalars(sa.select(User.id).where(User.admin_role == role,
                                                               User.status == UserStatus.ACTIVE).order_by(User.id)))
        if ids:
            return ids
    return []


def tell_finance(run: ReconciliationRun) -> int:
    """Tell finance in the site that `run` found differences; how many were told."""
    if not run.difference_count:
        return 0
    recipients = finance_admin_ids()
    for user_id in recipients:
        notifications.notify(user_id, _("%(day)s 对账发现 %(n)d 处差异", day=run.day.isoformat(), n=run.difference_count),
                             _("请到“财务 · 对账”查看每处差异的处理建议，处理后标记为已处理。"),
                             link=run_link(run.id), kind=NOTIFY_KIND)
    return len(recipients)


def reconcile_yesterday() -> int | None:
    """The nightly job: reconcile yesterday once; the run's id, or None when it was done."""
    day = reconciliation.today() - timedelta(days=1)
    try:
        with transaction():
            run = reconciliation.reconcile(day, trigger=RunTrigger.JOB)
            tell_finance(run)
    except Conflict:
        log.info("reconciliation of %s already done by the job", day)
        return None
    log.info("reconciliation of %s: %d differences", day, run.difference_count)
    return run.id
