"""Refunds done with the real gateways (WeChat Pay v3, Alipay), over real HTTP to the
fake gateway servers: the refund request names our refund notify URL, a refund still
processing is settled by WeChat's 退款结果通知 or by the sweep's refund query, an
abnormal one waits for finance to settle it offline, a retry never pays twice, forged
or misaddressed refund notifications change nothing, Alipay's fund_change is read as
Alipay means it, and the admin's 已线下退款 action is for finance alone.

Each refund here is a real one: a checkout paid after the buyer cancelled it, so the
money goes back (`RF<order_no>`, queued as the `submit_refund` job, run by a real RQ
worker)."""
# ruff: noqa: F811  (the fixtures imported below are named as test arguments)
from __future__ import annotations

import re
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, ValidationError
from app.core.jobs import get_queue
from app.core.models import AuditLog, StateChange
from app.extensions import db
from app.orders import services as order_services
from app.payments import offline_refunds, providers, services
from app.payments import tasks as payment_tasks
from app.payments.models import PaymentNotification, Refund
from app.payments.signals import refund_succeeded
from tests.payments.test_notification_matrix import (  # noqa: F401  (gateway_for, checkout are fixtures)
    OTHER_KEY,
    checkout,
    gateway_for,
    orders_of,
    refunds_of,
    run_until,
)
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


# --- helpers -------------------------------------------------------------------------------------

def refund_paid_after_cancel(gateway, checkout, client):
    """A checkout paid at the gateway after the buyer cancelled it: (payment, its pending
    refund). The refund job is queued, not run."""
    buyer, payment, _skus, _c = checkout(gateway)
    order = orders_of(payment.id)[0]
    with transaction():
        order_services.cancel_by_buyer(buyer.id, order.order_no)
    transaction_id = gateway.pay(payment.out_trade_no, payment.amount_fen)
    assert gateway.is_success(gateway.post(client, *gateway.notification(payment.out_trade_no, payment.amount_fen,
                                                                         transaction_id)))
    [refund] = refunds_of(payment.id)
    assert (refund.status, refund.attempts, refund.out_refund_no) == ("pending", 0, f"RF{order.order_no}")
    return payment, refund


def fresh(refund_id: int) -> Refund:
    db.session.expire_all()
    return db.session.get(Refund, refund_id)


@contextmanager
def announcements():
    """The refund ids `refund_succeeded` is sent for while the block runs."""
    heard: list[int] = []
    with refund_succeeded.connected_to(lambda refund, **_kw: heard.append(refund.id)):
        yield heard


def sweep(run_jobs) -> None:
    get_queue("default").enqueue(payment_tasks.sweep_refunds)
    run_jobs()


def post_refund_notification(client, headers: dict, body: bytes, provider: str = "wechatpay"):
    db.session.commit()  # end the test's savepoint: the request commits for real
    response = client.post(f"/payments/refund-notify/{provider}", data=body, headers=headers)
    db.session.expire_all()
    return response


def last_notification() -> PaymentNotification:
    return db.session.scalar(sa.select(PaymentNotification).order_by(PaymentNotification.id.desc()).limit(1))


def refund_moves(refund_id: int) -> list[tuple[str, str, int | None, str | None]]:
    return [(c.from_state, c.to_state, c.actor_id, c.note) for c in db.session.scalars(
        sa.select(StateChange).where(StateChange.entity == "refund", StateChange.entity_id == refund_id)
        .order_by(StateChange.id))]


def is_204(response) -> bool:
    return response.status_code == 204 and response.data == b""


@pytest.fixture
def wechat(gateway_for):
    return gateway_for("wechatpay")


@pytest.fixture
def alipay(gateway_for):
    return gateway_for("alipay")


# --- WeChat Pay ------------------------------------------------------------------------------------

