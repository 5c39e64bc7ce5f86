"""The whole path: a service records the message in the caller's transaction,
the job goes to RQ only after the commit, and a real RQ worker delivers it
through the configured provider, recording every attempt on the row."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.job import JobStatus

from app.core.clock import utcnow
from app.core.db import transaction
from app.core.jobs import get_queue
from app.extensions import db
from app.notifications import services as notifications
from app.notifications import tasks
from app.notifications.models import OutboundMessage
from tests.notifications.conftest import free_port

PHONE = "+8613811112222"


def fresh(row_id: int) -> OutboundMessage:
    """The row as the worker left it (the worker used its own session)."""
    db.session.expire_all()
    return db.session.get(OutboundMessage, row_id)


def run_until(run_jobs, condition: Callable[[], bool], rounds: int = 10) -> None:
    """Run burst workers until `condition` holds: waits on state, never on the clock."""
    for _ in range(rounds):
        run_jobs()
        db.session.expire_all()
        if condition():
            return
    raise AssertionError("condition not reached after running the queues")


def queued_jobs() -> int:
    return get_queue("high").count


def send_code() -> int:
    with transaction():
        row = notifications.send_sms(PHONE, "verification_code", {"code": "246810", "minutes": 5})
        row_id = row.id
    return row_id


# --------------------------------------------------------------------------- commit / rollback


def test_sms_is_queued_in_the_transaction_and_sent_after_commit(app, outbox, run_jobs):
    with transaction():
        row = notifications.send_sms(PHONE, "verification_code", {"code": "246810", "minutes": 5})
        row_id = row.id
        assert row.status == "queued" and row.attempts == 0
        assert queued_jobs() == 0  # nothing leaves before the commit
    assert fresh(row_id).status == "queued"
    assert queued_jobs() == 1
    assert outbox.sms() == []

    run_jobs()

    row = fresh(row_id)
    assert row.status == "sent"
    assert row.provider_id.startswith("console-")
    assert row.attempts == 1 and row.sent_at is not None and row.error is None
    [line] = outbox.sms()
    assert line["to"] == PHONE
    assert line["params"] == {"code": "246810", "minutes": 5}
    assert line["text"] == "您的验证码是246810，5分钟内有效。如非本人操作，请忽略本短信。"


def test_mail_is_queued_and_sent_after_commit(app, outbox, run_jobs):
    with transaction():
        row = notifications.send_mail("buyer@example.com", "notice", {"text": "你的订单已发货"})
        row_id = row.id
        assert queued_jobs() == 0
    assert outbox.mails() == []

    run_jobs()

    row = fresh(row_id)
    assert row.status == "sent" and row.subject == "通知"
    [mail] = outbox.mails()
    assert mail["To"] == "buyer@example.com"
    assert mail["Subject"] == "通知"
    assert "你的订单已发货" in mail.get_body(("plain",)).get_content()


def test_nothing_is_recorded_or_sent_when_the_transaction_rolls_back(app, outbox, run_jobs):
    with pytest.raises(RuntimeError), transaction():
        notifications.send_sms(PHONE, "verification_code", {"code": "111111", "minutes": 5})
        notifications.send_mail("buyer@example.com", "notice", {"text": "x"})
        raise RuntimeError("the order could not be placed")

    assert db.session.scalar(sa.select(sa.func.count(OutboundMessage.id))) == 0
    assert queued_jobs() == 0
    run_jobs()
    assert outbox.sms() == [] and outbox.mails() == []

    # The next transaction is not haunted by the dropped jobs.
    row_id = send_code()
    assert queued_jobs() == 1
    run_jobs()
    assert fresh(row_id).status == "sent"
    assert [line["params"]["code"] for line in outbox.sms()] == ["246810"]


# --------------------------------------------------------------------------- real providers


def test_sms_through_aliyun(app, aliyun_config, fake_aliyun, outbox, run_jobs):
    row_id = send_code()
    run_jobs()

    row = fresh(row_id)
    [request] = fake_aliyun.sent()
    assert row.status == "sent" and row.provider == "aliyun"
    assert row.provider_id.endswith("^0")
    assert request["PhoneNumbers"] == "13811112222"
    assert request["TemplateCode"] == "SMS_100001"
    assert outbox.sms() == []  # the console channel was not used


def test_mail_through_smtp_with_login(app, smtp_peer, smtp_config, run_jobs):
    peer = smtp_peer(auth=True)
    smtp_config(peer)
    with transaction():
        row_id = notifications.send_mail("buyer@example.com", "notice", {"text": "你的订单已发货"}).id
    run_jobs()

    row = fresh(row_id)
    [mail] = peer.mailbox.messages
    assert row.status == "sent" and row.provider == "smtp"
    assert row.provider_id == mail["Message-ID"]
    assert mail["From"] == app.config["MAIL_FROM"]
    assert peer.mailbox.logins == ["mailer"]


# --------------------------------------------------------------------------- failures and retries


def test_a_failing_provider_marks_the_row_failed_after_rq_retries(app, smtp_config, run_jobs):
    smtp_config(port=free_port())  # the mail server is down
    with transaction():
        row_id = notifications.send_mail("buyer@example.com", "notice", {"text": "x"}).id
    retries = len(app.config["JOB_RETRY_INTERVALS"])

    # With interval 0 RQ puts a failed job straight back on its queue, so the
    # burst worker makes every attempt; the row records each one.
    queue = get_queue("high")
    run_until(run_jobs, lambda: queue.failed_job_registry.count == 1)

    row = fresh(row_id)
    assert row.status == "failed"
    assert row.attempts == 1 + retries
    assert "ConnectionRefusedError" in row.error
    assert row.provider_id is None and row.sent_at is None
    assert queue.count == 0


def test_a_retry_that_succeeds_marks_the_row_sent(app, aliyun_config, fake_aliyun, run_jobs):
    fake_aliyun.replies.append({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"})
    row_id = send_code()

    run_until(run_jobs, lambda: fresh(row_id).status == "sent")

    row = fresh(row_id)
    assert row.attempts == 2 and row.error is None
    assert [r["_reply_code"] for r in fake_aliyun.requests] == ["isv.BUSINESS_LIMIT_CONTROL", "OK"]
    assert get_queue("high").failed_job_registry.count == 0


def test_retries_with_a_delay_wait_in_the_scheduler_until_due(app, monkeypatch, smtp_peer, smtp_config, run_jobs):
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", (60,))
    smtp_config(port=free_port())
    with transaction():
        row_id = notifications.send_mail("buyer@example.com", "notice", {"text": "x"}).id

    run_jobs()

    queue = get_queue("high")
    row = fresh(row_id)
    # A retry is still due: the row stays queued (with the error) so nobody requeues it twice.
    assert row.status == "queued" and row.attempts == 1 and "SMTP" in row.error
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.get_status() == JobStatus.SCHEDULED
    run_jobs()  # not due yet: the scheduler leaves it alone
    assert fresh(row_id).attempts == 1

    peer = smtp_peer()
    smtp_config(peer)  # the server is back
    queue.scheduled_job_registry.schedule(job, utcnow() - timedelta(seconds=1))  # make it due now
    run_until(run_jobs, lambda: fresh(row_id).status == "sent")

    assert fresh(row_id).attempts == 2
    assert len(peer.mailbox.messages) == 1


# --------------------------------------------------------------------------- idempotency


def test_running_the_job_twice_never_sends_twice(app, outbox, run_jobs):
    row_id = send_code()
    queue = get_queue("high")
    queue.enqueue(tasks.deliver_outbound, row_id)  # a duplicate, as after a lost acknowledgement

    run_jobs()
    assert len(outbox.sms()) == 1

    queue.enqueue(tasks.deliver_outbound, row_id)  # and again, long after it was sent
    run_jobs()
    assert tasks.deliver_outbound(row_id) == "skipped"

    row = fresh(row_id)
    assert len(outbox.sms()) == 1
    assert row.status == "sent" and row.attempts == 1


def test_a_job_for_a_missing_row_is_skipped(app, run_jobs):
    assert tasks.deliver_outbound(987654) == "skipped"


def test_mail_renders_outside_a_request_with_html_escaped(app, outbox, run_jobs):
    link = "https://shop.local/register?t=a1&n=<b>"
    with transaction():  # a job or CLI command: no request context here
        row_id = notifications.send_mail("new@example.com", "register_link", {"email": "new@example.com", "link": link}).id
    run_jobs()

    assert fresh(row_id).subject == "完成注册"
    [mail] = outbox.mails()
    assert link in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "https://shop.local/register?t=a1&amp;n=&lt;b&gt;" in html
    assert "<b>" not in html
