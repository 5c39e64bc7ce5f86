"""Computing a scope's segments and keeping one current run per scope.

Guarantees:
- `recompute(merchant_id)` reads the figures (`features`), clusters them (`clustering`),
  names the segments (`naming`) and replaces the scope's run: the old run, its segments
  and members are deleted and the new ones written in the caller's transaction, so a
  reader sees the old run or the new one, never a mix. Flushes only.
- Two computations of one scope at once: the old run's row is locked first, so they
  replace one after the other; one that finds the scope's run created meanwhile (the
  unique `scope_id` refuses its insert) locks and replaces that one instead.
- A scope with too few (or identical) customers still gets a run, in state `too_few` /
  `too_alike` with no segments, so the page can say why and when it was last looked at.
- `refresh_all` (nightly, app/cron_jobs.py) recomputes the platform and every shop with a
  paid order or a behaviour event in the window, each in a transaction of its own.
- `request_recompute` starts an on-demand computation as a tracked job (progress bar);
  while one of the scope's is queued or running, asking again answers that one instead
  of queueing a second (checked under the scope's run row lock).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.analytics.models import Event
from app.analytics.segments import clustering, features, naming
from app.analytics.segments.models import RunState, Segment, SegmentMember, SegmentRun, scope_id_of
from app.core import tracked_jobs
from app.core.clock import utcnow
from app.core.db import each
from app.core.tracked_jobs import FINISHED, TrackedJob
from app.extensions import db
from app.orders.models import Order

log = logging.getLogger(__name__)

RECOMPUTE_KIND = "segment_recompute"
INSERT_CHUNK = 5000
REPLACE_ATTEMPTS = 3


@dataclass
class Computed:
    features: features.Features
    outcome: clustering.Outcome
    segments: list[dict]  # {"kind", "variant", "name", "size", "profile", "members": indices}


def compute(merchant_id: int | None) -> Computed:
    """The scope's segments, worked out but not stored."""
    figures = features.build(merchant_id)
    outcome = clustering.cluster(figures)
    segments: list[dict] = []
    if outcome.state == RunState.CLUSTERED:
        groups = [np.flatnonzero(outcome.labels == label) for label in range(outcome.k)]
        profiles = [naming.profile_of(figures, members) for members in groups]
        total = len(figures)
        named = naming.name_all(profiles, naming.reference_of(figures))
        for (kind, variant, name), profile, members in zip(named, profiles, groups, strict=True):
            same = sum(1 for other, _v, _n in named if other == kind)
            profile.update(share=round(len(members) / total, 4), variant_of=same if variant else 0)
            segments.append({"kind": kind.value, "variant": variant, "name": name, "size": len(members),
                             "profile": profile, "members": members})
    return Computed(figures, outcome, segments)


def recompute(merchant_id: int | None) -> SegmentRun:
    """Compute the scope's segments and make them its current run (flushes)."""
    return save(merchant_id, compute(merchant_id))


def save(merchant_id: int | None, computed: Computed) -> SegmentRun:
    """Replace the scope's run with `computed` (flushes; see the module docstring)."""
    for attempt in range(1, REPLACE_ATTEMPTS + 1):
        try:
            with db.session.begin_nested():
                return _replace(merchant_id, computed)
        except IntegrityError:
            # Another computation created the scope's run after our look: replace that one.
            if attempt == REPLACE_ATTEMPTS:
                raise
            log.info("segments of scope %s written meanwhile; replacing them again", scope_id_of(merchant_id))
    raise AssertionError("unreachable")