def test_wechat_refund_succeeds_at_once_and_names_our_refund_notify_url(wechat, checkout, client, run_jobs,
                                                                       wechatpay_fake):
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    with announcements() as heard:
        run_until(run_jobs, lambda: fresh(refund.id).status == "succeeded")
    assert heard == [refund.id]
    [sent] = [b for b in wechatpay_fake.bodies if b.get("out_refund_no") == refund.out_refund_no]
    # on PUBLIC_BASE_URL (the tests' http://localhost), built without any request
    assert sent["notify_url"] == "http://localhost/payments/refund-notify/wechatpay"
    assert sent["amount"] == {"refund": refund.amount_fen, "total": payment.amount_fen, "currency": "CNY"}
    assert wechatpay_fake.refund_queries == 0  # a first send asks nothing first
    assert fresh(refund.id).provider_refund_id == wechatpay_fake.refunds[refund.out_refund_no]["refund_id"]


def test_wechat_processing_then_a_verified_notification_succeeds_once(wechat, checkout, client, run_jobs,
                                                                     wechatpay_fake):
    wechatpay_fake.refund_status = "PROCESSING"
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    with announcements() as heard:
        run_jobs()
        assert (fresh(refund.id).status, fresh(refund.id).attempts) == ("pending", 1)
        wechatpay_fake.set_refund_status(refund.out_refund_no, "SUCCESS")
        headers, body = wechatpay_fake.refund_notification(refund.out_refund_no)

        assert is_204(post_refund_notification(client, headers, body))
        done = fresh(refund.id)
        assert (done.status, done.finished_at is not None, done.last_error) == ("succeeded", True, None)
        row = last_notification()
        assert (row.outcome, row.verified, row.out_trade_no, row.body) == (
            "refund_succeeded", True, payment.out_trade_no, body.decode())

        # the same delivery again, and a redelivery under a new notify id: nothing more
        assert is_204(post_refund_notification(client, headers, body))
        assert last_notification().outcome == "duplicate"
        assert is_204(post_refund_notification(client, *wechatpay_fake.refund_notification(refund.out_refund_no)))
        assert last_notification().outcome == "duplicate"
        sweep(run_jobs)  # the sweep has nothing left to ask
    assert heard == [refund.id]
    assert (wechatpay_fake.refund_calls, wechatpay_fake.refund_queries) == (1, 0)
    assert [(f, t) for f, t, _a, _n in refund_moves(refund.id)] == [("pending", "succeeded")]


def test_wechat_processing_then_the_sweeps_query_succeeds(wechat, checkout, client, run_jobs, wechatpay_fake):
    wechatpay_fake.refund_status = "PROCESSING"
    _payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    with announcements() as heard:
        run_jobs()
        sweep(run_jobs)  # still processing at WeChat: asked, not sent again
        assert fresh(refund.id).status == "pending"
        assert (wechatpay_fake.refund_calls, wechatpay_fake.refund_queries) == (1, 1)
        wechatpay_fake.set_refund_status(refund.out_refund_no, "SUCCESS")
        sweep(run_jobs)
    assert fresh(refund.id).status == "succeeded" and heard == [refund.id]
    assert (wechatpay_fake.refund_calls, wechatpay_fake.refund_queries) == (1, 2)
    assert wechatpay_fake.requests[-1].path == f"/v3/refund/domestic/refunds/{refund.out_refund_no}"
    assert fresh(refund.id).attempts == 1


def test_wechat_abnormal_by_notification_waits_for_finance_to_settle_offline(wechat, checkout, client, run_jobs,
                                                                           wechatpay_fake, make_user):
    wechatpay_fake.refund_status = "PROCESSING"
    _payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    finance = make_user(admin_role="finance")
    with announcements() as heard:
        run_jobs()
        wechatpay_fake.set_refund_status(refund.out_refund_no, "ABNORMAL")
        assert is_204(post_refund_notification(client, *wechatpay_fake.refund_notification(refund.out_refund_no)))
        parked = fresh(refund.id)
        assert parked.status == "abnormal" and "招商银行信用卡0403" in parked.last_error
        assert parked.finished_at is None and last_notification().outcome == "refund_abnormal"
        sweep(run_jobs)  # nothing retries an abnormal refund: a person must act
        assert fresh(refund.id).status == "abnormal" and wechatpay_fake.refund_queries == 0
        assert heard == []

        with transaction():
            offline_refunds.settle_refund_offline(finance, refund.id, "工行转账 流水 20240601001")
    settled = fresh(refund.id)
    assert (settled.status, settled.last_error, settled.finished_at is not None) == ("succeeded", None, True)
    assert heard == [refund.id]
    assert refund_moves(refund.id)[-1] == ("abnormal", "succeeded", finance.id, "工行转账 流水 20240601001")
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "refund.settle_offline"))
    assert (audit.actor_id, audit.target_type, audit.target_id, audit.note) == (
        finance.id, "Refund", str(refund.id), "工行转账 流水 20240601001")
    assert wechatpay_fake.refund_calls == 1


