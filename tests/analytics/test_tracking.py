"""Behaviour tracking (埋点): the batch endpoints, what the service keeps and drops, the
Redis buffer flushed by a real worker, the anonymous id merged at sign-in, retention and
the refund event."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.analytics import tracking
from app.analytics.models import Event
from app.core import settings
from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.extensions import db
from tests.aftersales.conftest import apply, bought, fresh  # noqa: F401  (bought: a fixture)
from tests.factories import PASSWORD

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
ANON = "a1b2c3d4e5f6a7b8"


def events(**where) -> list[Event]:
    db.session.expire_all()
    query = sa.select(Event).order_by(Event.id)
    for name, value in where.items():
        query = query.where(getattr(Event, name) == value)
    return list(db.session.scalars(query))


def client_events() -> list[Event]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Event).where(Event.type.in_(tracking.CLIENT_TYPES)).order_by(Event.id)))


def post(client, body, headers=None):
    return client.post("/api/v1/events", json=body, headers={"User-Agent": BROWSER, **(headers or {})})


def view(**fields) -> dict:
    return {"type": "page_view", "path": "/p/1", "dwell_ms": 1500, **fields}


# --- the API endpoint ---------------------------------------------------------------------------


def test_a_batch_is_taken_with_202_buffered_and_written_once_by_the_worker(client, make_product, run_jobs,
                                                                            redis_client):
    product = make_product()
    batch = [view(product_id=product.id), {"type": "click", "props": {"name": "add_to_cart", "n": 2}},
             {"type": "impression", "product_id": product.id, "path": "/"}]
    answer = post(client, {"events": batch}, {"X-Anon-Id": ANON})
    assert answer.status_code == 202 and answer.get_json() == {"accepted": 3}
    assert client_events() == []  # cheap for the request: only pushed to Redis
    assert redis_client.llen(tracking.BUFFER_KEY) == 3

    assert run_jobs() >= 1
    rows = client_events()
    assert [r.type for r in rows] == ["page_view", "click", "impression"]
    assert {r.anon_id for r in rows} == {ANON} and {r.user_id for r in rows} == {None}
    assert rows[0].dwell_ms == 1500 and rows[0].merchant_id == product.merchant_id  # the product's shop
    assert rows[1].props == {"name": "add_to_cart", "n": 2}
    assert redis_client.llen(tracking.BUFFER_KEY) == 0

    # Flushing again (a second job, the sweep) writes nothing twice.
    with transaction():
        assert tracking.flush_buffer() == 0
    assert len(client_events()) == 3


def test_a_bearer_token_makes_the_events_the_users(client, make_user, api_token, run_jobs):
    buyer = make_user()
    assert post(client, {"events": [view()]}, api_token(buyer)).status_code == 202
    run_jobs()
    assert [r.user_id for r in client_events()] == [buyer.id]


@pytest.mark.parametrize("body", [
    {"events": [view()] * 51},  # too many
    {"events": []},
    {"events": view()},  # not a list
    {"events": "page_view"},
    [view()],
    {},
    {"events": [view()], "extra": 1},
    {"events": [view(colour="red")]},  # unknown field
    {"events": [view(type="pay")]},  # server-side types come from the server
    {"events": [view(type="hack")]},
    {"events": [view(ts="yesterday")]},  # wrong types
    {"events": [view(ts=1.5e12)]},
    {"events": [view(dwell_ms="long")]},
    {"events": [view(product_id=0)]},
    {"events": [view(product_id=2**31)]},
    {"events": [view(product_id=True)]},
    {"events": [view(path="no-slash")]},
    {"events": [view(path="/" + "x" * 300)]},
    {"events": [view(props={"nested": {"a": 1}})]},
    {"events": [view(props={str(i): i for i in range(11)})]},
    {"events": [view(props={"long": "x" * 101})]},
    {"events": [view(), "not an object"]},
])
def test_a_malformed_batch_is_400_and_nothing_of_it_is_kept(client, redis_client, body):
    answer = post(client, body)
    assert answer.status_code == 400, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_events" and error["message"]
    assert redis_client.llen(tracking.BUFFER_KEY) == 0 and client_events() == []


def test_invalid_json_is_400_too(client):
    answer = client.post("/api/v1/events", data="{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"]


def test_fifty_events_are_the_most_one_batch_holds(client, redis_client):
    assert post(client, {"events": [view()] * 50}).get_json() == {"accepted": 50}
    assert redis_client.llen(tracking.BUFFER_KEY) == 50


def test_one_address_sending_too_many_batches_gets_429_and_nothing_more_is_kept(client, redis_client, monkeypatch):
    monkeypatch.setattr(tracking, "BATCHES_PER_IP", "3/minute")
    for _ in range(3):
        assert post(client, {"events": [view()]}).status_code == 202
    refused = post(client, {"events": [view()]})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
    beacon = client.post("/t/events", data='{"events": [{"type": "page_view", "path": "/"}]}',
                         headers={"User-Agent": BROWSER, "Content-Type": "text/plain"})
    assert beacon.status_code == 429  # the page's beacon counts against the same address
    assert redis_client.llen(tracking.BUFFER_KEY) == 3


def test_the_endpoint_is_in_the_openapi_document_with_its_400(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/events"]["post"]
    assert {"202", "400"} <= set(operation["responses"]) and "422" not in operation["responses"]


# --- the service: clamping, bots, Do-Not-Track ---------------------------------------------------


def test_client_times_are_clamped_to_the_last_day_and_dwell_to_thirty_minutes(app):
    now = utcnow()
    future = (now + timedelta(days=3)).timestamp() * 1000
    past = (now - timedelta(days=30)).timestamp() * 1000
    an_hour_ago = (now - timedelta(hours=1)).timestamp() * 1000
    rows = tracking.normalise_batch([view(ts=future, dwell_ms=10**9), view(ts=past, dwell_ms=-5), view(ts=an_hour_ago)])
    assert now <= rows[0]["created_at"] <= utcnow() and rows[0]["dwell_ms"] == 30 * 60 * 1000
    assert abs(rows[1]["created_at"] - (now - timedelta(days=1))) < timedelta(seconds=1) and rows[1]["dwell_ms"] == 0
    assert abs(rows[2]["created_at"] - (now - timedelta(hours=1))) < timedelta(seconds=1)
    assert tracking.normalise_batch([view(ts=-10**18)])[0]["created_at"] >= now - timedelta(days=1, seconds=1)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36",
    "python-requests/2.32", "", "SomeCrawler/1.0",
])
def test_bots_are_dropped(client, redis_client, agent):
    answer = client.post("/api/v1/events", json={"events": [view()]}, headers={"User-Agent": agent})
    assert answer.status_code == 202 and answer.get_json() == {"accepted": 0}
    assert redis_client.llen(tracking.BUFFER_KEY) == 0


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_do_not_track_drops_everything(client, redis_client, header):
    assert post(client, {"events": [view()] * 3}, header).get_json() == {"accepted": 0}
    assert post(client, {"events": [view()]}, {"DNT": "0"}).get_json() == {"accepted": 1}
    assert redis_client.llen(tracking.BUFFER_KEY) == 1


def test_a_people_browser_and_the_mini_program_are_not_bots():
    assert not tracking.is_bot(BROWSER)
    assert not tracking.is_bot("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.47 miniProgram")


# --- where events go when there is no buffer -----------------------------------------------------


def test_jobs_inline_write_at_once(client, app, monkeypatch, redis_client):
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)
    assert post(client, {"events": [view(), view()]}).get_json() == {"accepted": 2}
    assert len(client_events()) == 2 and redis_client.llen(tracking.BUFFER_KEY) == 0


def test_without_redis_they_are_written_at_once(client, app, monkeypatch):
    monkeypatch.setattr(tracking, "get_redis", lambda: None)
    assert post(client, {"events": [view()]}).get_json() == {"accepted": 1}
    assert len(client_events()) == 1


def test_redis_down_writes_at_once_rather_than_lose_them(redis_server, app_on, caplog):
    shop = app_on(redis_server)
    redis_server.kill()
    caplog.set_level(logging.WARNING)
    answer = shop.test_client().post("/api/v1/events", json={"events": [view(), view(type="click")]},
                                     headers={"User-Agent": BROWSER, "X-Anon-Id": ANON})
    assert answer.status_code == 202 and answer.get_json() == {"accepted": 2}
    assert [r.type for r in client_events()] == ["page_view", "click"]
    assert any("analytics buffer unreachable" in r.getMessage() for r in caplog.records)


def test_a_failed_write_gives_the_batch_back_to_the_buffer(app, redis_client, monkeypatch):
    with app.test_request_context(), transaction():
        tracking.record_batch([view(), view()], user_id=None, anon_id=ANON, user_agent=BROWSER, dnt=False)

    def broken(rows):
        raise RuntimeError("database gone")

    monkeypatch.setattr(tracking, "_write", broken)
    with pytest.raises(RuntimeError):
        tracking.flush_buffer()
    assert redis_client.llen(tracking.BUFFER_KEY) == 2  # nothing written, nothing lost
    monkeypatch.undo()
    with transaction():
        assert tracking.flush_buffer() == 2
    assert len(client_events()) == 2


# --- the web beacon ------------------------------------------------------------------------------


def test_the_beacon_endpoint_takes_text_plain_without_csrf_and_answers_204(app, client, run_jobs):
    page = client.get("/", headers={"User-Agent": BROWSER})
    cookie = client.get_cookie("aid")
    assert page.status_code == 200 and cookie is not None and tracking.valid_anon_id(cookie.value)
    assert cookie.http_only and cookie.same_site == "Lax"
    body = json.dumps({"events": [view(), {"type": "impression", "product_id": 5}]})
    answer = client.post("/t/events", data=body, headers={"Content-Type": "text/plain", "User-Agent": BROWSER})
    assert answer.status_code == 204 and answer.data == b""
    run_jobs()
    assert [(r.type, r.anon_id) for r in client_events()] == [("page_view", cookie.value), ("impression", cookie.value)]


def test_a_visitor_without_an_id_gets_one_from_its_first_beacon(client, run_jobs):
    """Pages shared by visitors without a session set no cookie (app/web/shop/page_copies.py):
    the first beacon does, and its events carry the id; not for one who asks not to be tracked."""
    body = json.dumps({"events": [view()]})
    headers = {"Content-Type": "text/plain", "User-Agent": BROWSER}
    answer = client.post("/t/events", data=body, headers=headers)
    cookie = client.get_cookie("aid")
    assert answer.status_code == 204 and cookie is not None and tracking.valid_anon_id(cookie.value)
    run_jobs()
    assert [r.anon_id for r in client_events()] == [cookie.value]
    quiet = client.application.test_client()
    assert quiet.post("/t/events", data=body, headers={**headers, "DNT": "1"}).status_code == 204
    assert quiet.get_cookie("aid") is None


def test_the_beacon_refuses_bad_and_oversized_bodies(client, redis_client):
    headers = {"Content-Type": "text/plain", "User-Agent": BROWSER}
    assert client.post("/t/events", data="nope", headers=headers).status_code == 400
    assert client.post("/t/events", data=json.dumps({"events": [view()] * 51}), headers=headers).status_code == 400
    big = json.dumps({"events": [view(props={"k": "x" * 100})] * 50, "pad": "x" * 33000})
    assert client.post("/t/events", data=big, headers=headers).status_code == 413
    assert redis_client.llen(tracking.BUFFER_KEY) == 0


def test_no_cookie_for_a_visitor_asking_not_to_be_tracked(client):
    client.get("/", headers={"User-Agent": BROWSER, "DNT": "1"})
    assert client.get_cookie("aid") is None


def test_a_search_uses_the_same_anonymous_id(client):
    client.get("/", headers={"User-Agent": BROWSER})
    aid = client.get_cookie("aid").value
    client.get("/search?q=橙子", headers={"User-Agent": BROWSER})
    with transaction():
        tracking.flush_buffer()
    assert [(e.query, e.anon_id) for e in events(type="search")] == [("橙子", aid)]


# --- the anonymous id merged at sign-in -----------------------------------------------------------


def test_signing_in_on_the_web_makes_the_browsers_events_the_users(client, make_user, run_jobs):
    buyer = make_user(phone="13900001111")
    client.get("/", headers={"User-Agent": BROWSER})
    aid = client.get_cookie("aid").value
    client.post("/t/events", data=json.dumps({"events": [view()]}), headers={"User-Agent": BROWSER})
    run_jobs()  # written before the sign-in
    client.post("/t/events", data=json.dumps({"events": [view(type="click")]}), headers={"User-Agent": BROWSER})
    # ... and one still in the buffer when the user signs in
    signed_in = client.post("/login", data={"account": "13900001111", "password": PASSWORD})
    assert signed_in.status_code == 302
    run_jobs()
    assert [(r.type, r.anon_id, r.user_id) for r in client_events()] == [("page_view", aid, buyer.id),
                                                                         ("click", aid, buyer.id)]


def test_signing_in_through_the_api_merges_the_x_anon_id(client, make_user, run_jobs):
    other = make_user(email="other@example.com")
    buyer = make_user(email="buyer@example.com")
    with transaction():
        db.session.add(Event(type="page_view", anon_id=ANON, user_id=other.id))  # someone's already: stays
    assert post(client, {"events": [view()]}, {"X-Anon-Id": ANON}).status_code == 202
    run_jobs()
    answer = client.post("/api/v1/auth/login/password", json={"account": "buyer@example.com", "password": PASSWORD},
                         headers={"X-Anon-Id": ANON})
    assert answer.status_code == 200
    run_jobs()
    assert [r.user_id for r in events(anon_id=ANON)] == [other.id, buyer.id]


def test_merge_leaves_other_anonymous_ids_alone(app, make_user):
    buyer = make_user()
    with transaction():
        db.session.add_all([Event(type="page_view", anon_id=ANON), Event(type="page_view", anon_id="zzzzzzzzzz")])
    with transaction():
        assert tracking.merge_anonymous(ANON, buyer.id) == 1
        assert tracking.merge_anonymous("bad id!", buyer.id) == 0
    assert [(r.anon_id, r.user_id) for r in events(type="page_view")] == [(ANON, buyer.id), ("zzzzzzzzzz", None)]


# --- retention -----------------------------------------------------------------------------------


def test_the_daily_job_deletes_events_past_the_retention_setting(app, make_user, monkeypatch):
    admin = make_user(admin_role="super_admin")
    now = utcnow()
    with transaction():
        db.session.add_all([Event(type="page_view", created_at=now - timedelta(days=d), path=f"/{d}")
                            for d in (1, 399, 401, 500, 800)])
    monkeypatch.setattr(tracking, "PURGE_BATCH", 1)  # several batches
    assert settings.get("analytics_retention_days") == 400
    assert tracking.purge_old_events() == 3
    assert [e.path for e in events(type="page_view")] == ["/1", "/399"]
    with transaction():
        settings.put("analytics_retention_days", "30", admin)
    with travel(timedelta(days=5)):
        assert tracking.purge_old_events() == 1
    assert [e.path for e in events(type="page_view")] == ["/1"]
    assert tracking.purge_old_events() == 0


def test_the_periodic_jobs_are_registered():
    import importlib

    from rq import cron

    import app.cron_jobs

    before = list(cron._job_data_registry)
    importlib.reload(app.cron_jobs)  # registers on import; another test may have imported it already
    names = {f"{d['func'].__module__}.{d['func'].__name__}" for d in cron._job_data_registry}
    cron._job_data_registry[:] = before  # as found, for tests/test_app.py
    assert {"app.analytics.tracking.flush_buffer", "app.analytics.tracking.purge_old_events"} <= names


# --- the refund event ----------------------------------------------------------------------------


def test_a_completed_after_sale_refund_records_a_refund_event(bought, run_jobs):  # noqa: F811
    order = bought(quantity=2, shipping_fen=0)
    aftersale = apply(order, kind="refund_only", quantity=1)
    assert events(type="refund") == []  # started, not yet back with the buyer
    run_jobs()
    assert fresh(aftersale).status == "refunded"
    refund_events = events(type="refund")
    assert [(e.user_id, e.merchant_id, e.props) for e in refund_events] == [
        (order.buyer_id, order.merchant_id, {"aftersale_no": aftersale.aftersale_no, "refund_fen": 9900})]
    run_jobs()
    assert len(events(type="refund")) == 1


def test_server_side_types_are_refused_from_clients_but_recorded_by_services(app):
    with pytest.raises(ValueError):
        tracking.record_server_event("page_view")
    with transaction():
        tracking.record_server_event("refund", props={"x": 1})
    assert len(events(type="refund")) == 1
