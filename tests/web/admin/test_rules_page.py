"""The admin 经常一起买 page (/admin/stats/rules, `stats.view`): the platform's rules with
both products, their shops and the figures; sorting by a bounded whitelist, a shop's
rules through the filter, pages; the empty states; the recompute button over HTMX (with
its guard) and as a plain post; who is refused; a fixed number of queries."""
# ruff: noqa: F811  (the fixture imported below is named as a test argument)
from __future__ import annotations

import re

import pytest

from app.accounts import policies
from app.analytics import tasks
from app.analytics.tasks import recompute_rules
from app.extensions import db
from tests.analytics.test_rules_store import recompute_jobs, together  # noqa: F401  (a fixture)
from tests.web.helpers import text, toast

URL = "/admin/stats/rules"
HTMX = {"HX-Request": "true"}


def rows(html: str) -> list[tuple]:
    """(antecedent id-consequent id, support, confidence, lift, counts) per table row."""
    found = re.findall(r'<tr class="rule-row" data-rule="([\d-]+)">.*?data-support>(.*?)</td>.*?data-confidence>(.*?)</td>'
                       r'.*?data-lift>(.*?)</td>.*?data-counts>(.*?)</td>', html, re.S)
    return [(rule, s, c, lift, counts.strip()) for rule, s, c, lift, counts in found]


def pair(a, b) -> str:
    return f"{a.id}-{b.id}"


def test_the_platforms_rules_with_their_products_shops_and_figures(together, client, login, make_user):
    recompute_rules()
    a1, a2, b1 = together["a1"], together["a2"], together["b1"]
    login(make_user(admin_role="operator"))
    html = text(client.get(URL))
    assert rows(html) == [
        (pair(a2, a1), "37.50%", "100.00%", "1.60", "3 / 3"),
        (pair(b1, a1), "25.00%", "100.00%", "1.60", "2 / 2"),
        (pair(a1, a2), "37.50%", "60.00%", "1.60", "3 / 5"),
    ]
    row = html.split(f'data-rule="{pair(b1, a1)}"')[1].split("</tr>")[0]
    assert "乙一" in row and "乙店" in row and "甲一" in row and "甲店" in row  # across two shops
    # the run: when, over how many checkouts, how many rules; the thresholds in force
    assert "共 8 次付款" in html and "得到 3 条规则" in html
    assert "支持度 ≥ 20.00%，置信度 ≥ 50.00%，提升度 ≥ 1.20；统计最近 180 天" in html


def test_sorting_is_a_bounded_whitelist(together, client, login, make_user):
    recompute_rules()
    a1, a2, b1 = together["a1"], together["a2"], together["b1"]
    login(make_user(admin_role="finance"))
    by_support = [r[0] for r in rows(text(client.get(URL + "?sort=support")))]
    assert by_support == [pair(a2, a1), pair(a1, a2), pair(b1, a1)]
    by_confidence = [r[0] for r in rows(text(client.get(URL + "?sort=confidence")))]
    assert by_confidence == [pair(a2, a1), pair(b1, a1), pair(a1, a2)]
    for bogus in ("id; drop table", "lift_bp", ""):
        assert [r[0] for r in rows(text(client.get(URL, query_string={"sort": bogus})))] == \
            [pair(a2, a1), pair(b1, a1), pair(a1, a2)]


def test_a_shops_rules_through_the_filter_and_pages(together, client, login, make_user):
    recompute_rules()
    a1, a2 = together["a1"], together["a2"]
    login(make_user(admin_role="super"))
    html = text(client.get(URL, query_string={"shop": together["shop_a"].id}))
    assert [r[0] for r in rows(html)] == [pair(a2, a1), pair(a1, a2)]
    assert "共 8 笔已付款订单" not in html  # the panel is the platform's run; the table the shop's
    for bad in ("abc", "999999", "-1", "99999999999999"):  # unknown: the platform's
        assert len(rows(text(client.get(URL, query_string={"shop": bad})))) == 3
    first = text(client.get(URL, query_string={"per_page": 2}))
    second = text(client.get(URL, query_string={"per_page": 2, "page": 2}))
    assert len(rows(first)) == 2 and len(rows(second)) == 1 and "共 3 条" in first
    # the sort swaps only the list over HTMX
    part = text(client.get(URL + "?sort=support", headers={**HTMX, "HX-Target": "rules-list"}))
    assert "<html" not in part and len(rows(part)) == 3 and 'id="rules-run"' not in part