def test_wechat_abnormal_by_query_then_a_late_gateway_success_wins_once(wechat, checkout, client, run_jobs,
                                                                       wechatpay_fake, make_user):
    """The sweep's query finds it abnormal; then the merchant re-sends it from WeChat's own
    console and WeChat announces SUCCESS: recorded once, and finance can no longer
    settle it offline (which would pay the buyer twice)."""
    wechatpay_fake.refund_status = "PROCESSING"
    _payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    with announcements() as heard:
        run_jobs()
        wechatpay_fake.set_refund_status(refund.out_refund_no, "ABNORMAL")
        sweep(run_jobs)
        assert fresh(refund.id).status == "abnormal" and heard == []
        wechatpay_fake.set_refund_status(refund.out_refund_no, "SUCCESS")
        assert is_204(post_refund_notification(client, *wechatpay_fake.refund_notification(refund.out_refund_no)))
        assert fresh(refund.id).status == "succeeded"
        with pytest.raises(Conflict), transaction():
            offline_refunds.settle_refund_offline(make_user(admin_role="finance"), refund.id, "已转账")
        # a late ABNORMAL (delivered out of order) changes nothing and is answered
        late = wechatpay_fake.refund_notification(refund.out_refund_no, "ABNORMAL")
        assert is_204(post_refund_notification(client, *late))
        assert last_notification().outcome == "duplicate"
    assert fresh(refund.id).status == "succeeded" and heard == [refund.id]
    assert [(f, t) for f, t, _a, _n in refund_moves(refund.id)] == [("pending", "abnormal"), ("abnormal", "succeeded")]


def test_a_closed_refund_fails_and_a_later_success_is_kept_as_a_conflict(wechat, checkout, client, run_jobs,
                                                                        wechatpay_fake):
    wechatpay_fake.refund_status = "PROCESSING"
    _payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    with announcements() as heard:
        run_jobs()
        wechatpay_fake.set_refund_status(refund.out_refund_no, "CLOSED")
        assert is_204(post_refund_notification(client, *wechatpay_fake.refund_notification(refund.out_refund_no)))
        assert fresh(refund.id).status == "failed" and last_notification().outcome == "refund_closed"
        success = wechatpay_fake.refund_notification(refund.out_refund_no, "SUCCESS")
        assert is_204(post_refund_notification(client, *success))  # retrying could not help
    row = last_notification()
    assert (row.outcome, row.detail) == ("refund_conflict", "refund is failed, gateway says succeeded")
    assert fresh(refund.id).status == "failed" and heard == []


@pytest.mark.parametrize("lost", ["request", "reply"])
def test_a_retry_after_a_gateway_500_reuses_the_out_refund_no_and_moves_money_once(
        lost, wechat, checkout, client, run_jobs, wechatpay_fake):
    """`request`: WeChat failed before taking the refund (the sweep's query finds none and
    sends it again); `reply`: WeChat took it and moved the money but its answer was lost
    (the query finds it: nothing is sent again)."""
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    if lost == "request":
        wechatpay_fake.refund_error = (500, "SYSTEM_ERROR")
    else:
        wechatpay_fake.lose_refund_reply = True
    run_jobs()
    waiting = fresh(refund.id)
    assert (waiting.status, waiting.attempts) == ("pending", 1) and waiting.last_error
    wechatpay_fake.refund_error, wechatpay_fake.lose_refund_reply = None, False

    with announcements() as heard:
        sweep(run_jobs)
    done = fresh(refund.id)
    assert (done.status, done.last_error) == ("succeeded", None) and heard == [refund.id]
    sent = [b["out_refund_no"] for b in wechatpay_fake.bodies if "out_refund_no" in b]
    assert sent == [refund.out_refund_no] * (2 if lost == "request" else 1)
    assert done.attempts == len(sent) and wechatpay_fake.refund_queries == 1
    assert list(wechatpay_fake.refunds) == [refund.out_refund_no]
    assert wechatpay_fake.trades[payment.out_trade_no].refunded == refund.amount_fen  # once


