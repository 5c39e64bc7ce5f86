"""The admin 销售数据 page (/admin/stats): the platform's figures for hand-made sales
(`shop_sales`: two shops), the shops' ranking and share, who may look (operators, finance,
super admins; never a shopper), and a fixed number of queries whatever the range."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.analytics.test_figures import at, shanghai
from tests.web.helpers import text
from tests.web.merchant.test_stats_page import chart_data, tile

DEC_8 = shanghai(2026, 12, 8, 12, 0)
WEEK = "/admin/stats?from=2026-12-01&to=2026-12-07"


def get(client, url, **headers):
    with at(DEC_8):
        return client.get(url, headers=headers)


def test_the_platforms_figures_and_the_shops_ranking(shop_sales, client, login, make_user):
    login(make_user(admin_role="super"))
    html = text(get(client, WEEK))
    shop_gmv = 20600 + 15700
    assert tile(html, "paid_orders") == "3" and tile(html, "units") == "6"
    assert tile(html, "gmv_fen") == f"¥{(shop_gmv + 100000) // 100}.00" and tile(html, "refund_fen") == "¥99.00"
    assert tile(html, "aov_fen") == "¥454.33"  # 136300 / 3, half up
    # the newcomer paid two shops: one new buyer on the platform, the loyal one returning
    assert tile(html, "paying_buyers") == "2" and tile(html, "buyers") == "1/1"
    ranking = html.split('id="merchant-ranking"')[1].split("</table>")[0]
    rows = re.findall(r'data-merchant="(\d+)".*?<td class="text-end d-none d-sm-table-cell">(\d+)</td><td class="text-end">(.*?)</td>\s*'
                      r'<td class="text-end">(.*?)</td>', ranking, re.S)
    assert rows == [(str(shop_sales["other"].id), "1", "¥1000.00", "73.4%"),
                    (str(shop_sales["shop"].id), "2", "¥363.00", "26.6%")]
    data = chart_data(html)
    assert data["share"] == [{"name": shop_sales["other"].name, "value": 1000.0},
                             {"name": shop_sales["shop"].name, "value": 363.0}]
    assert data["units"]["names"][0] == shop_sales["mug"].title  # 3 mugs; the others sold 2 cups and 1 item
    for key in ("daily", "units", "revenue", "heatmap", "month_day", "share"):
        assert f'data-stats-chart="{key}"' in html
    provinces = re.findall(r"<td>(\S+省)</td>", html.split('id="province-ranking"')[1])
    assert provinces == ["福建省", "浙江省"]  # the newcomer's ¥1000.00 order went to 福建省 too


def test_without_sales_every_chart_and_table_is_an_empty_state(client, login, make_user):
    login(make_user(admin_role="operator"))
    html = text(get(client, "/admin/stats?range=yesterday"))
    assert 'data-stats-chart="' not in html
    assert set(re.findall(r'data-empty="([\w-]+)"', html)) == {
        "daily", "units", "revenue", "heatmap", "month_day", "funnel", "share", "merchants", "provinces", "map",
        "keywords-top", "keywords-no_results"}


@pytest.mark.parametrize("role", ["super", "operator", "finance"])
def test_admins_may_look_and_find_it_from_the_dashboard(client, login, make_user, role):
    login(make_user(admin_role=role))
    assert get(client, "/admin/stats?range=30d").status_code == 200
    dashboard = text(get(client, "/admin/"))
    assert 'id="stats-link"' in dashboard and 'href="/admin/stats"' in dashboard


def test_a_shopper_or_a_stranger_is_refused(client, login, make_user, make_merchant):
    assert "/login" in get(client, WEEK).headers["Location"]
    login(make_user())
    assert get(client, WEEK).status_code == 403
    owner = make_user()
    make_merchant(owner=owner)  # a merchant is no admin either
    login(owner)
    assert get(client, WEEK).status_code == 403


def test_the_range_picker_swaps_the_body(shop_sales, client, login, make_user):
    login(make_user(admin_role="finance"))
    html = text(get(client, "/admin/stats?range=bogus", **{"HX-Request": "true"}))
    assert html.lstrip().startswith('<div id="stats-body">') and "<html" not in html
    assert "已显示近 7 天的数据" in html and 'href="/admin/stats?range=30d"' in html


def test_a_fixed_number_of_queries_whatever_the_range(shop_sales, client, login, make_user, count_queries):
    login(make_user(admin_role="super"))

    def queries(url) -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert get(client, url).status_code == 200
        return len(statements)

    assert queries("/admin/stats?range=today") == queries(WEEK) == queries("/admin/stats?from=2025-12-08&to=2026-12-08")