def test_empty_before_the_first_run_and_when_nothing_clears_the_thresholds(client, login, make_user):
    login(make_user(admin_role="super"))
    html = text(client.get(URL))
    assert 'data-empty="rules"' in html and "还没有计算过" in html
    recompute_rules()  # no orders at all
    html = text(client.get(URL))
    assert "没有达到门槛的商品组合" in html and 'href="/admin/settings"' in html
    login(make_user(admin_role="operator"))  # may not edit the settings: no link there
    assert 'href="/admin/settings"' not in text(client.get(URL))


def test_the_recompute_button_over_htmx_with_its_guard(together, client, login, make_user, run_jobs):
    login(make_user(admin_role="operator"))
    first = client.post(URL + "/recompute", headers=HTMX)
    assert first.status_code == 200 and toast(first)["level"] == "success"
    body = text(first)
    assert 'id="rules-run"' in body and "计算中" in body and 'hx-trigger="every 3s"' in body
    assert 'id="rules-recompute" disabled' in body
    again = client.post(URL + "/recompute", headers=HTMX)
    assert toast(again)["level"] == "warning" and "正在计算中" in toast(again)["message"]
    assert recompute_jobs() == [(None,)]  # sent once
    polled = client.get(URL + "/status?was_busy=1", headers=HTMX)
    assert "HX-Refresh" not in polled.headers and "计算中" in text(polled)
    run_jobs()
    done = client.get(URL + "/status?was_busy=1", headers=HTMX)
    assert done.headers["HX-Refresh"] == "true"
    db.session.expire_all()
    assert len(rows(text(client.get(URL)))) == 3
    assert 'id="rules-recompute" disabled' not in text(client.get(URL))


def test_the_recompute_button_as_a_plain_post(together, client, login, make_user, app, monkeypatch):
    login(make_user(admin_role="super"))
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)  # no queue: the job runs after the commit
    resp = client.post(URL + "/recompute")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(URL)
    html = text(client.get(URL))
    assert "已重新计算" in html and len(rows(html)) == 3 and not tasks.is_busy()
    # over HTMX, the job done inline: the page reloads with the news
    resp = client.post(URL + "/recompute", headers=HTMX)
    assert resp.headers["HX-Refresh"] == "true"


def test_who_may_look_and_recompute(together, client, login, make_user, make_merchant, monkeypatch):
    recompute_rules()
    assert "/login" in client.get(URL).headers["Location"]
    shopper = make_user()
    owner = make_user()
    make_merchant(owner=owner)
    for user in (shopper, owner):
        login(user)
        for resp in (client.get(URL), client.post(URL + "/recompute"), client.get(URL + "/status")):
            assert resp.status_code == 403
    # an admin whose role lacks stats.view (the roles are narrowed here: all three have it today)
    monkeypatch.setitem(policies.ADMIN_PERMISSIONS, "stats.view", {"operator"})
    login(make_user(admin_role="finance"))
    for resp in (client.get(URL), client.post(URL + "/recompute"), client.get(URL + "/status")):
        assert resp.status_code == 403
        assert "甲一" not in text(resp)
    refused = client.post(URL + "/recompute", headers=HTMX)  # over HTMX: a toast, nothing swapped
    assert toast(refused)["level"] == "danger" and refused.headers["HX-Reswap"] == "none" and text(refused) == ""
    assert recompute_jobs() == []
    login(make_user(admin_role="operator"))
    assert client.get(URL).status_code == 200


def test_linked_from_the_sales_page(client, login, make_user):
    login(make_user(admin_role="operator"))
    html = text(client.get("/admin/stats?range=7d"))
    assert 'id="rules-link"' in html and f'href="{URL}"' in html


@pytest.mark.parametrize("sort", ["lift", "support"])
def test_a_fixed_number_of_queries_whatever_the_page_size(together, client, login, make_user, count_queries, sort):
    recompute_rules()
    login(make_user(admin_role="super"))

    def queries(per_page: int) -> int:
        db.session.expire_all()
        with count_queries() as statements:
            html = text(client.get(URL, query_string={"per_page": per_page, "sort": sort}))
        assert len(rows(html)) == min(per_page, 3)
        return len(statements)

    assert queries(1) == queries(3)
