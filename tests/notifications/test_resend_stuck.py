"""The sweep that sends again what lost its delivery job: a message still `queued`
a minute after it was made (Redis was down at the commit, or came back empty)
goes out once; a message between RQ retries waits for RQ; an expired
verification code is never sent late; a row a worker holds is left alone.

Redis losing its memory is real here: the test Redis is emptied (FLUSHDB), as a
restarted server without persistence is. The killed-server drill is in
tests/test_redis_outage.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel
from app.core.db import transaction
from app.core.errors import Conflict
from app.extensions import db
from app.notifications import services as notifications
from app.notifications import tasks
from app.notifications.models import OutboundMessage


def fresh(row_id: int) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, row_id)


def queued_mail(to: str = "buyer@example.com") -> int:
    with transaction():
        return notifications.send_mail(to, "notice", {"text": "你的订单已发货"}).id


def test_a_message_whose_job_was_lost_is_sent_once_after_a_minute(redis_client, run_jobs, outbox):
    row_id = queued_mail()
    redis_client.flushdb()  # Redis came back empty: the delivery job is gone
    assert run_jobs() == 0 and fresh(row_id).status == "queued"

    assert tasks.resend_stuck_outbound() == 0  # still fresh: its job may just be slow
    with travel(timedelta(seconds=61)):
        assert tasks.resend_stuck_outbound() == 1
        assert tasks.resend_stuck_outbound() == 0  # claimed: the next run does not queue it again
        run_jobs()
    row = fresh(row_id)
    assert row.status == "sent" and row.attempts == 1
    assert len(outbox.mails()) == 1

    with travel(timedelta(minutes=10)):
        assert tasks.resend_stuck_outbound() == 0
        run_jobs()
    assert len(outbox.mails()) == 1


def test_a_message_whose_job_is_only_late_is_still_sent_once(run_jobs, outbox):
    row_id = queued_mail()  # its job is still in the queue
    with travel(timedelta(seconds=61)):
        assert tasks.resend_stuck_outbound() == 1  # a second job for it
        assert run_jobs() == 2  # both ran
    assert fresh(row_id).status == "sent"
    assert len(outbox.mails()) == 1


def test_a_message_between_retries_waits_for_rqs_backoff(app, redis_client, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", (10, 60, 300))
    row_id = queued_mail()
    redis_client.flushdb()
    # One attempt failed and RQ holds a retry for up to 300 s: the row shows queued with the error.
    db.session.execute(sa.update(OutboundMessage).where(OutboundMessage.id == row_id)
                       .values(attempts=1, error="DeliveryError: down"))
    db.session.commit()
    with travel(timedelta(minutes=2)):
        assert tasks.resend_stuck_outbound() == 0
    with travel(timedelta(minutes=6, seconds=1)):  # a minute past the longest retry interval
        assert tasks.resend_stuck_outbound() == 1


def test_an_expired_verification_code_is_not_sent_late(make_user, redis_client, run_jobs, outbox):
    with transaction():
        row_id = notifications.send_sms("+8613955550003", "verification_code", {"code": "123456", "minutes": 5}).id
    redis_client.flushdb()
    with travel(timedelta(minutes=6)):
        assert tasks.resend_stuck_outbound() == 0
        run_jobs()
        row = fresh(row_id)
        assert row.status == "failed" and row.error == "expired before it could be sent"
        assert not notifications.retryable(row)
        with pytest.raises(Conflict):
            notifications.retry_outbound(make_user(admin_role="operator"), row_id)
    assert outbox.sms() == []


def test_a_code_still_valid_is_sent(redis_client, run_jobs, outbox):
    with transaction():
        notifications.send_sms("+8613955550004", "verification_code", {"code": "654321", "minutes": 5})
    redis_client.flushdb()
    with travel(timedelta(minutes=2)):
        assert tasks.resend_stuck_outbound() == 1
        run_jobs()
    assert outbox.last_code("13955550004") == "654321"


@pytest.mark.live_db
def test_a_row_a_worker_is_sending_is_left_to_it(app, redis_client, outbox):
    row_id = queued_mail()
    redis_client.flushdb()
    db.session.remove()
    with travel(timedelta(seconds=61)):
        with db.engine.connect() as worker, worker.begin():
            worker.execute(sa.text("SELECT id FROM outbound_messages WHERE id = :id FOR UPDATE"), {"id": row_id})
            assert tasks.resend_stuck_outbound() == 0
        assert tasks.resend_stuck_outbound() == 1  # released and still queued: now it is taken


def test_a_late_job_does_not_send_a_code_the_sweep_expired(redis_client, run_jobs, outbox):
    """The job was only late (still in the queue) when the sweep found the code expired and
    failed it: when the job finally runs it sends nothing (it used to skip only sent rows)."""
    with transaction():
        row_id = notifications.send_sms("+8613955550005", "verification_code", {"code": "135790", "minutes": 5}).id
    with travel(timedelta(minutes=6)):
        assert tasks.resend_stuck_outbound() == 0
        assert fresh(row_id).status == "failed"
        run_jobs()  # the original job, late
    row = fresh(row_id)
    assert row.status == "failed" and row.attempts == 0
    assert outbox.sms() == []