# --- refused refund notifications ----------------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "outcome"), [
    ("forged", 401, "rejected"),
    ("tampered", 401, "rejected"),
    ("undecryptable", 401, "rejected"),
    ("wrong_mchid", 401, "rejected"),
    ("stale", 401, "rejected"),
    ("unknown_refund", 404, "unknown_refund"),
    ("amount_mismatch", 409, "amount_mismatch"),
])
def test_bad_refund_notifications_are_refused_and_change_nothing(kind, status, outcome, wechat, checkout, client,
                                                                run_jobs, wechatpay_fake):
    wechatpay_fake.refund_status = "PROCESSING"
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    run_jobs()
    wechatpay_fake.set_refund_status(refund.out_refund_no, "SUCCESS")
    knobs = {
        "forged": {"sign_key": OTHER_KEY},
        "tampered": {"tamper": "body"},
        "undecryptable": {"tamper": "ciphertext"},
        "wrong_mchid": {"mchid": "1900000999"},
        "stale": {"timestamp": int(time.time()) - 301},
        "unknown_refund": {"out_trade_no": "P" + "9" * 17},
        "amount_mismatch": {"refund": refund.amount_fen - 1},
    }[kind]
    headers, body = wechatpay_fake.refund_notification(refund.out_refund_no, notify_id="EV-shared-1", **knobs)
    with announcements() as heard:
        response = post_refund_notification(client, headers, body)
        assert response.status_code == status and response.get_json()["code"] == "FAIL"
        row = last_notification()
        assert (row.provider, row.outcome, row.dedupe_key, row.body) == ("wechatpay", outcome, None, body.decode())
        assert fresh(refund.id).status == "pending" and heard == []

        # the genuine notification, even under the same notify id, still applies
        genuine = wechatpay_fake.refund_notification(refund.out_refund_no, notify_id="EV-shared-1")
        assert is_204(post_refund_notification(client, *genuine))
    assert fresh(refund.id).status == "succeeded" and heard == [refund.id]
    assert last_notification().outcome == "refund_succeeded"


@pytest.mark.parametrize("provider", ["alipay", "sandbox", "nope"])
def test_gateways_without_refund_notifications_refuse_them(provider, client, request):
    if provider == "alipay":
        request.getfixturevalue("alipay_fake")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(PaymentNotification))
    response = post_refund_notification(client, {"Content-Type": "application/json"}, b'{"id": "EV-1"}', provider)
    assert response.status_code == 404
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(PaymentNotification))
    if provider == "nope":
        assert stored == before
    else:  # stored as it arrived, refused
        assert stored == before + 1 and (last_notification().outcome, last_notification().verified) == (
            "rejected", False)


# --- Alipay ----------------------------------------------------------------------------------------

def alipay_calls(alipay_fake, method: str) -> int:
    return sum(1 for seen in alipay_fake.requests if {**seen.query, **seen.form}.get("method") == method)


def test_alipay_fund_change_y_succeeds_at_once(alipay, checkout, client, run_jobs, alipay_fake):
    payment, refund = refund_paid_after_cancel(alipay, checkout, client)
    with announcements() as heard:
        run_until(run_jobs, lambda: fresh(refund.id).status == "succeeded")
    assert heard == [refund.id] and alipay_fake.refund_moves == 1
    assert alipay_calls(alipay_fake, "alipay.trade.fastpay.refund.query") == 0  # "Y" needs no proof
    assert fresh(refund.id).provider_refund_id == f"{alipay_fake.trades[payment.out_trade_no].trade_no}:" \
                                                  f"{refund.out_refund_no}"


def _sent_by_a_racing_run(refund: Refund) -> None:
    """Another run (the job and the sweep raced) sent this refund first: Alipay has it."""
    payment_amount = db.session.scalar(sa.text("select amount_fen from payments where id = :id"),
                                       {"id": refund.payment_id})
    result = providers.get("alipay").refund(out_trade_no=refund.out_trade_no, out_refund_no=refund.out_refund_no,
                                            refund_fen=refund.amount_fen, total_fen=payment_amount,
                                            reason=refund.reason)
    assert result.status == "succeeded"


