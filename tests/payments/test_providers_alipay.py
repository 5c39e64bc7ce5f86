"""Alipay payments adapter against a fake gateway that checks our RSA2
request signatures and signs its replies and notifications with a platform
key made in the test."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from app.core.errors import ValidationError
from app.payments import providers
from app.payments.providers.base import GatewayError, MalformedNotification, NotificationRejected, PayRequest
from tests.accounts.test_oauth_fakes import rsa_pem_pair

NOTIFY_URL = "https://shop.test/payments/notify/alipay"
RETURN_URL = "https://shop.test/payments/return/alipay?next=/orders"


@pytest.fixture
def alipay(alipay_fake):
    return providers.get("alipay")


def pay_request(channel="page", out_trade_no="P20240101000001", amount_fen=1990) -> PayRequest:
    return PayRequest(out_trade_no, amount_fen, "鲜果铺 等 2 家店铺的订单", channel, NOTIFY_URL, return_url=RETURN_URL)


# --- the pay URL --------------------------------------------------------------------------------

@pytest.mark.parametrize("channel, method, product_code", [
    ("page", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    ("wap", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    ("h5", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
])
def test_pay_url_is_signed_with_our_key(alipay, alipay_fake, channel, method, product_code):
    url = alipay.start(pay_request(channel))["pay_url"]
    assert url.startswith(alipay_fake.url + "?")
    params = alipay_fake.open_pay_url(url)  # raises unless the signature verifies with our public key
    assert {k: params[k] for k in ("app_id", "method", "format", "charset", "sign_type", "version", "notify_url",
                                   "return_url")} == {
        "app_id": alipay_fake.app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
        "version": "1.0", "notify_url": NOTIFY_URL, "return_url": RETURN_URL}
    datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    assert json.loads(params["biz_content"]) == {"out_trade_no": "P20240101000001", "total_amount": "19.90",
                                                 "subject": "鲜果铺 等 2 家店铺的订单", "product_code": product_code}


def test_a_changed_pay_url_does_not_verify(alipay, alipay_fake):
    url = alipay.start(pay_request(amount_fen=1990))["pay_url"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    params["biz_content"] = params["biz_content"].replace("19.90", "0.01")
    with pytest.raises(AssertionError):
        alipay_fake.open_pay_url(alipay_fake.url + "?" + urlencode(params))


def test_whole_yuan_amounts_keep_two_decimals(alipay, alipay_fake):
    params = alipay_fake.open_pay_url(alipay.start(pay_request(amount_fen=100))["pay_url"])
    assert json.loads(params["biz_content"])["total_amount"] == "1.00"


def test_unknown_channel_is_refused(alipay):
    with pytest.raises(ValidationError):
        alipay.start(pay_request("jsapi"))


# --- notifications -----------------------------------------------------------------------------

def test_a_signed_notification_verifies(alipay, alipay_fake):
    body = alipay_fake.notification("P20240101000001", "19.90", notify_id="N-1", trade_no="2024000001")
    result = alipay.verify_notification({"Content-Type": "application/x-www-form-urlencoded"}, body)
    assert (result.notify_id, result.out_trade_no, result.transaction_id, result.amount_fen, result.succeeded) == \
        ("N-1", "P20240101000001", "2024000001", 1990, True)
    assert result.raw["subject"] == "鲜果铺 等 2 家店铺的订单 & 更多"  # URL-decoded before verifying
    assert "sign" not in result.raw
    assert alipay.peek_notify_id({}, body) == "N-1"


def test_trade_finished_is_a_success_and_trade_closed_is_not(alipay, alipay_fake):
    finished = alipay_fake.notification("P1", "1.00", "TRADE_FINISHED")
    closed = alipay_fake.notification("P1", "1.00", "TRADE_CLOSED")
    assert alipay.verify_notification({}, finished).succeeded is True
    assert alipay.verify_notification({}, closed).succeeded is False


def rejected(alipay, body) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as info:
        alipay.verify_notification({}, body)
    return info.value


def test_a_forged_notification_is_rejected(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90", sign_key=rsa_pem_pair()[0])
    error = rejected(alipay, body)
    assert (error.status, error.code) == (401, "bad_signature")


def test_a_tampered_amount_is_rejected(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90", tamper={"total_amount": "0.01"})
    assert rejected(alipay, body).code == "bad_signature"


def test_an_unsigned_notification_is_rejected(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90", tamper={"sign": ""})
    assert rejected(alipay, body).status == 401


def test_a_repeated_parameter_is_malformed(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90") + b"&total_amount=0.01"
    assert isinstance(rejected(alipay, body), MalformedNotification)


def test_another_apps_notification_is_rejected(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90", app_id="2021000000009999")
    assert rejected(alipay, body).code == "wrong_merchant"


def test_another_sellers_notification_is_rejected(alipay, alipay_fake):
    body = alipay_fake.notification("P1", "19.90", seller_id="2088000000009999")
    assert rejected(alipay, body).code == "wrong_merchant"


def test_seller_is_not_checked_when_not_configured(app, alipay, alipay_fake, monkeypatch):
    monkeypatch.setitem(app.config, "ALIPAY_SELLER_ID", None)
    body = alipay_fake.notification("P1", "19.90", seller_id="2088000000009999")
    assert alipay.verify_notification({}, body).succeeded


@pytest.mark.parametrize("amount", ["abc", "-1.00", "1.001"])
def test_a_signed_but_bad_amount_is_malformed(alipay, alipay_fake, amount):
    body = alipay_fake.notification("P1", amount)
    error = rejected(alipay, body)
    assert isinstance(error, MalformedNotification) and error.status == 400


def test_garbage_is_rejected(alipay):
    rejected(alipay, b"\xff\xfe")
    rejected(alipay, b"")
    assert alipay.peek_notify_id({}, b"\xff") is None


def test_replies(alipay):
    assert alipay.success_reply() == (b"success", 200, "text/plain")
    assert alipay.failure_reply(401, "bad signature") == (b"failure", 401, "text/plain")


# --- query, refund, close ---------------------------------------------------------------------

def test_query_follows_the_trade(alipay, alipay_fake):
    assert alipay.query("P20240101000001").status == "unknown"
    alipay_fake.open_pay_url(alipay.start(pay_request())["pay_url"])
    assert alipay.query("P20240101000001").status == "pending"
    trade = alipay_fake.pay("P20240101000001")
    state = alipay.query("P20240101000001")
    assert (state.status, state.transaction_id, state.amount_fen) == ("paid", trade.trade_no, 1990)
    assert alipay_fake.verified[-1] == "alipay.trade.query"


def test_close_closes_a_waiting_trade(alipay, alipay_fake):
    alipay_fake.open_pay_url(alipay.start(pay_request())["pay_url"])
    alipay.close("P20240101000001")
    assert alipay.query("P20240101000001").status == "closed"
    alipay.close("P-never-created")  # nothing to close


def test_closing_a_paid_trade_raises(alipay, alipay_fake):
    alipay_fake.pay("P20240101000001", "19.90")
    with pytest.raises(GatewayError):
        alipay.close("P20240101000001")


def refund(alipay, out_refund_no="R1", refund_fen=990):
    return alipay.refund(out_trade_no="P20240101000001", out_refund_no=out_refund_no, refund_fen=refund_fen,
                         total_fen=1990, reason="缺货")


def calls(alipay_fake, method: str) -> list[dict]:
    """The biz_content of each request for `method` the fake gateway received."""
    return [json.loads(seen.form["biz_content"]) for seen in alipay_fake.requests
            if {**seen.query, **seen.form}.get("method") == method]


def test_refund_succeeds_and_a_retry_refunds_once(alipay, alipay_fake):
    trade = alipay_fake.pay("P20240101000001", "19.90")
    first = refund(alipay)  # fund_change "Y": this call moved the money
    assert calls(alipay_fake, "alipay.trade.fastpay.refund.query") == []
    again = refund(alipay)  # fund_change "N": proven by the refund query
    assert first.status == again.status == "succeeded"
    assert first.provider_refund_id == again.provider_refund_id == f"{trade.trade_no}:R1"
    assert alipay_fake.refund_moves == 1
    assert str(trade.refunded) == "9.90"
    assert calls(alipay_fake, "alipay.trade.refund") == [
        {"out_trade_no": "P20240101000001", "refund_amount": "9.90", "out_request_no": "R1",
         "refund_reason": "缺货"}] * 2
    assert calls(alipay_fake, "alipay.trade.fastpay.refund.query") == [
        {"out_trade_no": "P20240101000001", "out_request_no": "R1"}]


def test_a_refund_alipay_refuses_fails_with_its_message(alipay, alipay_fake):
    alipay_fake.pay("P20240101000001", "19.90")
    result = refund(alipay, refund_fen=5000)
    assert (result.status, result.message) == ("failed", "退款金额超限")


def test_refund_of_an_unknown_trade_fails(alipay, alipay_fake):
    assert refund(alipay).status == "failed"


def test_a_tampered_reply_raises(alipay, alipay_fake):
    alipay_fake.pay("P20240101000001", "19.90")
    alipay_fake.tamper = True
    with pytest.raises(GatewayError) as info:
        alipay.query("P20240101000001")
    assert info.value.code == "alipay_bad_signature"


def test_an_unsigned_success_reply_raises(alipay, alipay_fake):
    alipay_fake.pay("P20240101000001", "19.90")
    alipay_fake.unsigned = True
    with pytest.raises(GatewayError):
        refund(alipay)
    assert alipay_fake.refund_moves == 1  # the money moved; the retry with R1 will report it


def test_refused_credentials_raise_gateway_error(app, alipay, alipay_fake, monkeypatch):
    monkeypatch.setitem(app.config, "ALIPAY_APP_PRIVATE_KEY", rsa_pem_pair()[1])
    with pytest.raises(GatewayError):
        refund(alipay)
    with pytest.raises(GatewayError):
        alipay.query("P1")


def test_gateway_down_raises_gateway_error(alipay, alipay_fake):
    alipay_fake.close()
    with pytest.raises(GatewayError) as info:
        refund(alipay)
    assert info.value.message == "暂时无法连接支付宝，请稍后再试"


def test_refund_query_reads_refund_status(alipay, alipay_fake):
    trade = alipay_fake.pay("P20240101000001", "19.90")
    query = {"out_trade_no": "P20240101000001", "out_refund_no": "R1"}
    assert alipay.query_refund(**query).status == "unknown"  # never received
    refund(alipay)
    result = alipay.query_refund(**query)
    assert (result.status, result.provider_refund_id) == ("succeeded", f"{trade.trade_no}:R1")
    alipay_fake.refund_query_lag = True
    assert alipay.query_refund(**query).status == "unknown"  # not processed yet
    assert alipay.query_refund(out_trade_no="P-unknown", out_refund_no="R1").status == "unknown"


def test_a_repeat_alipay_has_not_processed_yet_is_pending(alipay, alipay_fake):
    alipay_fake.pay("P20240101000001", "19.90")
    assert refund(alipay).status == "succeeded"
    alipay_fake.refund_query_lag = True
    assert refund(alipay).status == "pending"  # fund_change "N", and the query does not say refunded
    assert alipay_fake.refund_moves == 1


def test_alipay_sends_no_refund_notifications(alipay, alipay_fake):
    with pytest.raises(NotificationRejected) as info:
        alipay.verify_refund_notification({}, alipay_fake.notification("P1", "1.00"))
    assert (info.value.status, info.value.code) == (404, "no_refund_notifications")
