"""WeChat Pay API v3 adapter against a fake gateway that checks our request
signatures and signs its replies and notifications with keys made in the test."""
from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from app.core.errors import ValidationError
from app.payments import providers
from app.payments.providers.base import GatewayError, MalformedNotification, NotificationRejected, PayRequest
from app.payments.providers.wechatpay import WechatPayProvider, platform_certificates
from tests.accounts.test_oauth_fakes import rsa_pem_pair

NOTIFY_URL = "https://shop.test/payments/notify/wechatpay"


@pytest.fixture
def wechatpay(wechatpay_fake):
    return providers.get("wechatpay")


def pay_request(channel="jsapi", out_trade_no="P20240101000001", amount_fen=1990, **extra) -> PayRequest:
    return PayRequest(out_trade_no, amount_fen, "鲜果铺 等 2 家店铺的订单", channel, NOTIFY_URL, **extra)


def prepared(wechatpay, out_trade_no="P20240101000001", amount_fen=1990) -> None:
    wechatpay.start(pay_request("native", out_trade_no, amount_fen))


# --- prepay ------------------------------------------------------------------------------------

def test_jsapi_prepay_returns_request_payment_params_signed_with_our_key(wechatpay, wechatpay_fake, payment_keys):
    params = wechatpay.start(pay_request("jsapi", openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == wechatpay_fake.appid and params["signType"] == "RSA"
    assert re.fullmatch(r"prepay_id=wx[0-9a-f]+", params["package"])
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    payment_keys.wechat.merchant[0].public_key().verify(
        base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        payment_keys.wechat.merchant[0].public_key().verify(
            base64.b64decode(params["paySign"]), message + b"x", padding.PKCS1v15(), hashes.SHA256())
    sent = wechatpay_fake.bodies[-1]
    assert sent == {"appid": wechatpay_fake.appid, "mchid": wechatpay_fake.mchid,
                    "description": "鲜果铺 等 2 家店铺的订单", "out_trade_no": "P20240101000001",
                    "notify_url": NOTIFY_URL, "amount": {"total": 1990, "currency": "CNY"},
                    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}
    authorization = wechatpay_fake.requests[-1].headers["Authorization"]
    assert re.fullmatch(r'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="\w+",signature="[^"]+",'
                        r'timestamp="\d+",serial_no="[0-9A-F]+"', authorization)


def test_jsapi_needs_an_openid(wechatpay, wechatpay_fake):
    with pytest.raises(ValidationError):
        wechatpay.start(pay_request("jsapi"))
    assert wechatpay_fake.requests == []


def test_native_prepay_returns_a_code_url(wechatpay, wechatpay_fake):
    assert wechatpay.start(pay_request("native"))["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert wechatpay_fake.trades["P20240101000001"].trade_type == "NATIVE"


def test_h5_prepay_sends_scene_info_and_returns_h5_url(wechatpay, wechatpay_fake):
    result = wechatpay.start(pay_request("h5", client_ip="203.0.113.9"))
    assert result["h5_url"].startswith("https://wx.tenpay.com/")
    assert wechatpay_fake.bodies[-1]["scene_info"] == {"payer_client_ip": "203.0.113.9", "h5_info": {"type": "Wap"}}


def test_a_refused_prepay_raises_gateway_error_with_wechats_message(app, wechatpay, monkeypatch):
    monkeypatch.setitem(app.config, "WECHATPAY_APPID", "wx-some-other-app")
    with pytest.raises(GatewayError) as info:
        wechatpay.start(pay_request("native"))
    assert "appid和mch_id不匹配" in info.value.message
    assert info.value.code == "wechatpay_appid_mchid_not_match"


def test_a_request_signed_with_another_key_is_refused_by_the_gateway(app, wechatpay, monkeypatch):
    monkeypatch.setitem(app.config, "WECHATPAY_PRIVATE_KEY", rsa_pem_pair()[1])
    with pytest.raises(GatewayError) as info:
        wechatpay.start(pay_request("native"))
    assert info.value.code == "wechatpay_sign_error"


def test_a_tampered_reply_is_refused(wechatpay, wechatpay_fake):
    wechatpay_fake.tamper_replies = True
    with pytest.raises(GatewayError) as info:
        wechatpay.start(pay_request("native"))
    assert info.value.code == "wechatpay_bad_signature"


def test_an_unsigned_success_reply_is_refused(wechatpay, wechatpay_fake):
    wechatpay_fake.unsigned_replies = True
    with pytest.raises(GatewayError):
        wechatpay.start(pay_request("native"))


def test_replies_signed_with_the_platform_certificate_verify(wechatpay, wechatpay_fake):
    wechatpay_fake.reply_signer = "platform"
    assert "code_url" in wechatpay.start(pay_request("native"))


def test_gateway_down_raises_gateway_error(wechatpay, wechatpay_fake):
    wechatpay_fake.close()
    with pytest.raises(GatewayError) as info:
        wechatpay.start(pay_request("native"))
    assert info.value.message == "暂时无法连接微信支付，请稍后再试"
    with pytest.raises(GatewayError):
        wechatpay.query("P1")


# --- notifications -------------------------------------------------------------------------------

@pytest.mark.parametrize("signer", ["public_key", "platform"])
def test_notification_verifies_by_public_key_id_or_platform_certificate(wechatpay, wechatpay_fake, signer):
    headers, body = wechatpay_fake.notification("P20240101000001", 1990, signer=signer, notify_id="EV-1",
                                                transaction_id="4200000000000001")
    result = wechatpay.verify_notification(headers, body)
    assert (result.notify_id, result.out_trade_no, result.transaction_id, result.amount_fen, result.succeeded) == \
        ("EV-1", "P20240101000001", "4200000000000001", 1990, True)
    assert result.raw["trade_state"] == "SUCCESS"
    assert wechatpay.peek_notify_id(headers, body) == "EV-1"


def test_header_names_are_case_insensitive(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100)
    lower = {k.lower(): v for k, v in headers.items()}
    assert wechatpay.verify_notification(lower, body).amount_fen == 100


def test_a_non_success_trade_state_is_not_a_success(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100, trade_state="PAYERROR")
    assert wechatpay.verify_notification(headers, body).succeeded is False


def rejected(wechatpay, headers, body) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as info:
        wechatpay.verify_notification(headers, body)
    return info.value


def test_unknown_serial_is_rejected(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100, serial="7132D72A03E93CDDF8C03BBD1F37EEDF43FD6C7E")
    assert rejected(wechatpay, headers, body).code == "unknown_serial"


def test_signature_by_another_key_is_rejected(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100, sign_key=rsa_pem_pair()[0])
    error = rejected(wechatpay, headers, body)
    assert (error.status, error.code) == (401, "bad_signature")


def test_a_body_changed_after_signing_is_rejected(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100, tamper="body")
    assert rejected(wechatpay, headers, body).code == "bad_signature"


@pytest.mark.parametrize("missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature",
                                     "Wechatpay-Serial"])
def test_missing_signature_headers_are_rejected(wechatpay, wechatpay_fake, missing):
    headers, body = wechatpay_fake.notification("P1", 100)
    del headers[missing]
    rejected(wechatpay, headers, body)


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_timestamp_more_than_five_minutes_off_is_rejected(wechatpay_fake, offset):
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    provider = WechatPayProvider(now=lambda: now)
    headers, body = wechatpay_fake.notification("P1", 100, timestamp=int(now.timestamp()) + offset)
    assert rejected(provider, headers, body).code == "stale"


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_within_five_minutes_is_accepted(wechatpay_fake, offset):
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    provider = WechatPayProvider(now=lambda: now)
    headers, body = wechatpay_fake.notification("P1", 100, timestamp=int(now.timestamp()) + offset)
    assert provider.verify_notification(headers, body).succeeded


def test_another_merchants_notification_is_rejected(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100, mchid="1900000999")
    assert rejected(wechatpay, headers, body).code == "wrong_merchant"


@pytest.mark.parametrize("how", [{"tamper": "ciphertext"}, {"apiv3_key": "z" * 32}])
def test_a_resource_that_does_not_decrypt_is_rejected(wechatpay, wechatpay_fake, how):
    headers, body = wechatpay_fake.notification("P1", 100, **how)
    assert rejected(wechatpay, headers, body).code == "undecryptable"


def test_a_signed_body_that_is_not_a_notification_is_malformed(wechatpay, wechatpay_fake):
    body = b'{"id": "EV-1"}'
    headers = wechatpay_fake.signature_headers(body)
    assert isinstance(rejected(wechatpay, headers, body), MalformedNotification)


def test_missing_apiv3_key_answers_503(app, wechatpay, wechatpay_fake, monkeypatch):
    headers, body = wechatpay_fake.notification("P1", 100)
    monkeypatch.setitem(app.config, "WECHATPAY_APIV3_KEY", None)
    assert rejected(wechatpay, headers, body).status == 503


def test_peek_tolerates_garbage(wechatpay):
    assert wechatpay.peek_notify_id({}, b"\xff") is None
    assert wechatpay.peek_notify_id({}, b"[]") is None


def test_replies(wechatpay):
    assert wechatpay.success_reply() == (b"", 204, "application/json")
    body, status, content_type = wechatpay.failure_reply(500, "稍后再试")
    assert (json.loads(body), status, content_type) == ({"code": "FAIL", "message": "稍后再试"}, 500,
                                                        "application/json")


def test_platform_certificates_config_format():
    assert platform_certificates("ab12=PEM1;; CD34 = PEM2 ;;") == {"AB12": "PEM1", "CD34": "PEM2"}
    assert platform_certificates("") == {}


# --- query, close, refund ----------------------------------------------------------------------

def test_query_follows_the_trade(wechatpay, wechatpay_fake):
    assert wechatpay.query("P20240101000001").status == "unknown"
    prepared(wechatpay)
    assert wechatpay.query("P20240101000001").status == "pending"
    trade = wechatpay_fake.pay("P20240101000001")
    state = wechatpay.query("P20240101000001")
    assert (state.status, state.transaction_id, state.amount_fen) == ("paid", trade.transaction_id, 1990)
    assert wechatpay_fake.requests[-1].query == {"mchid": wechatpay_fake.mchid}


def test_close_makes_the_trade_closed(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay.close("P20240101000001")
    assert wechatpay.query("P20240101000001").status == "closed"
    wechatpay.close("P-never-sent")  # nothing to close


def test_closing_a_paid_trade_raises(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    with pytest.raises(GatewayError):
        wechatpay.close("P20240101000001")


def refund(wechatpay, out_refund_no="R1", refund_fen=990):
    return wechatpay.refund(out_trade_no="P20240101000001", out_refund_no=out_refund_no, refund_fen=refund_fen,
                            total_fen=1990, reason="缺货")


def test_refund_succeeds_and_a_retry_refunds_once(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    first = refund(wechatpay)
    again = refund(wechatpay)
    assert first.status == "succeeded" and first.provider_refund_id
    assert again == first
    assert wechatpay_fake.refund_calls == 2
    assert len(wechatpay_fake.refunds) == 1
    assert wechatpay_fake.trades["P20240101000001"].refunded == 990
    assert wechatpay_fake.bodies[-1] == {"out_trade_no": "P20240101000001", "out_refund_no": "R1", "reason": "缺货",
                                         "amount": {"refund": 990, "total": 1990, "currency": "CNY"}}


def test_a_processing_refund_is_pending(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    wechatpay_fake.refund_status = "PROCESSING"
    assert refund(wechatpay).status == "pending"


def test_a_refund_beyond_the_total_fails_with_wechats_message(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    result = refund(wechatpay, refund_fen=5000)
    assert (result.status, result.message) == ("failed", "退款金额超出可退金额")


@pytest.mark.parametrize("error", [(500, "SYSTEM_ERROR"), (429, "FREQUENCY_LIMITED"), (403, "SYSTEM_ERROR")])
def test_try_later_refusals_raise_so_the_refund_is_retried(wechatpay, wechatpay_fake, error):
    wechatpay_fake.refund_error = error
    with pytest.raises(GatewayError):
        refund(wechatpay)


def test_refund_carries_the_notify_url_when_given(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    wechatpay.refund(out_trade_no="P20240101000001", out_refund_no="R1", refund_fen=990, total_fen=1990,
                     reason="", notify_url="https://shop.test/payments/refund-notify/wechatpay")
    assert wechatpay_fake.bodies[-1]["notify_url"] == "https://shop.test/payments/refund-notify/wechatpay"


@pytest.mark.parametrize(("wechat_status", "status"), [
    ("PROCESSING", "pending"), ("SUCCESS", "succeeded"), ("ABNORMAL", "abnormal"), ("CLOSED", "failed")])
def test_refund_query_follows_the_refund(wechatpay, wechatpay_fake, wechat_status, status):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    assert wechatpay.query_refund(out_trade_no="P20240101000001", out_refund_no="R1").status == "unknown"
    wechatpay_fake.refund_status = "PROCESSING"
    made = refund(wechatpay)
    wechatpay_fake.set_refund_status("R1", wechat_status)
    result = wechatpay.query_refund(out_trade_no="P20240101000001", out_refund_no="R1")
    assert (result.status, result.provider_refund_id) == (status, made.provider_refund_id)
    if status in ("abnormal", "failed"):  # which account refused the money
        assert result.message == f"{wechat_status}: 招商银行信用卡0403"
    assert wechatpay_fake.requests[-1].path == "/v3/refund/domestic/refunds/R1"


def test_an_abnormal_refund_reply_is_abnormal(wechatpay, wechatpay_fake):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    wechatpay_fake.refund_status = "ABNORMAL"
    assert refund(wechatpay).status == "abnormal"


@pytest.mark.parametrize(("wechat_status", "status"), [
    ("SUCCESS", "succeeded"), ("ABNORMAL", "abnormal"), ("CLOSED", "failed")])
def test_refund_notification_verifies_and_decodes(wechatpay, wechatpay_fake, wechat_status, status):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    made = refund(wechatpay)
    headers, body = wechatpay_fake.refund_notification("R1", wechat_status, notify_id="EV-R1")
    result = wechatpay.verify_refund_notification(headers, body)
    assert (result.notify_id, result.out_trade_no, result.out_refund_no, result.provider_refund_id, result.status,
            result.refund_fen) == ("EV-R1", "P20240101000001", "R1", made.provider_refund_id, status, 990)
    assert result.raw["event_type"] == f"REFUND.{wechat_status}"


@pytest.mark.parametrize(("knobs", "code"), [
    ({"sign_key": "other"}, "bad_signature"), ({"tamper": "body"}, "bad_signature"),
    ({"tamper": "ciphertext"}, "undecryptable"), ({"mchid": "1900000999"}, "wrong_merchant")])
def test_bad_refund_notifications_are_rejected(wechatpay, wechatpay_fake, knobs, code):
    prepared(wechatpay)
    wechatpay_fake.pay("P20240101000001")
    refund(wechatpay)
    if knobs.get("sign_key") == "other":
        knobs = {"sign_key": rsa_pem_pair()[0]}
    headers, body = wechatpay_fake.refund_notification("R1", **knobs)
    with pytest.raises(NotificationRejected) as info:
        wechatpay.verify_refund_notification(headers, body)
    assert info.value.code == code


def test_a_payment_notification_is_no_refund_notification(wechatpay, wechatpay_fake):
    headers, body = wechatpay_fake.notification("P1", 100)
    with pytest.raises(MalformedNotification):
        wechatpay.verify_refund_notification(headers, body)