def test_alipay_a_repeat_with_fund_change_n_is_confirmed_by_the_refund_query(alipay, checkout, client,
                                                                              alipay_fake):
    _payment, refund = refund_paid_after_cancel(alipay, checkout, client)
    _sent_by_a_racing_run(refund)
    with announcements() as heard, transaction():
        assert services.submit_refund(refund.id) == "succeeded"
    assert heard == [refund.id] and alipay_fake.refund_moves == 1
    assert alipay_calls(alipay_fake, "alipay.trade.refund") == 2
    assert alipay_calls(alipay_fake, "alipay.trade.fastpay.refund.query") == 1


def test_alipay_fund_change_n_with_the_query_saying_not_yet_stays_pending(alipay, checkout, client, run_jobs,
                                                                         alipay_fake):
    _payment, refund = refund_paid_after_cancel(alipay, checkout, client)
    _sent_by_a_racing_run(refund)
    alipay_fake.refund_query_lag = True  # Alipay has not processed it yet
    with announcements() as heard:
        with transaction():
            assert services.submit_refund(refund.id) == "pending"
        waiting = fresh(refund.id)
        assert (waiting.status, waiting.attempts, waiting.last_error) == ("pending", 1, None)
        assert heard == []
        alipay_fake.refund_query_lag = False
        sweep(run_jobs)  # asked first, found refunded: not sent again
    assert fresh(refund.id).status == "succeeded" and heard == [refund.id]
    assert alipay_calls(alipay_fake, "alipay.trade.refund") == 2 and alipay_fake.refund_moves == 1


def test_alipay_a_refund_it_never_received_is_sent_again_by_the_sweep(alipay, checkout, client, run_jobs,
                                                                     alipay_fake, monkeypatch, app):
    payment, refund = refund_paid_after_cancel(alipay, checkout, client)
    real_url = app.config["ALIPAY_GATEWAY_URL"]
    monkeypatch.setitem(app.config, "ALIPAY_GATEWAY_URL", "http://127.0.0.1:9/unreachable")
    run_jobs()
    assert (fresh(refund.id).status, fresh(refund.id).attempts) == ("pending", 1)
    monkeypatch.setitem(app.config, "ALIPAY_GATEWAY_URL", real_url)
    sweep(run_jobs)  # the query knows no such refund: sent, with the same out_request_no
    assert fresh(refund.id).status == "succeeded" and alipay_fake.refund_moves == 1
    assert list(alipay_fake.refunds) == [(payment.out_trade_no, refund.out_refund_no)]
    assert alipay_calls(alipay_fake, "alipay.trade.fastpay.refund.query") == 1


# --- the admin's 已线下退款 ----------------------------------------------------------------------------

@pytest.fixture
def abnormal_refund(wechat, checkout, client, run_jobs, wechatpay_fake):
    """(payment, refund) WeChat reported ABNORMAL when asked for it."""
    wechatpay_fake.refund_status = "ABNORMAL"
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    run_jobs()
    assert fresh(refund.id).status == "abnormal"
    return payment, refund


def admin_client(app, make_user, login, role: str):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    return login(admin, on=app.test_client()), admin


def settle_url(refund: Refund) -> str:
    return f"/admin/refunds/{refund.id}/settle-offline"


