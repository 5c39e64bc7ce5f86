"""Races on PostgreSQL with real threads: two sends reaching the same people at once never
pass the frequency cap, and two computations of one scope at once leave one whole run."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.analytics.segments import messaging, runs
from app.analytics.segments.models import MarketingDelivery, Segment, SegmentMember, SegmentRun
from app.analytics.segments.policies import Sender
from app.core.db import run_in_unit_of_work, transaction
from app.core.tracked_jobs import JobStatus, TrackedJob, run_tracked
from app.extensions import db
from app.notifications.models import Message
from tests.analytics.segment_fixtures import NOW, at, look, make_run
from tests.race import at_once

pytestmark = pytest.mark.live_db


def test_two_sends_at_once_message_nobody_beyond_the_cap(app, make_user, make_merchant, monkeypatch):
    monkeypatch.setattr(messaging, "BATCH", 7)  # many small batches, so the two jobs interleave
    shop = make_merchant()
    ids = [make_user(password=None).id for _ in range(60)]
    platform_run = make_run(None, {"high_value": ids})
    shop_run = make_run(shop.id, {"regular": ids[10:]})  # 50 of them in both
    draft = messaging.Draft(title="周末特惠", body="满 99 包邮")
    with transaction():
        first, _ = messaging.start(Sender(None, None, may_sms=True), platform_run.segments[0].id, platform_run.id,
                                   draft, "race-1")
        second, _ = messaging.start(Sender(None, shop.id, shop_name=shop.name), shop_run.segments[0].id, shop_run.id,
                                    draft, "race-2")
    job_ids = [first.id, second.id]

    outcomes = at_once(2, lambda i: run_in_unit_of_work(run_tracked, job_ids[i]), app=app)
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes

    db.session.expire_all()
    jobs = [db.session.get(TrackedJob, job_id) for job_id in job_ids]
    assert all(job.status == JobStatus.DONE for job in jobs)
    per_user = dict(db.session.execute(sa.select(MarketingDelivery.user_id, sa.func.count())
                                       .group_by(MarketingDelivery.user_id)).all())
    assert per_user == {user_id: 1 for user_id in ids}  # everyone once, nobody twice
    messages = dict(db.session.execute(sa.select(Message.recipient_id, sa.func.count())
                                       .where(Message.kind == messaging.MESSAGE_KIND)
                                       .group_by(Message.recipient_id)).all())
    assert messages == per_user
    assert sum(job.result["sent"] for job in jobs) == 60 and sum(job.result["capped"] for job in jobs) == 50


def test_two_computations_of_one_scope_at_once_leave_one_whole_run(app, make_user, make_product):
    product = make_product()
    for i in range(14):
        look(make_user(password=None).id, product, NOW, views=1 + i * 3, dwell_s=5 + i * 17, carts=i % 3)
    db.session.commit()

    def compute(_i):
        with transaction():
            return runs.recompute(None).id

    with at(NOW):  # the clock is the process's: moved once, around the threads
        outcomes = at_once(2, compute, app=app)
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    db.session.expire_all()
    [run] = db.session.scalars(sa.select(SegmentRun)).all()
    assert run.id in outcomes and run.customers == 14
    segment_ids = db.session.scalars(sa.select(Segment.id)).all()
    assert sorted(segment_ids) == sorted(s.id for s in run.segments)  # the loser's segments are gone
    members = db.session.scalar(sa.select(sa.func.count()).select_from(SegmentMember))
    assert members == 14