def _replace(merchant_id: int | None, computed: Computed) -> SegmentRun:
    scope = scope_id_of(merchant_id)
    old = db.session.scalar(sa.select(SegmentRun.id).where(SegmentRun.scope_id == scope).with_for_update())
    if old is not None:
        _delete_run(old)
    figures, outcome = computed.features, computed.outcome
    run = SegmentRun(scope_id=scope, merchant_id=merchant_id, state=outcome.state, k=outcome.k,
                     silhouette=outcome.silhouette, customers=len(figures), lookback_days=figures.lookback_days,
                     computed_at=figures.computed_at)
    db.session.add(run)
    db.session.flush()
    recency, orders, money, views = (figures.column(name) for name in ("recency_days", "orders", "monetary_fen",
                                                                          "views"))
    for position, segment in enumerate(computed.segments):
        row = Segment(run_id=run.id, position=position, kind=segment["kind"], variant=segment["variant"],
                      name=segment["name"], size=segment["size"], profile=segment["profile"])
        db.session.add(row)
        db.session.flush()
        members = [{"segment_id": row.id, "user_id": int(figures.user_ids[i]), "orders": int(orders[i]),
                    "monetary_fen": int(money[i]), "views": int(views[i]),
                    "last_order_days": int(recency[i]) if orders[i] >= 1 else None}
                   for i in segment["members"]]
        for start in range(0, len(members), INSERT_CHUNK):
            db.session.execute(sa.insert(SegmentMember), members[start:start + INSERT_CHUNK])
    db.session.expire(run, ["segments"])
    return run


def _delete_run(run_id: int) -> None:
    """Members, segments, then the run: explicit, as SQLite does not cascade."""
    segment_ids = sa.select(Segment.id).where(Segment.run_id == run_id).scalar_subquery()
    for stmt in (sa.delete(SegmentMember).where(SegmentMember.segment_id.in_(segment_ids)),
                 sa.delete(Segment).where(Segment.run_id == run_id),
                 sa.delete(SegmentRun).where(SegmentRun.id == run_id)):
        db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.flush()


def current(merchant_id: int | None) -> SegmentRun | None:
    """The scope's run (with its segments loaded), or None before the first computation."""
    return db.session.scalar(sa.select(SegmentRun).where(SegmentRun.scope_id == scope_id_of(merchant_id))
                             .options(selectinload(SegmentRun.segments)))


# --- nightly -----------------------------------------------------------------------------------


def active_shops() -> list[int]:
    """Shops with a paid order or a behaviour event in the window (the others keep their run)."""
    since = utcnow() - timedelta(days=features.lookback_days())
    paid = sa.select(Order.merchant_id).where(Order.paid_at >= since)
    seen = sa.select(Event.merchant_id).where(Event.created_at >= since, Event.merchant_id.is_not(None),
                                              Event.user_id.is_not(None))
    return sorted(db.session.scalars(sa.union(paid, seen)).all())


def refresh_all() -> int:
    """Periodic: recompute the platform's segments and every active shop's, each in a
    transaction of its own (one failing shop neither stops nor undoes the others)."""
    scopes = [0, *active_shops()]
    return each(scopes, lambda scope: recompute(scope or None), "segment scope")


# --- on demand ---------------------------------------------------------------------------------


def _unfinished(merchant_id: int | None) -> sa.Select:
    query = tracked_jobs.for_platform(RECOMPUTE_KIND) if merchant_id is None \
        else tracked_jobs.for_shop(RECOMPUTE_KIND, merchant_id)
    return query.where(TrackedJob.status.not_in(FINISHED))


def request_recompute(requested_by_id: int, merchant_id: int | None) -> tuple[TrackedJob, bool]:
    """Start computing the scope's segments now, as a tracked job. Returns (the job, True)
    or, when one of the scope's is already queued or running, (that job, False)."""
    db.session.execute(sa.select(SegmentRun.id).where(SegmentRun.scope_id == scope_id_of(merchant_id))
                       .with_for_update())
    waiting = db.session.scalars(_unfinished(merchant_id).limit(1)).first()
    if waiting is not None:
        return waiting, False
    job = tracked_jobs.create(RECOMPUTE_KIND, _("重新计算客户分群"), merchant_id=merchant_id,
                              requested_by_id=requested_by_id)
    return job, True


def pending_recompute(merchant_id: int | None) -> TrackedJob | None:
    """The scope's recompute job still queued or running, if any."""
    return db.session.scalars(_unfinished(merchant_id).limit(1)).first()


@tracked_jobs.handler(RECOMPUTE_KIND)
def _recompute_job(job: TrackedJob, progress: tracked_jobs.Progress) -> dict:
    # Two steps reported (figures, clustering); the run is written with the job's finish,
    # in one commit, so nobody sees the old run deleted without the new one.
    progress.set_total(3)
    computed = compute(job.merchant_id)
    progress.advance(2)
    run = save(job.merchant_id, computed)
    return {"run_id": run.id, "state": run.state, "k": run.k, "customers": run.customers}
