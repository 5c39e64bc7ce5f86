"""Messages to a customer segment, sent by a real RQ worker: in-site messages to the
members in batches with progress, SMS only from the platform and only to phones, the
frequency cap across every sender, nothing twice, and a segment recomputed meanwhile."""
from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import profile
from app.accounts.models import User
from app.analytics.segments import messaging, runs
from app.analytics.segments.models import MarketingDelivery
from app.analytics.segments.policies import Sender
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.errors import NotFound, ValidationError
from app.core.tracked_jobs import JobStatus, TrackedJob, run_tracked
from app.extensions import db
from app.notifications.models import Message
from tests.analytics.segment_fixtures import make_run

PLATFORM = Sender(user_id=None, merchant_id=None, may_sms=True)
HELLO = messaging.Draft(title="双十二会员日", body="全场满 199 减 30，仅限今天。", link="/search?q=会员日")


def sender_for(shop) -> Sender:
    return Sender(user_id=None, merchant_id=shop.id, shop_name=shop.name)


def start(sender, run, draft=HELLO, key="k1", segment=0):
    with transaction():
        job, _new = messaging.start(sender, run.segments[segment].id, run.id, draft, key)
    return db.session.get(TrackedJob, job.id)


def inbox(user_id) -> list[Message]:
    return list(db.session.scalars(sa.select(Message).where(Message.recipient_id == user_id,
                                                           Message.kind == messaging.MESSAGE_KIND)))


def fresh(job) -> TrackedJob:
    db.session.expire_all()
    return db.session.get(TrackedJob, job.id)


@pytest.fixture
def people(make_user):
    """Seven members: three with a phone, one without, one deleted, one banned, one whose
    ban has lapsed."""
    phones = [make_user(password=None) for _ in range(3)]
    no_phone = make_user(email="nophone@example.com", password=None)
    deleted = make_user(password=None, status="deleted")
    banned = make_user(password=None, status="banned")
    lapsed = make_user(password=None, status="banned", banned_until=utcnow() - timedelta(days=1))
    return {"phones": phones, "no_phone": no_phone, "deleted": deleted, "banned": banned, "lapsed": lapsed,
            "all": [*phones, no_phone, deleted, banned, lapsed]}


def test_a_platform_message_reaches_the_segment_in_batches(people, run_jobs, outbox, monkeypatch):
    monkeypatch.setattr(messaging, "BATCH", 3)
    run = make_run(None, {"high_value": [u.id for u in people["all"]]})
    job = start(PLATFORM, run, messaging.Draft(**{**HELLO.__dict__, "sms": True}))
    assert job.status == JobStatus.QUEUED and job.params["segment_name"] == "高价值活跃"
    run_jobs()
    job = fresh(job)
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 7, 7)
    assert job.result == {"sent": 5, "capped": 0, "inactive": 2, "already": 0, "sms": 4}
    reached = [*people["phones"], people["no_phone"], people["lapsed"]]
    for user in reached:
        [message] = inbox(user.id)
        assert (message.title, message.body, message.link) == (HELLO.title, HELLO.body, HELLO.link)
    assert inbox(people["deleted"].id) == [] and inbox(people["banned"].id) == []
    sms = outbox.sms()
    assert sorted(s["to"] for s in sms) == sorted(u.phone for u in (*people["phones"], people["lapsed"]))
    assert all(s["text"] == f"{HELLO.title}：{HELLO.body} 拒收请回复R" for s in sms)
    deliveries = dict(db.session.execute(sa.select(MarketingDelivery.user_id, MarketingDelivery.channel)
                                         .where(MarketingDelivery.job_id == job.id)).all())
    assert deliveries == {**{u.id: "site_sms" for u in (*people["phones"], people["lapsed"])},
                          people["no_phone"].id: "site"}


def test_the_cap_skips_people_messaged_recently_by_anyone(people, make_merchant, run_jobs):
    shop = make_merchant()
    members = [u.id for u in people["phones"]]
    platform_run = make_run(None, {"high_value": members})
    shop_run = make_run(shop.id, {"regular": members[:2]})
    first = start(sender_for(shop), shop_run)
    run_jobs()
    assert fresh(first).result["sent"] == 2
    with travel(timedelta(days=3)):
        second = start(PLATFORM, platform_run, key="k2")
        run_jobs()
    assert fresh(second).result == {"sent": 1, "capped": 2, "inactive": 0, "already": 0, "sms": 0}
    assert [m.title for m in inbox(members[0])] == [f"【{shop.name}】{HELLO.title}"]  # the shop's, named
    assert len(inbox(members[2])) == 1
    with travel(timedelta(days=8)):  # past the 7 days of the cap: the first two may hear again
        third = start(PLATFORM, platform_run, key="k3")
        run_jobs()
    assert fresh(third).result["sent"] == 2 and fresh(third).result["capped"] == 1  # members[2] heard 5 days ago