@pytest.mark.parametrize("role", ["finance", "super"])
def test_finance_settles_an_abnormal_refund_offline_from_the_payment_page(role, app, make_user, login,
                                                                         abnormal_refund):
    payment, refund = abnormal_refund
    c, admin = admin_client(app, make_user, login, role)
    page = text(c.get(f"/admin/payments/{payment.out_trade_no}"))
    assert "退款异常" in page and f'action="{settle_url(refund)}"' in page and "已线下退款" in page
    order = orders_of(payment.id)[0]
    assert f'action="{settle_url(refund)}"' in text(c.get(f"/admin/orders/{order.order_no}"))

    with announcements() as heard:
        # the note is required: the row comes back with the error, nothing changes
        refused = c.post(settle_url(refund), data={"note": "  "}, headers=HX)
        assert refused.status_code == 200 and toast(refused)["level"] == "danger"
        assert 'id="refund-' in text(refused) and "is-invalid" in text(refused)
        assert fresh(refund.id).status == "abnormal" and heard == []

        done = c.post(settle_url(refund), data={"note": "工行转账 流水 20240601001"}, headers=HX)
        assert done.status_code == 200 and toast(done)["level"] == "success"
        row = text(done)
        assert "已退款" in row and "线下退款：工行转账 流水 20240601001" in row and "settle-offline" not in row

        again = c.post(settle_url(refund), data={"note": "再来一次"}, headers=HX)  # settled once only
        assert toast(again)["level"] == "danger"
    assert fresh(refund.id).status == "succeeded" and heard == [refund.id]
    assert refund_moves(refund.id)[-1] == ("abnormal", "succeeded", admin.id, "工行转账 流水 20240601001")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "refund.settle_offline", AuditLog.actor_id == admin.id)) == 1
    page = text(c.get(f"/admin/payments/{payment.out_trade_no}"))
    assert "线下退款：工行转账 流水 20240601001" in page and f'action="{settle_url(refund)}"' not in page


def test_the_settle_form_works_as_a_plain_post(app, make_user, login, abnormal_refund):
    payment, refund = abnormal_refund
    c, _admin = admin_client(app, make_user, login, "finance")
    response = c.post(settle_url(refund), data={"note": "现金退还"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/payments/{payment.out_trade_no}#payment-refunds")
    assert fresh(refund.id).status == "succeeded"


def test_settling_offline_is_refused_to_other_admins_and_shoppers(app, client, make_user, login, abnormal_refund):
    payment, refund = abnormal_refund
    operator, _op = admin_client(app, make_user, login, "operator")
    page = text(operator.get(f"/admin/payments/{payment.out_trade_no}"))
    assert "退款异常" in page and "settle-offline" not in page  # they see it, with no form
    assert operator.post(settle_url(refund), data={"note": "x"}).status_code == 403
    over_htmx = operator.post(settle_url(refund), data={"note": "x"}, headers=HX)  # a toast, the page kept
    assert toast(over_htmx) == {"message": "你没有权限访问这个页面", "level": "danger"}
    assert over_htmx.headers["HX-Reswap"] == "none"
    shopper, _s = admin_client(app, make_user, login, "none")
    assert shopper.post(settle_url(refund), data={"note": "x"}).status_code == 403
    assert app.test_client().post(settle_url(refund), data={"note": "x"}).status_code == 302  # to sign-in
    assert fresh(refund.id).status == "abnormal"
    # the service refuses them too, whatever surface calls it
    with pytest.raises(Forbidden):
        offline_refunds.settle_refund_offline(make_user(admin_role="operator"), refund.id, "x")
    with pytest.raises(ValidationError):
        offline_refunds.settle_refund_offline(make_user(admin_role="finance"), refund.id, "")
    assert fresh(refund.id).status == "abnormal"


def test_a_refund_that_is_not_abnormal_offers_no_form_and_cannot_be_settled(app, make_user, login, wechat,
                                                                           checkout, client, run_jobs):
    payment, refund = refund_paid_after_cancel(wechat, checkout, client)
    c, _admin = admin_client(app, make_user, login, "finance")
    assert "settle-offline" not in text(c.get(f"/admin/payments/{payment.out_trade_no}"))  # pending
    response = c.post(settle_url(refund), data={"note": "现金退还"}, headers=HX)
    assert toast(response)["level"] == "danger" and fresh(refund.id).status == "pending"
    assert c.post("/admin/refunds/999999/settle-offline", data={"note": "x"}).status_code == 404


def test_settling_offline_respects_csrf(app, make_user, login, abnormal_refund, monkeypatch):
    payment, refund = abnormal_refund
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    c, _admin = admin_client(app, make_user, login, "finance")
    page = text(c.get(f"/admin/payments/{payment.out_trade_no}"))
    forged = c.post(settle_url(refund), data={"note": "现金退还"})  # a cross-site post has no token
    assert forged.status_code == 400 and fresh(refund.id).status == "abnormal"
    form = page[page.index(f'action="{settle_url(refund)}"'):]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert c.post(settle_url(refund), data={"note": "现金退还", "csrf_token": token}).status_code == 302
    assert fresh(refund.id).status == "succeeded"
