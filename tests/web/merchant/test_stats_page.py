"""The merchant 数据 page (/merchant/stats): the shop's own figures for hand-made sales
(tests/analytics/test_figures.py's `shop_sales`: two shops, orders on either side of a
Shanghai midnight, a refund), the range picker's presets, custom ranges and bad input,
another shop's sales never shown, and a fixed number of queries whatever the range."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.extensions import db
from app.merchants.models import MerchantMember
from app.web import date_ranges, sales_stats
from app.web.date_ranges import DateRange
from tests.analytics.test_figures import at, shanghai
from tests.web.helpers import text

DEC_8 = shanghai(2026, 12, 8, 12, 0)
WEEK = "/merchant/stats?from=2026-12-01&to=2026-12-07"


def owner_of(merchant) -> User:
    return db.session.scalar(sa.select(User).join(MerchantMember, MerchantMember.user_id == User.id)
                             .where(MerchantMember.merchant_id == merchant.id))


def tile(html: str, key: str) -> str:
    """The number on the tile `key`, tags and spaces removed."""
    match = re.search(r'data-tile="' + key + r'">.*?<div class="kpi-value">(.*?)</div>\s*<div class="kpi-sub">(.*?)</div>',
                      html, re.S)
    assert match, key
    return re.sub(r"<[^>]+>|\s", "", match.group(1))


def change(html: str, key: str) -> str:
    match = re.search(r'data-tile="' + key + r'">.*?<div class="kpi-sub">(.*?)</div>', html, re.S)
    assert match, key
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def chart_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="stats-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def get(client, url, **headers):
    with at(DEC_8):
        return client.get(url, headers=headers)


def test_the_page_shows_the_shops_figures_for_a_week(shop_sales, client, login):
    login(owner_of(shop_sales["shop"]))
    resp = get(client, WEEK)
    assert resp.status_code == 200
    html = text(resp)
    gmv = 20600 + 15700
    assert tile(html, "paid_orders") == "2" and tile(html, "units") == "5"
    assert tile(html, "gmv_fen") == "¥363.00" and tile(html, "refund_fen") == "¥99.00"
    assert tile(html, "net_fen") == "¥264.00" and tile(html, "aov_fen") == f"¥{gmv // 2 / 100:.2f}"
    assert tile(html, "paying_buyers") == "2" and tile(html, "buyers") == "1/1"
    # nothing the week before: no change to show
    assert change(html, "gmv_fen").endswith("—")
    data = chart_data(html)
    assert data["daily"]["x"] == ["12-01", "12-02", "12-03", "12-04", "12-05", "12-06", "12-07"]
    assert data["daily"]["gmv"] == [0, 0, 0, 0, 206.0, 157.0, 0] and data["daily"]["orders"] == [0, 0, 0, 0, 1, 1, 0]
    mug, cup = shop_sales["mug"].title, shop_sales["cup"].title
    assert data["units"] == {"names": [mug, cup], "values": [3, 2]}
    assert data["revenue"] == {"names": [mug, cup], "values": [297.0, 50.0]}
    # Saturday 23:00 and Sunday 00:00; the 5th and 6th of the month
    assert sorted(data["heatmap"]["cells"]) == [[0, 6, 1], [23, 5, 1]] and data["heatmap"]["max"] == 1
    assert data["month_day"]["y"][4:6] == [1, 1] and sum(data["month_day"]["y"]) == 2
    for key in ("daily", "units", "revenue", "heatmap", "month_day"):
        assert f'data-stats-chart="{key}"' in html
    assert 'data-stats-chart="share"' not in html and 'id="merchant-ranking"' not in html
    provinces = re.findall(r"<td>(\S+省)</td>", html.split('id="province-ranking"')[1])
    assert provinces == ["浙江省", "福建省"]
    # the map names provinces as its outlines do (no 省), valued in yuan
    assert data["map"]["areas"] == [{"name": "浙江", "value": 206.0, "orders": 1},
                                    {"name": "福建", "value": 157.0, "orders": 1}]
    assert data["map"]["max"] == 206.0 and data["map"]["geo"].endswith("/vendor/echarts/china.json")
    assert 'data-stats-chart="map"' in html
    assert 'href="/merchant/stats"' in html  # the sidebar entry


@pytest.mark.parametrize(("full", "short"), [
    ("广东省", "广东"), ("北京市", "北京"), ("内蒙古自治区", "内蒙古"), ("新疆维吾尔自治区", "新疆"),
    ("广西壮族自治区", "广西"), ("宁夏回族自治区", "宁夏"), ("西藏自治区", "西藏"), ("香港特别行政区", "香港"),
    ("台湾省", "台湾"), ("省", "省"),
])
def test_provinces_are_named_as_the_map_names_them(full, short):
    assert sales_stats.map_name(full) == short


def test_the_change_against_the_day_before(shop_sales, client, login):
    login(owner_of(shop_sales["shop"]))
    with at(shanghai(2026, 12, 6, 12, 0)):
        html = text(client.get("/merchant/stats?range=today"))
    # today (6 Dec) ¥157.00 against ¥206.00 yesterday: down, in red; one order each day
    assert tile(html, "gmv_fen") == "¥157.00"
    assert "23.8%" in change(html, "gmv_fen") and "下降" in change(html, "gmv_fen")
    assert 'text-danger"><i class="bi bi-arrow-down-short"' in html.split('data-tile="gmv_fen"')[1]
    assert change(html, "paid_orders").endswith("0%")
    with at(DEC_8):
        html = text(client.get("/merchant/stats?range=yesterday"))
    # 7 Dec: the refund, against nothing refunded on the 6th
    assert tile(html, "refund_fen") == "¥99.00" and tile(html, "paid_orders") == "0"
    assert tile(html, "net_fen") == "¥-99.00"
    assert "已显示" not in html


@pytest.mark.parametrize("args, expected", [
    ({}, ("7d", date(2026, 12, 2), date(2026, 12, 8))),
    ({"range": "today"}, ("today", date(2026, 12, 8), date(2026, 12, 8))),
    ({"range": "yesterday"}, ("yesterday", date(2026, 12, 7), date(2026, 12, 7))),
    ({"range": "7d"}, ("7d", date(2026, 12, 2), date(2026, 12, 8))),
    ({"range": "30d"}, ("30d", date(2026, 11, 9), date(2026, 12, 8))),
    ({"from": "2026-01-01", "to": "2026-12-08"}, ("custom", date(2026, 1, 1), date(2026, 12, 8))),
    ({"from": "2025-12-08", "to": "2026-12-08"}, ("custom", date(2025, 12, 8), date(2026, 12, 8))),  # 366 days
    ({"from": "2026-12-03", "to": "2026-12-03", "range": "30d"}, ("custom", date(2026, 12, 3), date(2026, 12, 3))),
])
def test_the_range_picker_reads_presets_and_custom_ranges(args, expected):
    rng = date_ranges.parse(args, on=date(2026, 12, 8))
    assert (rng.key, rng.first, rng.last) == expected and rng.notice is None
    assert date_ranges.parse(rng.args, on=date(2026, 12, 8)) == rng


@pytest.mark.parametrize("args", [
    {"range": "90d"}, {"range": "<script>"}, {"from": "2026-12-01"}, {"to": "2026-12-01"},
    {"from": "2026-13-01", "to": "2026-12-05"}, {"from": "yesterday", "to": "today"},
    {"from": "2026-12-07", "to": "2026-12-01"},  # reversed
    {"from": "2026-12-01", "to": "2026-12-09"},  # tomorrow
    {"from": "2025-12-07", "to": "2026-12-08"},  # 367 days
    {"from": "2026-12-01\x00", "to": "2026-12-08"}, {"from": "20261201", "to": "2026-12-08"},
])
def test_bad_ranges_fall_back_to_seven_days_with_a_notice(args):
    rng = date_ranges.parse(args, on=date(2026, 12, 8))
    assert (rng.key, rng.first, rng.last) == ("7d", date(2026, 12, 2), date(2026, 12, 8))
    assert rng.notice


def test_a_range_knows_its_previous_period():
    rng = DateRange("custom", date(2026, 12, 1), date(2026, 12, 7))
    assert rng.days == 7 and rng.previous == (date(2026, 11, 24), date(2026, 11, 30))


@pytest.mark.parametrize("query", ["from=2026-12-07&to=2026-12-01", "from=2026-99-01&to=x", "range=nope",
                                   "from=1900-01-01&to=2026-12-08"])
def test_bad_input_on_the_page_is_a_notice_never_an_error(shop_sales, client, login, query):
    login(owner_of(shop_sales["shop"]))
    resp = get(client, f"/merchant/stats?{query}")
    assert resp.status_code == 200
    html = text(resp)
    assert 'class="alert alert-warning' in html and "已显示近 7 天的数据" in html
    assert "统计周期 2026-12-02 至 2026-12-08" in html


def test_a_shop_sees_only_its_own_sales(shop_sales, client, login, make_user):
    login(owner_of(shop_sales["other"]))
    html = text(get(client, WEEK))
    assert tile(html, "paid_orders") == "1" and tile(html, "gmv_fen") == "¥1000.00"
    assert tile(html, "refund_fen") == "¥0.00"
    assert shop_sales["mug"].title not in html and shop_sales["cup"].title not in html
    assert "浙江省" not in html
    # and the first shop never sees the other's product or its ¥1000.00
    client = login(owner_of(shop_sales["shop"]), on=client.application.test_client())
    html = text(get(client, WEEK + f"&merchant_id={shop_sales['other'].id}"))
    assert tile(html, "gmv_fen") == "¥363.00" and "¥1000.00" not in html
    # a shop the user does not belong to, named in the session: 404, no figures
    with client.session_transaction() as session:
        session["merchant_id"] = shop_sales["other"].id
    assert get(client, WEEK).status_code == 404
    # someone without a shop is sent to the console's landing page; nobody signed in, to sign in
    client = login(make_user(), on=client.application.test_client())
    resp = get(client, WEEK)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/merchant/")
    anonymous = client.application.test_client()
    assert "/login" in get(anonymous, WEEK).headers["Location"]


def test_htmx_gets_the_body_only(shop_sales, client, login):
    login(owner_of(shop_sales["shop"]))
    html = text(get(client, "/merchant/stats?range=30d", **{"HX-Request": "true"}))
    assert html.lstrip().startswith('<div id="stats-body">')
    assert "<html" not in html and 'hx-push-url="true"' in html and 'hx-indicator="#stats-loading"' in html
    assert tile(html, "paid_orders") == "2"
    # going back in history without the page cached asks for the whole page
    full = text(get(client, "/merchant/stats?range=30d", **{"HX-Request": "true", "HX-History-Restore-Request": "true"}))
    assert "<html" in full


def test_every_chart_has_an_empty_state_without_sales(make_merchant, client, login):
    shop = make_merchant()
    login(owner_of(shop))
    html = text(get(client, "/merchant/stats?range=30d"))
    assert 'data-stats-chart="' not in html
    assert set(re.findall(r'data-empty="(\w+)"', html)) == {"daily", "units", "revenue", "heatmap", "month_day",
                                                             "funnel", "provinces", "map"}
    assert tile(html, "gmv_fen") == "¥0.00" and change(html, "gmv_fen").endswith("—")


def test_a_fixed_number_of_queries_whatever_the_range_or_the_products(shop_sales, client, login, count_queries,
                                                                      make_product, make_user, place_order,
                                                                      pay_sandbox):
    login(owner_of(shop_sales["shop"]))

    def queries(url) -> int:
        db.session.expire_all()
        with count_queries() as statements:
            assert get(client, url).status_code == 200
        return len(statements)

    day = queries("/merchant/stats?range=today")
    assert queries("/merchant/stats?from=2025-12-08&to=2026-12-08") == day
    before = queries(WEEK)
    products = [make_product(merchant=shop_sales["shop"], price_fen=1000 + n, stocks=(9,)) for n in range(4)]
    with at(shanghai(2026, 12, 3, 15, 0)):
        payment = place_order(make_user(), [(p.skus[0].id, 1) for p in products])
        assert pay_sandbox(payment).status_code == 200
    assert tile(text(get(client, WEEK)), "units") == "9"
    assert queries(WEEK) == before == day
