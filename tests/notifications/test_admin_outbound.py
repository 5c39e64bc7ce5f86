"""/admin/outbound: failed deliveries are listed and an operator can queue them again."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.models import AuditLog
from app.extensions import db
from app.notifications import services as notifications
from app.notifications.models import OutboundMessage
from tests.notifications.conftest import free_port


def fresh(row_id: int) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, row_id)


@pytest.fixture
def failed_mail(app, smtp_config, run_jobs) -> int:
    """A mail whose every attempt failed because the SMTP server was down."""
    smtp_config(port=free_port())
    with transaction():
        row_id = notifications.send_mail("buyer@example.com", "notice", {"text": "你的订单已发货"}).id
    run_jobs()
    assert fresh(row_id).status == "failed"
    return row_id


@pytest.fixture
def operator(make_user):
    return make_user(admin_role="operator")


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def test_failed_rows_are_listed_with_their_error(client, login, operator, failed_mail):
    login(operator)
    page = client.get("/admin/outbound")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="outbound-{failed_mail}"' in html
    assert "buyer@example.com" in html
    assert "ConnectionRefusedError" in html
    assert f"/admin/outbound/{failed_mail}/retry" in html

    sent_tab = client.get("/admin/outbound?status=sent").get_data(as_text=True)
    assert f'id="outbound-{failed_mail}"' not in sent_tab
    partial = client.get("/admin/outbound", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.get_data(as_text=True)


def test_retry_queues_the_row_audits_it_and_the_worker_sends_it(
        app, client, login, operator, failed_mail, smtp_peer, smtp_config, run_jobs):
    login(operator)
    response = client.post(f"/admin/outbound/{failed_mail}/retry")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/outbound?status=failed")
    assert ("success", "已重新加入发送队列") in flashes(client)

    row = fresh(failed_mail)
    assert row.status == "queued" and row.error is None
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "outbound.retry"))
    assert audit.actor_id == operator.id
    assert (audit.target_type, audit.target_id) == ("OutboundMessage", str(failed_mail))

    peer = smtp_peer()
    smtp_config(peer)  # the mail server is back
    run_jobs()

    row = fresh(failed_mail)
    assert row.status == "sent"
    assert row.provider_id == peer.mailbox.messages[0]["Message-ID"]
    assert len(peer.mailbox.messages) == 1


def test_htmx_retry_returns_the_row_and_a_toast(client, login, operator, failed_mail):
    login(operator)
    response = client.post(f"/admin/outbound/{failed_mail}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="outbound-{failed_mail}"')
    assert "/retry" not in html  # a queued row offers no retry button
    assert json.loads(response.headers["HX-Trigger"])["toast"]["level"] == "success"


def test_retrying_a_row_that_is_not_failed_is_a_clear_conflict(client, login, operator, failed_mail):
    login(operator)
    assert client.post(f"/admin/outbound/{failed_mail}/retry").status_code == 302
    audits = db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "outbound.retry"))

    again = client.post(f"/admin/outbound/{failed_mail}/retry", headers={"Referer": "/admin/outbound"})
    assert again.status_code == 302
    assert again.headers["Location"].endswith("/admin/outbound")
    assert ("danger", "只有发送失败或排队过久的消息可以重试") in flashes(client)

    htmx = client.post(f"/admin/outbound/{failed_mail}/retry", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.headers["HX-Reswap"] == "none"
    toast = json.loads(htmx.headers["HX-Trigger"])["toast"]
    assert toast == {"message": "只有发送失败或排队过久的消息可以重试", "level": "danger"}

    as_json = client.post(f"/admin/outbound/{failed_mail}/retry", headers={"Accept": "application/json"})
    assert as_json.status_code == 409
    assert as_json.get_json()["error"]["code"] == "conflict"

    assert fresh(failed_mail).status == "queued"
    assert db.session.scalar(
        sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "outbound.retry")) == audits


def test_retrying_a_sent_row_is_refused(client, login, operator, outbox, run_jobs):
    with transaction():
        row_id = notifications.send_sms("+8613811112222", "notice", {"text": "你好"}).id
    run_jobs()
    assert fresh(row_id).status == "sent"

    login(operator)
    response = client.post(f"/admin/outbound/{row_id}/retry", headers={"Accept": "application/json"})
    assert response.status_code == 409
    run_jobs()
    assert fresh(row_id).status == "sent"
    assert len(outbox.sms()) == 1


def test_an_unknown_row_is_404(client, login, operator):
    login(operator)
    assert client.post("/admin/outbound/987654/retry").status_code == 404


def test_a_shopper_is_refused(client, login, make_user, failed_mail):
    login(make_user())
    assert client.get("/admin/outbound").status_code == 403
    assert client.post(f"/admin/outbound/{failed_mail}/retry").status_code == 403
    assert fresh(failed_mail).status == "failed"


def test_finance_may_not_retry(client, login, make_user, failed_mail):
    login(make_user(admin_role="finance"))
    assert client.post(f"/admin/outbound/{failed_mail}/retry").status_code == 403
    assert client.get("/admin/outbound").status_code == 403
    assert fresh(failed_mail).status == "failed"
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0


def test_signed_out_visitors_are_sent_to_sign_in(client, failed_mail):
    response = client.post(f"/admin/outbound/{failed_mail}/retry")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert fresh(failed_mail).status == "failed"


def test_a_super_admin_may_retry(client, login, make_user, failed_mail):
    login(make_user(admin_role="super"))
    assert client.post(f"/admin/outbound/{failed_mail}/retry").status_code == 302
    assert fresh(failed_mail).status == "queued"


# --- a message stuck in `queued` (its job lost while Redis was down) ------------------------------


@pytest.fixture
def stuck_mail(app, redis_client) -> int:
    """A mail queued two minutes ago whose delivery job Redis lost (it came back empty)."""
    from datetime import timedelta

    from app.core.clock import utcnow

    with transaction():
        row_id = notifications.send_mail("late@example.com", "notice", {"text": "你的订单已发货"}).id
    redis_client.flushdb()
    db.session.execute(sa.update(OutboundMessage).where(OutboundMessage.id == row_id)
                       .values(updated_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    return row_id


def test_a_stuck_queued_row_can_be_retried_and_is_sent_once(client, login, operator, stuck_mail, run_jobs, outbox):
    login(operator)
    page = client.get("/admin/outbound?status=queued").get_data(as_text=True)
    assert f'id="outbound-{stuck_mail}"' in page and f"/admin/outbound/{stuck_mail}/retry" in page

    response = client.post(f"/admin/outbound/{stuck_mail}/retry")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outbound?status=queued")
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "outbound.retry"))
    assert audit.actor_id == operator.id and audit.changes == {"status": ["queued", "queued"]}
    # queued again just now: not stuck any more, so no second retry meanwhile
    again = client.post(f"/admin/outbound/{stuck_mail}/retry", headers={"Accept": "application/json"})
    assert again.status_code == 409

    run_jobs()
    assert fresh(stuck_mail).status == "sent"
    assert [m["To"] for m in outbox.mails()] == ["late@example.com"]


def test_a_queued_row_still_within_its_minute_offers_no_retry(client, login, operator, outbox):
    with transaction():
        row_id = notifications.send_mail("soon@example.com", "notice", {"text": "稍后送达"}).id
    login(operator)
    page = client.get("/admin/outbound?status=queued").get_data(as_text=True)
    assert f'id="outbound-{row_id}"' in page and f"/admin/outbound/{row_id}/retry" not in page
    response = client.post(f"/admin/outbound/{row_id}/retry", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0


@pytest.mark.parametrize("role", ["none", "finance"])
def test_a_stuck_row_cannot_be_retried_by_a_shopper_or_finance(client, login, make_user, stuck_mail, run_jobs,
                                                              outbox, role):
    login(make_user(admin_role=role))
    assert client.post(f"/admin/outbound/{stuck_mail}/retry").status_code == 403
    run_jobs()
    assert fresh(stuck_mail).status == "queued" and outbox.mails() == []
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))) == 0
