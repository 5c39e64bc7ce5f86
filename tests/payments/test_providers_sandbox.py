"""The sandbox gateway: its HMAC-signed notification contract and its no-op
query/refund/close."""
from __future__ import annotations

import json

import pytest

from app.payments import providers
from app.payments.providers.base import MalformedNotification, NotificationRejected, PayRequest
from app.payments.providers.sandbox import SandboxProvider, build_notification, sign_body

SECRET = "sandbox-test-secret"  # TestConfig's


@pytest.fixture
def sandbox(app):
    assert app.config["SANDBOX_PAY_SECRET"] == SECRET
    return providers.get("sandbox")


def signed(data: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(data).encode()
    return body, {"X-Sandbox-Signature": sign_body(body, SECRET)}


def valid_fields(**changes) -> dict:
    return {"out_trade_no": "P20240101000001", "transaction_id": "SBX1", "amount_fen": 1990,
            "status": "SUCCESS", "notify_id": "SBN1", **changes}


def test_start_returns_the_local_pay_page(sandbox):
    request = PayRequest("P20240101000001", 1990, "鲜果铺的订单", "page", "https://shop.test/payments/notify/sandbox")
    assert sandbox.start(request) == {"pay_url": "/payments/sandbox/P20240101000001"}


def test_a_built_notification_verifies(sandbox):
    body, headers = build_notification("P20240101000001", 1990, "SUCCESS", notify_id="SBN-7")
    result = sandbox.verify_notification(headers, body)
    assert (result.notify_id, result.out_trade_no, result.amount_fen, result.succeeded) == \
        ("SBN-7", "P20240101000001", 1990, True)
    assert result.transaction_id.startswith("SBX")
    assert sandbox.peek_notify_id(headers, body) == "SBN-7"


def test_a_fail_notification_is_not_a_success(sandbox):
    body, headers = build_notification("P1", 100, "FAIL")
    assert sandbox.verify_notification(headers, body).succeeded is False


def test_header_name_is_case_insensitive(sandbox):
    body, headers = signed(valid_fields())
    lower = {"x-sandbox-signature": headers["X-Sandbox-Signature"]}
    assert sandbox.verify_notification(lower, body).notify_id == "SBN1"


@pytest.mark.parametrize("headers", [
    {},  # missing
    {"X-Sandbox-Signature": ""},
    {"X-Sandbox-Signature": "00" * 32},
    {"X-Sandbox-Signature": sign_body(b"{}", SECRET)},  # signature of another body
])
def test_bad_or_missing_signature_is_rejected_with_401(sandbox, headers):
    body, _good = signed(valid_fields())
    with pytest.raises(NotificationRejected) as info:
        sandbox.verify_notification(headers, body)
    assert info.value.status == 401
    assert not isinstance(info.value, MalformedNotification)


def test_signature_with_another_secret_is_rejected(sandbox):
    body, headers = build_notification("P1", 100, "SUCCESS", secret="someone-else")
    with pytest.raises(NotificationRejected):
        sandbox.verify_notification(headers, body)


def test_a_tampered_amount_is_rejected(sandbox):
    body, headers = signed(valid_fields())
    with pytest.raises(NotificationRejected):
        sandbox.verify_notification(headers, body.replace(b"1990", b"1"))


@pytest.mark.parametrize("body", [
    b"not json",
    b"\xff\xfe",
    b"[1, 2]",
    json.dumps({k: v for k, v in valid_fields().items() if k != "notify_id"}).encode(),
    json.dumps(valid_fields(amount_fen="19.90")).encode(),
    json.dumps(valid_fields(amount_fen=19.9)).encode(),
    json.dumps(valid_fields(amount_fen=-1)).encode(),
    json.dumps(valid_fields(amount_fen=True)).encode(),
    json.dumps(valid_fields(status="PAID")).encode(),
    json.dumps(valid_fields(out_trade_no="")).encode(),
])
def test_malformed_bodies_with_a_good_signature_are_400(sandbox, body):
    with pytest.raises(MalformedNotification) as info:
        sandbox.verify_notification({"X-Sandbox-Signature": sign_body(body, SECRET)}, body)
    assert info.value.status == 400


def test_peek_tolerates_garbage(sandbox):
    assert sandbox.peek_notify_id({}, b"garbage") is None
    assert sandbox.peek_notify_id({}, b'{"notify_id": 5}') is None


def test_replies(sandbox):
    assert sandbox.success_reply() == (b'{"ok": true}', 200, "application/json")
    body, status, content_type = sandbox.failure_reply(409, "金额不符")
    assert (json.loads(body), status, content_type) == ({"ok": False, "error": "金额不符"}, 409, "application/json")


def test_query_refund_and_close(sandbox):
    assert sandbox.query("P1").status == "unknown"
    first = sandbox.refund(out_trade_no="P1", out_refund_no="R1", refund_fen=100, total_fen=100, reason="")
    again = sandbox.refund(out_trade_no="P1", out_refund_no="R1", refund_fen=100, total_fen=100, reason="")
    assert first == again
    assert (first.status, first.provider_refund_id) == ("succeeded", "SBR" + "R1")
    assert sandbox.close("P1") is None


def test_no_secret_no_sandbox(app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_PAY_SECRET", None)
    body, headers = build_notification("P1", 100, "SUCCESS", secret=SECRET)
    with pytest.raises(NotificationRejected):
        SandboxProvider().verify_notification(headers, body)
