"""The merchant 客户分群 page (/merchant/stats/segments): the shop's own segments only, its
members' names masked and no phone, in-site messages only (no SMS), a suspended shop sends
nothing, and another shop's member finds none of it (404)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.tracked_jobs import TrackedJob
from app.extensions import db
from app.notifications.models import Message
from tests.analytics.segment_fixtures import make_run
from tests.web.helpers import text
from tests.web.merchant.test_stats_page import owner_of

PAGE = "/merchant/stats/segments"


@pytest.fixture
def shops(make_user, make_merchant):
    """Two shops, each with a run of its own customers."""
    shop, other = make_merchant(name="山野茶舍"), make_merchant(name="海边渔家")
    mine = [make_user(nickname=f"茶客{i}", password=None) for i in range(4)]
    theirs = [make_user(nickname=f"渔客{i}", password=None) for i in range(3)]
    return {"shop": shop, "other": other, "mine": mine, "theirs": theirs,
            "run": make_run(shop.id, {"regular": [u.id for u in mine[:3]], "browser": [mine[3].id]}),
            "other_run": make_run(other.id, {"dormant": [u.id for u in theirs]}),
            "platform_run": make_run(None, {"high_value": [u.id for u in mine + theirs]})}


def test_the_shop_sees_its_own_segments_only(client, login, shops):
    login(owner_of(shops["shop"]))
    html = text(client.get(PAGE))
    assert re.findall(r'class="h6 mb-0 segment-name">(.*?)</h2>', html) == ["普通客户", "只逛不买"]
    assert "沉睡老客" not in html and "高价值活跃" not in html  # another shop's, the platform's
    members = text(client.get(f"{PAGE}/{shops['run'].segments[0].id}/members"))
    assert "茶**" in members and "茶客0" not in members
    assert not any(u.phone[3:7] in members or u.phone[-4:] in members for u in shops["mine"])
    form = text(client.get(f"{PAGE}/{shops['run'].segments[0].id}/message"))
    assert 'name="title"' in form and "短信" not in form.split('id="segment-message-form"')[1].split("</form>")[0]


@pytest.mark.parametrize("path", ["members", "message"])
def test_another_shops_segments_are_not_found(client, login, shops, path):
    login(owner_of(shops["other"]))
    for run in (shops["run"], shops["platform_run"]):
        segment = run.segments[0].id
        assert client.get(f"{PAGE}/{segment}/{path}").status_code == 404
        if path == "message":
            resp = client.post(f"{PAGE}/{segment}/message", data={
                "title": "抢客", "body": "来我家买", "run_id": run.id, "send_key": "x", "confirm": "1"})
            assert resp.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


def test_another_shops_job_is_not_found(client, login, shops):
    login(owner_of(shops["shop"]))
    client.post(f"{PAGE}/{shops['run'].segments[0].id}/message", data={
        "title": "新茶上市", "body": "明前龙井到货", "run_id": shops["run"].id, "send_key": "k", "confirm": "1"})
    [job] = db.session.scalars(sa.select(TrackedJob)).all()
    assert client.get(f"{PAGE}/jobs/{job.id}").status_code == 200
    login(owner_of(shops["other"]))
    assert client.get(f"{PAGE}/jobs/{job.id}").status_code == 404
    assert f"/jobs/{job.id}" not in text(client.get(PAGE))


def test_a_shop_message_goes_out_named_and_without_sms(client, login, shops, run_jobs, outbox):
    login(owner_of(shops["shop"]))
    segment = shops["run"].segments[0].id
    refused = client.post(f"{PAGE}/{segment}/message", data={
        "title": "新茶上市", "body": "明前龙井到货", "sms": "y", "run_id": shops["run"].id, "send_key": "k"})
    assert refused.status_code == 422 and "只有平台可以发送短信" in text(refused)
    sent = client.post(f"{PAGE}/{segment}/message", data={
        "title": "新茶上市", "body": "明前龙井到货", "run_id": shops["run"].id, "send_key": "k", "confirm": "1"})
    assert sent.status_code == 302
    run_jobs()
    titles = dict(db.session.execute(sa.select(Message.recipient_id, Message.title)
                                     .where(Message.kind == "marketing")).all())
    assert titles == {u.id: "【山野茶舍】新茶上市" for u in shops["mine"][:3]}
    assert outbox.sms() == []


def test_staff_may_send_but_a_suspended_shop_may_not(client, login, shops, make_user):
    from app.merchants.models import MerchantMember

    staff = make_user()
    db.session.add(MerchantMember(merchant_id=shops["shop"].id, user_id=staff.id, role="staff"))
    db.session.commit()
    login(staff)
    segment = shops["run"].segments[0].id
    assert client.get(f"{PAGE}/{segment}/message").status_code == 200
    shops["shop"].status = "suspended"
    db.session.commit()
    assert "发消息" not in text(client.get(PAGE))
    resp = client.post(f"{PAGE}/{segment}/message", data={
        "title": "新茶上市", "body": "明前龙井到货", "run_id": shops["run"].id, "send_key": "k", "confirm": "1"})
    assert resp.status_code == 302  # refused with a flash
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackedJob)) == 0


def test_the_stats_page_links_here(client, login, shops):
    login(owner_of(shops["shop"]))
    assert f'href="{PAGE}"' in text(client.get("/merchant/stats"))


def test_the_page_runs_a_fixed_number_of_queries(client, login, make_user, make_merchant, count_queries):
    owner = make_user()
    shop = make_merchant(owner=owner)
    login(owner)
    ids = [make_user(password=None).id for _ in range(8)]
    make_run(shop.id, {"regular": ids[:1]})
    client.get(PAGE)
    with count_queries() as small:
        client.get(PAGE)
    db.session.execute(sa.text("DELETE FROM segment_members; DELETE FROM segments; DELETE FROM segment_runs"))
    db.session.commit()
    make_run(shop.id, {kind: ids[i * 2:i * 2 + 2] for i, kind in enumerate(("new", "dormant", "regular", "browser"))})
    with count_queries() as large:
        client.get(PAGE)
    assert len(small) == len(large)
