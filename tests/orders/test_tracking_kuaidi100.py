"""The Kuaidi100 adapter against a fake Kuaidi100 on 127.0.0.1 that checks the
signature with keys made up here and answers canned tracks per number, plus
the provider switch and the manual provider."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from app.orders.tracking import TrackingError, get_provider
from app.orders.tracking.base import DELIVERED, IN_TRANSIT, NO_INFO, OUT_FOR_DELIVERY, PROBLEM, REJECTED
from app.orders.tracking.kuaidi100 import Kuaidi100Tracking, state_for
from app.orders.tracking.manual import ManualTracking
from tests.accounts.test_oauth_fakes import FakeServer, Seen, json_reply

# Carriers whose tracks Kuaidi100 only shows with the addressee's phone.
PHONE_CARRIERS = {"shunfeng", "zhongtong"}


class FakeKuaidi100:
    """`POST /poll/query.do`. Tracks are added with `add_track`; unknown
    numbers get returnCode 500 (no information yet), a wrong customer or sign
    503, a missing or wrong phone for SF/ZTO 408."""

    def __init__(self, customer: str = "KD-CUSTOMER-TEST", key: str = "kd-key-made-up-in-test") -> None:
        self.customer, self.key = customer, key
        self.tracks: dict[tuple[str, str], dict] = {}
        self.server = FakeServer(self.handle)
        self.url = self.server.url

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def add_track(self, com: str, num: str, state: str, steps: list[tuple[str, str, str]], phone: str = "") -> None:
        """`steps` newest first: (Beijing time, text, location)."""
        self.tracks[(com, num)] = {"state": state, "steps": steps, "phone": phone}

    def expected_sign(self, param: str) -> str:
        return hashlib.md5(f"{param}{self.key}{self.customer}".encode()).hexdigest().upper()

    def handle(self, seen: Seen):
        if seen.method != "POST" or seen.path != "/poll/query.do":
            return 404, "text/html", b"<html>404</html>"
        form = seen.form
        if form.get("customer") != self.customer or form.get("sign") != self.expected_sign(form.get("param", "")):
            return refusal("503", "验证签名失败")
        param = json.loads(form["param"])
        track = self.tracks.get((param.get("com"), param.get("num")))
        if track is None:
            return refusal("500", "查询无结果，请隔段时间再查")
        if param["com"] in PHONE_CARRIERS and param.get("phone", "")[-4:] != track["phone"][-4:]:
            return refusal("408", "快递公司参数异常：验证码错误")
        steps = track["steps"] if param.get("order", "desc") == "desc" else list(reversed(track["steps"]))
        return json_reply({
            "message": "ok", "nu": param["num"], "ischeck": "1" if track["state"] == "3" else "0",
            "condition": "F00", "com": param["com"], "status": "200", "state": track["state"],
            "data": [{"time": t, "ftime": t, "context": text, "location": place, "areaName": place,
                      "status": "签收" if i == 0 and track["state"] == "3" else "在途"}
                     for i, (t, text, place) in enumerate(steps)],
        })

    def configure(self, app, monkeypatch) -> None:
        monkeypatch.setitem(app.config, "TRACKING_PROVIDER", "kuaidi100")
        monkeypatch.setitem(app.config, "KUAIDI100_BASE_URL", self.url)
        monkeypatch.setitem(app.config, "KUAIDI100_CUSTOMER", self.customer)
        monkeypatch.setitem(app.config, "KUAIDI100_KEY", self.key)

    def close(self) -> None:
        self.server.close()


def refusal(code: str, message: str):
    return json_reply({"result": False, "returnCode": code, "message": message})


YT_STEPS = [
    ("2026-11-30 10:00:00", "您的快件已签收，签收人：本人", "上海市浦东新区"),
    ("2026-11-30 08:15:00", "快件正在派送中，派送员：张师傅", "上海市浦东新区"),
    ("2026-11-29 21:40:12", "快件已到达【上海转运中心】", "上海市"),
    ("2026-11-28 18:00:00", "杭州萧山公司 已揽收", "浙江省杭州市"),
]


@pytest.fixture
def kuaidi100(app, monkeypatch):
    fake = FakeKuaidi100()
    fake.configure(app, monkeypatch)
    fake.add_track("yuantong", "YT7530122849021", "3", YT_STEPS)
    fake.add_track("zhongtong", "75301228490211", "0", YT_STEPS[2:], phone="13912345678")
    fake.add_track("shunfeng", "SF1234567890123", "5", YT_STEPS[1:], phone="13800138000")
    yield fake
    fake.close()


def test_request_is_a_signed_form_the_fake_accepts(kuaidi100):
    result = get_provider().query("yuantong", "YT7530122849021")

    assert result.events  # the fake checked customer and sign, or there would be no track
    seen = kuaidi100.requests[-1]
    assert seen.method == "POST" and seen.path == "/poll/query.do"
    assert seen.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert set(seen.form) == {"customer", "param", "sign"}
    assert seen.form["customer"] == kuaidi100.customer
    assert seen.form["sign"] == kuaidi100.expected_sign(seen.form["param"])
    assert json.loads(seen.form["param"]) == {
        "com": "yuantong", "num": "YT7530122849021", "resultv2": "1", "show": "0", "order": "desc",
    }


def test_events_newest_first_in_utc(kuaidi100):
    result = get_provider().query("yuantong", "YT7530122849021")

    assert [e.description for e in result.events] == [text for _t, text, _p in YT_STEPS]
    newest, *_, oldest = result.events
    # 10:00 in Beijing is 02:00 UTC; 18:00 on the 28th is 10:00 UTC the same day.
    assert newest.occurred_at == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert oldest.occurred_at == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert all(e.occurred_at.utcoffset().total_seconds() == 0 for e in result.events)
    assert newest.location == "上海市浦东新区"
    assert newest.status == "签收"


def test_events_sorted_even_when_the_reply_is_oldest_first(kuaidi100):
    kuaidi100.add_track("yunda", "4312345678901", "0", list(reversed(YT_STEPS[1:])))

    result = get_provider().query("yunda", "4312345678901")

    times = [e.occurred_at for e in result.events]
    assert times == sorted(times, reverse=True)
    assert result.events[0].description == YT_STEPS[1][1]


def test_signed_for_is_delivered(kuaidi100):
    result = get_provider().query("yuantong", "YT7530122849021")

    assert result.delivered is True
    assert result.state == DELIVERED


def test_in_transit_is_not_delivered(kuaidi100):
    result = get_provider().query("zhongtong", "75301228490211", phone="13912345678")

    assert result.state == IN_TRANSIT
    assert result.delivered is False
    assert len(result.events) == 2


def test_phone_is_sent_for_carriers_that_need_it(kuaidi100):
    result = get_provider().query("shunfeng", "SF1234567890123", phone=" 13800138000 ")

    assert json.loads(kuaidi100.requests[-1].form["param"])["phone"] == "13800138000"
    assert result.state == OUT_FOR_DELIVERY
    assert result.delivered is False
    assert len(result.events) == 3


def test_wrong_phone_is_a_tracking_error(kuaidi100):
    with pytest.raises(TrackingError) as caught:
        get_provider().query("shunfeng", "SF1234567890123", phone="13900000000")

    assert caught.value.code == "tracking_phone_required"
    assert "手机号" in caught.value.message


def test_no_information_yet_is_an_empty_result(kuaidi100):
    result = get_provider().query("yuantong", "YT0000000000000")

    assert result.events == []
    assert result.delivered is False
    assert result.state == NO_INFO


def test_wrong_key_is_a_tracking_error(kuaidi100, app, monkeypatch):
    monkeypatch.setitem(app.config, "KUAIDI100_KEY", "not-the-key")

    with pytest.raises(TrackingError) as caught:
        get_provider().query("yuantong", "YT7530122849021")

    assert caught.value.status == 502
    assert caught.value.code == "tracking_config_error"
    assert caught.value.message == "物流查询服务配置有误，请联系客服"


def test_unknown_company_is_a_tracking_error(kuaidi100):
    kuaidi100.server.handle = lambda seen: refusal("400", "找不到对应公司")

    with pytest.raises(TrackingError) as caught:
        get_provider().query("yuantong", "YT7530122849021")

    assert caught.value.code == "tracking_not_found"


def test_missing_account_is_a_tracking_error_without_a_request(kuaidi100, app, monkeypatch):
    monkeypatch.setitem(app.config, "KUAIDI100_CUSTOMER", None)

    with pytest.raises(TrackingError) as caught:
        get_provider().query("yuantong", "YT7530122849021")

    assert caught.value.code == "tracking_config_error"
    assert kuaidi100.requests == []


def test_server_down_is_a_tracking_error(app, monkeypatch):
    fake = FakeKuaidi100()
    fake.configure(app, monkeypatch)
    fake.close()  # nothing listens on that port any more

    with pytest.raises(TrackingError) as caught:
        get_provider().query("yuantong", "YT7530122849021")

    assert caught.value.status == 502
    assert caught.value.code == "tracking_unavailable"
    assert caught.value.message == "暂时无法连接物流查询服务，请稍后再试"


@pytest.mark.parametrize("reply", [
    (502, "text/html", b"<html>Bad Gateway</html>"),
    (200, "text/html", b"<html>maintenance</html>"),
    (200, "application/json", b"[]"),
])
def test_http_error_or_garbled_reply_is_a_tracking_error(app, monkeypatch, reply):
    server = FakeServer(lambda seen: reply)
    monkeypatch.setitem(app.config, "TRACKING_PROVIDER", "kuaidi100")
    monkeypatch.setitem(app.config, "KUAIDI100_BASE_URL", server.url)
    monkeypatch.setitem(app.config, "KUAIDI100_CUSTOMER", "c")
    monkeypatch.setitem(app.config, "KUAIDI100_KEY", "k")
    try:
        with pytest.raises(TrackingError) as caught:
            get_provider().query("yuantong", "YT7530122849021")
    finally:
        server.close()

    assert caught.value.code == "tracking_unavailable"


def test_a_garbled_step_is_skipped_not_fatal(app, monkeypatch):
    server = FakeServer(lambda seen: json_reply({"message": "ok", "status": "200", "state": "0", "data": [
        {"time": "yesterday", "context": "时间读不懂"},
        {"time": "2026-11-30 09:30", "context": "快件已发出", "areaName": "广东省深圳市"},
    ]}))
    monkeypatch.setitem(app.config, "KUAIDI100_BASE_URL", server.url)
    try:
        result = Kuaidi100Tracking.from_config({**app.config, "KUAIDI100_CUSTOMER": "c", "KUAIDI100_KEY": "k"}).query(
            "yuantong", "YT7530122849021")
    finally:
        server.close()

    assert [(e.description, e.location) for e in result.events] == [("快件已发出", "广东省深圳市")]
    assert result.events[0].occurred_at == datetime(2026, 11, 30, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(("code", "state"), [
    ("3", DELIVERED), (3, DELIVERED), ("304", DELIVERED), ("0", IN_TRANSIT), ("5", OUT_FOR_DELIVERY),
    ("2", PROBLEM), ("14", REJECTED), ("99", IN_TRANSIT), (None, IN_TRANSIT),
])
def test_state_codes(code, state):
    assert state_for(code) == state


def test_manual_is_the_default_and_answers_empty(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_PROVIDER", "manual")

    provider = get_provider()

    assert isinstance(provider, ManualTracking)
    assert provider.name == "manual"
    assert provider.query("shunfeng", "SF1234567890123").events == []


def test_unknown_provider_fails_loudly(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKING_PROVIDER", "carrier-pigeon")

    with pytest.raises(RuntimeError):
        get_provider()
