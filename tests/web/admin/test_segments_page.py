"""The admin 客户分群 page (/admin/stats/segments): the platform's segments with their
chart, members (masked phones), the recompute button and its progress, the message form
with its confirmation and errors, the send history; who may look and who may send; a
fixed number of queries whatever the number of segments and sends."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.analytics.segments import messaging, runs
from app.analytics.segments.models import SegmentMember, SegmentRun
from app.core.tracked_jobs import JobStatus, TrackedJob
from app.extensions import db
from app.notifications.models import Message
from tests.analytics.segment_fixtures import make_run
from tests.web.helpers import text

PAGE = "/admin/stats/segments"


def chart_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="stats-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


@pytest.fixture
def customers(make_user):
    return [make_user(nickname=f"客户{i}", password=None) for i in range(6)]


@pytest.fixture
def platform_run(customers):
    ids = [u.id for u in customers]
    return make_run(None, {"high_value": ids[:2], "dormant": ids[2:5], "browser": ids[5:]})


def test_the_page_shows_each_segment_and_the_chart(client, login, make_user, platform_run):
    login(make_user(admin_role="operator"))
    html = text(client.get(PAGE))
    cards = re.findall(r'data-kind="(\w+)">.*?class="h6 mb-0 segment-name">(.*?)</h2>.*?<strong>(\d+)</strong>', html, re.S)
    assert cards == [("high_value", "高价值活跃", "2"), ("dormant", "沉睡老客", "3"), ("browser", "只逛不买", "1")]
    assert "平均 3.2 单，客单价 ¥128.00，最近一次 12 天前，偏好数码家电" in html
    assert "客户 6 人" in html and "分为 3 群" in html and "轮廓系数 0.61" in html
    assert chart_data(html)["share"] == [{"name": "高价值活跃", "value": 2}, {"name": "沉睡老客", "value": 3},
                                         {"name": "只逛不买", "value": 1}]
    assert 'data-stats-chart="share"' in html and html.count("发消息") == 3
    assert "还没有给客户分群发过消息" in html


def test_the_empty_states(client, login, make_user):
    login(make_user(admin_role="finance"))
    assert 'data-empty="segments"' in text(client.get(PAGE)) and "还没有客户分群" in text(client.get(PAGE))
    make_run(None, {}, state="too_few", customers=7)
    html = text(client.get(PAGE))
    assert "近 180 天只有 7 位客户，至少 10 位才能分群" in html and 'data-stats-chart' not in html


@pytest.mark.parametrize("role", ["super", "operator", "finance"])
def test_who_may_look(client, login, make_user, platform_run, role):
    login(make_user(admin_role=role))
    html = text(client.get(PAGE))
    assert "高价值活跃" in html
    assert ("发消息" in html) is (role != "finance")  # finance looks, never sends


def test_a_shopper_and_finance_are_refused_where_they_may_not_go(client, login, make_user, platform_run):
    segment = platform_run.segments[0].id
    login(make_user())
    assert client.get(PAGE).status_code == 403
    login(make_user(admin_role="finance"))
    assert client.get(f"{PAGE}/{segment}/message").status_code == 403
    resp = client.post(f"{PAGE}/{segment}/message", data={"title": "x", "body": "y", "confirm": "1",
                                                           "run_id": platform_run.id, "send_key": "k"})
    assert resp.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


def test_members_are_listed_with_masked_phones(client, login, make_user, platform_run, customers):
    login(make_user(admin_role="finance"))
    html = text(client.get(f"{PAGE}/{platform_run.segments[1].id}/members"))
    assert html.count("<tr>") == 1 + 3
    assert "客**" in html and customers[2].phone not in html
    digits = customers[2].phone[3:]
    assert f"{digits[:3]}****{digits[-4:]}" in html


def message(client, run, segment=0, **fields):
    data = {"title": "双十二会员日", "body": "全场满 199 减 30", "link": "/search?q=会员日", "run_id": run.id,
            "send_key": "key-1", **fields}
    return client.post(f"{PAGE}/{run.segments[segment].id}/message", data=data)


@pytest.mark.parametrize(("fields", "complaint"), [
    ({"title": "  "}, "请填写标题"),
    ({"title": "长" * 41}, "标题最多 40 个字"),
    ({"body": ""}, "请填写内容"),
    ({"body": "长" * 201}, "内容最多 200 个字"),
    ({"link": "https://evil.example/"}, "链接只能是本站页面的地址"),
    ({"link": "//evil.example/x"}, "链接只能是本站页面的地址"),
    ({"link": "/\\evil.example"}, "链接只能是本站页面的地址"),
])
def test_bad_input_is_a_form_error_and_nothing_is_sent(client, login, make_user, platform_run, fields, complaint):
    login(make_user(admin_role="operator"))
    for confirm in ("", "1"):
        resp = message(client, platform_run, confirm=confirm, **fields)
        assert resp.status_code == 422 and complaint in text(resp)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


def test_write_confirm_send_and_watch_it_go(client, login, make_user, platform_run, customers, run_jobs):
    login(make_user(admin_role="operator"))
    form = text(client.get(f"{PAGE}/{platform_run.segments[1].id}/message"))
    assert 'name="send_key"' in form and "同时发送短信" in form
    confirm = message(client, platform_run, segment=1, sms="y")
    html = text(confirm)
    assert confirm.status_code == 200 and "确认发送" in html
    assert re.search(r'data-count="receivers"><strong>3</strong>', html) and re.search(r'data-count="sms">3', html)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0  # not yet
    sent = message(client, platform_run, segment=1, sms="y", confirm="1")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"{PAGE}#segment-sends")
    assert message(client, platform_run, segment=1, sms="y", confirm="1").status_code == 302  # a second click
    [job] = db.session.scalars(sa.select(TrackedJob)).all()
    page = text(client.get(PAGE))
    assert f'hx-get="{PAGE}/jobs/{job.id}"' in page and "排队中" in page  # the progress block polls
    run_jobs()
    block = text(client.get(f"{PAGE}/jobs/{job.id}", headers={"HX-Request": "true"}))
    assert 'data-count="sent">3<' in block and "hx-trigger" not in block and 'data-count="sms">3<' in block
    assert sorted(db.session.scalars(sa.select(Message.recipient_id).where(Message.kind == "marketing"))) == \
        sorted(u.id for u in customers[2:5])


def test_recompute_from_the_page(client, login, make_user, run_jobs):
    login(make_user(admin_role="finance"))
    resp = client.post(f"{PAGE}/recompute", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "排队中" in text(resp) and "准备中" in text(resp)
    again = client.post(f"{PAGE}/recompute", headers={"HX-Request": "true"})
    assert json.loads(again.headers["HX-Trigger"])["toast"]["message"] == "客户分群正在计算中，请稍候"
    [job] = db.session.scalars(sa.select(TrackedJob).where(TrackedJob.kind == runs.RECOMPUTE_KIND)).all()
    assert f"{PAGE}/jobs/{job.id}" in text(client.get(PAGE))
    run_jobs()
    done = client.get(f"{PAGE}/jobs/{job.id}", headers={"HX-Request": "true"})
    assert done.headers.get("HX-Refresh") == "true"
    assert db.session.scalar(sa.select(SegmentRun.state)) == "too_few"
    assert "还没有给客户分群发过消息" in text(client.get(PAGE)) and f"/jobs/{job.id}" not in text(client.get(PAGE))


def test_another_scopes_job_is_not_found(client, login, make_user, make_merchant):
    shop = make_merchant()
    with db.session.no_autoflush:
        job = TrackedJob(kind=messaging.SEND_KIND, title="x", merchant_id=shop.id, status=JobStatus.DONE)
        db.session.add(job)
        db.session.commit()
    login(make_user(admin_role="operator"))
    assert client.get(f"{PAGE}/jobs/{job.id}").status_code == 404


def test_the_page_runs_a_fixed_number_of_queries(app, client, login, make_user, count_queries):
    login(make_user(admin_role="operator"))
    few = [make_user(password=None).id for _ in range(2)]
    run = make_run(None, {"high_value": few[:1], "browser": few[1:]})
    client.get(PAGE)
    with count_queries() as small:
        assert client.get(PAGE).status_code == 200
    db.session.delete(db.session.get(SegmentRun, run.id))
    db.session.commit()
    many = [make_user(password=None).id for _ in range(10)]
    run = make_run(None, {kind: many[i * 2:i * 2 + 2] for i, kind in
                          enumerate(("high_value", "new", "dormant", "regular", "browser"))})
    for n in range(4):
        db.session.add(TrackedJob(kind=messaging.SEND_KIND, title=f"发送{n}", status=JobStatus.DONE,
                                  result={"sent": 1}, params={"segment_id": run.segments[0].id}))
    db.session.commit()
    with count_queries() as large:
        assert client.get(PAGE).status_code == 200
    assert len(large) == len(small)
    one, five = (f"{PAGE}/{run.segments[i].id}/members" for i in (0, 4))
    db.session.add_all(SegmentMember(segment_id=run.segments[4].id, user_id=make_user(password=None).id)
                       for _ in range(3))
    db.session.commit()
    with count_queries() as members_small:
        client.get(one)
    with count_queries() as members_large:
        client.get(five)
    assert len(members_small) == len(members_large)


def test_the_sales_page_and_the_sidebar_link_here(client, login, make_user):
    login(make_user(admin_role="finance"))
    html = text(client.get("/admin/stats"))
    assert f'id="segments-link" href="{PAGE}"' in html and html.count(f'href="{PAGE}"') == 2
