"""The Aliyun SMS adapter against a local endpoint that checks the RPC signature."""
import json
import socket

import pytest

from app.notifications import providers
from app.notifications.providers.aliyun_sms import (
    AliyunSms,
    mainland_number,
    parse_templates,
    percent_encode,
    sign,
)
from app.notifications.providers.base import DeliveryError
from tests.notifications.conftest import aliyun_signature


def adapter(app, **overrides) -> AliyunSms:
    return AliyunSms.from_config({**app.config, **overrides})


def test_signature_matches_the_documented_example():
    # The worked example of the RPC signature documentation (key "testid", secret "testsecret").
    params = {
        "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0", "TimeStamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
    }
    assert sign("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    assert aliyun_signature("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


@pytest.mark.parametrize(("raw", "encoded"), [
    ("a b", "a%20b"), ("a+b", "a%2Bb"), ("a*b", "a%2Ab"), ("~-_.", "~-_."), ("/", "%2F"),
    ("验证", "%E9%AA%8C%E8%AF%81"), ('{"code":"1"}', "%7B%22code%22%3A%221%22%7D"),
])
def test_percent_encoding_follows_the_signature_rules(raw, encoded):
    assert percent_encode(raw) == encoded


def test_template_mapping_and_phone_numbers():
    assert parse_templates("verification_code=SMS_1, notice = SMS_2,,broken") == {
        "verification_code": "SMS_1", "notice": "SMS_2"}
    assert parse_templates("") == {}
    assert mainland_number("+8613811112222") == "13811112222"
    assert mainland_number("13811112222") == "13811112222"
    with pytest.raises(DeliveryError):
        mainland_number("+14155550100")


def test_send_is_signed_and_returns_the_biz_id(app, aliyun_config, fake_aliyun):
    sms = providers.sms_provider()
    assert isinstance(sms, AliyunSms)

    biz_id = sms.send("+8613811112222", "您的验证码是 123456", "verification_code", {"code": "123456", "minutes": 5})

    assert not fake_aliyun.refused
    [request] = fake_aliyun.requests
    assert biz_id.endswith("^0")
    assert request["PhoneNumbers"] == "13811112222"
    assert request["SignName"] == "测试商城"
    assert request["TemplateCode"] == "SMS_100001"
    assert json.loads(request["TemplateParam"]) == {"code": "123456", "minutes": "5"}
    assert request["SignatureMethod"] == "HMAC-SHA1" and request["SignatureVersion"] == "1.0"
    assert request["Timestamp"].endswith("Z")


def test_every_request_has_a_fresh_nonce(app, aliyun_config, fake_aliyun):
    sms = providers.sms_provider()
    sms.send("+8613811112222", "", "notice", {"text": "一"})
    sms.send("+8613811112222", "", "notice", {"text": "二"})
    assert len(fake_aliyun.sent()) == 2
    assert fake_aliyun.requests[0]["SignatureNonce"] != fake_aliyun.requests[1]["SignatureNonce"]


def test_a_wrong_secret_is_refused_by_the_endpoint(app, aliyun_config, fake_aliyun):
    sms = adapter(app, ALIYUN_SMS_ACCESS_KEY_SECRET=fake_aliyun.access_key_secret + "x")
    with pytest.raises(DeliveryError, match="SignatureDoesNotMatch"):
        sms.send("+8613811112222", "", "notice", {"text": "你好"})
    assert fake_aliyun.requests == []
    assert [r["code"] for r in fake_aliyun.refused] == ["SignatureDoesNotMatch"]


def test_an_unknown_access_key_is_refused(app, aliyun_config, fake_aliyun):
    sms = adapter(app, ALIYUN_SMS_ACCESS_KEY_ID="LTAIunknown")
    with pytest.raises(DeliveryError, match="InvalidAccessKeyId.NotFound"):
        sms.send("+8613811112222", "", "notice", {"text": "你好"})


def test_a_business_error_reply_raises_with_code_and_message(app, aliyun_config, fake_aliyun):
    fake_aliyun.replies.append({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"})
    sms = providers.sms_provider()
    with pytest.raises(DeliveryError) as err:
        sms.send("+8613811112222", "", "verification_code", {"code": "1", "minutes": 5})
    assert "isv.BUSINESS_LIMIT_CONTROL" in str(err.value)
    assert "流控" in str(err.value)


def test_an_unmapped_template_fails_before_any_request(app, aliyun_config, fake_aliyun):
    sms = adapter(app, ALIYUN_SMS_TEMPLATES="verification_code=SMS_1")
    with pytest.raises(DeliveryError, match="notice"):
        sms.send("+8613811112222", "", "notice", {"text": "x"})
    assert fake_aliyun.requests == [] and fake_aliyun.refused == []


def test_missing_keys_are_a_delivery_error(app, aliyun_config):
    with pytest.raises(DeliveryError, match="ALIYUN_SMS_ACCESS_KEY"):
        adapter(app, ALIYUN_SMS_ACCESS_KEY_SECRET=None)


def test_an_unreachable_endpoint_is_a_delivery_error(app, aliyun_config):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sms = adapter(app, ALIYUN_SMS_BASE_URL=f"http://127.0.0.1:{port}/")
    with pytest.raises(DeliveryError, match="unreachable"):
        sms.send("+8613811112222", "", "notice", {"text": "x"})


def test_a_reply_that_is_not_json_is_a_delivery_error(app, aliyun_config, fake_aliyun):
    sms = adapter(app, ALIYUN_SMS_BASE_URL=fake_aliyun.url + "no-such-path")
    with pytest.raises(DeliveryError, match="HTTP 404 without JSON"):
        sms.send("+8613811112222", "", "notice", {"text": "x"})
