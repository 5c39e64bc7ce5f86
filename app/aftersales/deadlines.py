"""The after-sales sweeps, listed in `app/cron_jobs.py`, each item in a unit of work of
its own (`app.core.db.each`):

- `sweep_deadlines`: every request whose party let its deadline pass. It backs the job
  each step schedules for its own `due_at` (`services.act_on_deadline`), so a lost job
  is only late; running both, or twice, acts once (the moves are guarded).
- `sweep_return_tracking`: asks the tracking provider about return parcels on their way;
  once the carrier says delivered, the shop's days to confirm run from then (not from
  the buyer's entry of the number)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.aftersales import services
from app.aftersales.models import AfterSale
from app.aftersales.states import RECEIVE_DAYS, AfterSaleStatus
from app.core.clock import utcnow
from app.core.db import each
from app.core.jobs import schedule_after_commit
from app.extensions import db
from app.orders.tracking import TrackingError, get_provider

S = AfterSaleStatus
# The statuses a deadline acts in (deadlines are cleared in every other one).
WAITING = (S.PENDING, S.AWAITING_RETURN, S.RETURNED, S.EXCHANGE_SHIPPED, S.REJECTED)


def due_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(sa.select(AfterSale.id).where(AfterSale.status.in_(WAITING),
                                                                 AfterSale.due_at <= utcnow())
                                   .order_by(AfterSale.due_at).limit(limit)))


def sweep_deadlines() -> int:
    """Every 10 minutes: act for every silent party whose deadline has passed."""
    return each(due_ids(), services.act_on_deadline, "aftersale")


def parcels_on_their_way(limit: int = 200) -> list[int]:
    return list(db.session.scalars(sa.select(AfterSale.id).where(
        AfterSale.status == S.RETURNED, AfterSale.return_received_at.is_(None),
        AfterSale.return_delivered_at.is_(None), AfterSale.return_tracking_no.is_not(None))
        .order_by(AfterSale.returned_at).limit(limit)))


def check_return_parcel(aftersale_id: int) -> bool:
    """Ask the carrier about one return parcel; when it was delivered, restart the
    shop's deadline from the delivery (once). False while it is still on its way, or
    when the tracking service cannot be asked (the next sweep asks again)."""
    aftersale = db.session.get(AfterSale, aftersale_id)
    if aftersale is None or aftersale.return_delivered_at is not None or aftersale.status != S.RETURNED:
        return False
    try:
        track = get_provider().query(aftersale.return_carrier, aftersale.return_tracking_no)
    except TrackingError:
        return False
    if not track.delivered:
        return False
    delivered_at = track.events[0].occurred_at if track.events else utcnow()
    due = max(delivered_at + timedelta(days=RECEIVE_DAYS), aftersale.due_at or utcnow())
    moved = db.session.execute(
        sa.update(AfterSale).where(AfterSale.id == aftersale_id, AfterSale.status == S.RETURNED,
                                   AfterSale.return_delivered_at.is_(None))
        .values(return_delivered_at=delivered_at, due_at=due).execution_options(synchronize_session=False)).rowcount
    if moved:
        schedule_after_commit(services.act_on_deadline, aftersale_id, at=due, queue="low")
    return bool(moved)


def sweep_return_tracking() -> int:
    """Every 30 minutes: return parcels the carrier may have delivered meanwhile."""
    return each(parcels_on_their_way(), check_return_parcel, "return parcel")
