"""The after-sales sweep, listed in `app/cron_jobs.py`: every request whose party let
its deadline pass, each in a unit of work of its own (`app.core.db.each`). It backs
the job each step schedules for its own `due_at` (`services.act_on_deadline`), so a
lost job is only late; running both, or twice, acts once (the moves are guarded)."""
from __future__ import annotations

import sqlalchemy as sa

from app.aftersales import services
from app.aftersales.models import AfterSale
from app.aftersales.states import AfterSaleStatus
from app.core.clock import utcnow
from app.core.db import each
from app.extensions import db

S = AfterSaleStatus
# The statuses a deadline acts in (deadlines are cleared in every other one).
WAITING = (S.PENDING, S.AWAITING_RETURN, S.RETURNED, S.EXCHANGE_SHIPPED)


def due_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(sa.select(AfterSale.id).where(AfterSale.status.in_(WAITING),
                                                                 AfterSale.due_at <= utcnow())
                                   .order_by(AfterSale.due_at).limit(limit)))


def sweep_deadlines() -> int:
    """Every 10 minutes: act for every silent party whose deadline has passed."""
    return each(due_ids(), services.act_on_deadline, "aftersale")