def test_a_higher_cap_lets_more_through(people, run_jobs):
    from app.core import settings

    settings.put("marketing_cap_count", "2", people["phones"][0])
    run = make_run(None, {"high_value": [people["phones"][0].id]})
    for key in ("a", "b", "c"):
        start(PLATFORM, run, key=key)
    run_jobs()
    assert len(inbox(people["phones"][0].id)) == 2


def test_nothing_is_sent_twice(people, run_jobs, outbox):
    run = make_run(None, {"high_value": [u.id for u in people["phones"]]})
    job = start(PLATFORM, run, messaging.Draft(**{**HELLO.__dict__, "sms": True}))
    again = start(PLATFORM, run, messaging.Draft(**{**HELLO.__dict__, "sms": True}))  # the same confirmation twice
    assert again.id == job.id
    run_jobs()
    run_tracked(job.id)  # the sweep's late copy of the job
    with transaction():  # and the batch itself once more, as a crashed-and-retried batch would
        counts = messaging.deliver_batch(job.id, None, [u.id for u in people["phones"]], HELLO)
    assert counts["already"] == 3 and counts["sent"] == 0
    assert all(len(inbox(u.id)) == 1 for u in people["phones"])
    assert len(outbox.sms()) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MarketingDelivery)) == 3


def test_a_shop_sends_no_sms_and_only_its_own_segments(people, make_merchant):
    shop, other = make_merchant(), make_merchant()
    run = make_run(shop.id, {"regular": [u.id for u in people["phones"]]})
    with pytest.raises(ValidationError) as refused:
        start(sender_for(shop), run, messaging.Draft(**{**HELLO.__dict__, "sms": True}))
    assert "sms" in refused.value.fields
    with pytest.raises(NotFound):
        start(sender_for(other), run)
    with pytest.raises(NotFound):
        start(PLATFORM, run)  # the platform's sender does not reach a shop's segment either
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


@pytest.mark.parametrize(("field", "draft"), [
    ("title", messaging.Draft(title="", body="x")),
    ("title", messaging.Draft(title="长" * 41, body="x")),
    ("body", messaging.Draft(title="x", body="长" * 201)),
    ("link", messaging.Draft(title="x", body="x", link="//evil.example/")),
    ("link", messaging.Draft(title="x", body="x", link="https://evil.example/")),
])
def test_a_bad_draft_is_refused_before_anything_is_queued(people, field, draft):
    run = make_run(None, {"high_value": [people["phones"][0].id]})
    with pytest.raises(ValidationError) as refused:
        start(PLATFORM, run, draft)
    assert field in refused.value.fields
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


def test_a_segment_recomputed_before_the_job_starts_gets_nothing(people, run_jobs):
    run = make_run(None, {"high_value": [u.id for u in people["phones"]]})
    run_id, segment_id = run.id, run.segments[0].id
    job = start(PLATFORM, run)
    with transaction():
        runs.recompute(None)  # three customers: a run with too few, the old one gone
    run_jobs()
    job = fresh(job)
    assert job.status == JobStatus.FAILED and "重新计算" in job.error
    assert all(inbox(u.id) == [] for u in people["phones"])
    with pytest.raises(NotFound), transaction():  # and the old segment cannot be chosen any more
        messaging.start(PLATFORM, segment_id, run_id, HELLO, "k9")


def test_the_audience_counts_who_would_receive_it_now(people):
    run = make_run(None, {"high_value": [u.id for u in people["all"]]})
    db.session.add(MarketingDelivery(job_id=start(PLATFORM, run).id, user_id=people["phones"][0].id,
                                     channel="site", sent_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    seen = messaging.audience(run.segments[0])
    assert seen == messaging.Audience(members=7, reachable=5, capped=1, receivers=4, with_phone=3)


def test_the_user_rows_are_locked_for_the_batch(people, count_queries):
    run = make_run(None, {"high_value": [u.id for u in people["phones"]]})
    job = start(PLATFORM, run)
    with count_queries() as statements, transaction():
        messaging.deliver_batch(job.id, None, [u.id for u in people["phones"]], HELLO)
    [lock] = [s for s in statements if "FOR NO KEY UPDATE" in s]
    assert "FROM users" in lock and "ORDER BY users.id" in lock
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 7


def test_someone_who_turned_marketing_off_gets_nothing_from_anyone(people, make_merchant, run_jobs, outbox):
    quiet = people["phones"][1]
    with transaction():
        profile.set_marketing(quiet, accepts=False)
    run = make_run(None, {"high_value": [u.id for u in people["all"]]})
    assert messaging.audience(run.segments[0]).receivers == 4  # 5 reachable before, less the one who said no
    job = start(PLATFORM, run, dataclasses.replace(HELLO, sms=True))
    run_jobs()
    assert fresh(job).result["sent"] == 4 and fresh(job).result["inactive"] == 3
    texts = json.dumps(outbox.sms(), ensure_ascii=False)
    assert inbox(quiet.id) == [] and quiet.phone[-8:] not in texts and people["phones"][0].phone[-8:] in texts
    assert inbox(people["phones"][0].id)  # the others did get it
