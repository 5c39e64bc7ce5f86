"""The funnel (view → cart → order → paid, distinct visitors) and the search keywords,
counted from behaviour events of a range of Shanghai days; a shop search records how many
products it found; both dashboards show them."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from app.analytics import figures, tracking
from app.analytics.models import Event
from app.core.clock import SHANGHAI
from app.core.db import transaction
from app.extensions import db


def at(y, m, d, hh=12) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SHANGHAI).astimezone(UTC)


def add(kind, when, *, user_id=None, anon_id=None, merchant_id=None, product_id=None, query=None, results=None):
    db.session.add(Event(type=kind, created_at=when, user_id=user_id, anon_id=anon_id, merchant_id=merchant_id,
                         product_id=product_id, query=query,
                         props={} if results is None else {"results": results}))


def test_the_funnel_counts_distinct_visitors_at_each_step(make_user, make_merchant):
    shop, other = make_merchant(), make_merchant()
    ann, bob = make_user(), make_user()
    day = at(2026, 12, 5)
    for _ in range(3):  # one visitor viewing three times is one visitor
        add("page_view", day, anon_id="a" * 32, merchant_id=shop.id, product_id=1)
    add("page_view", day, user_id=ann.id, merchant_id=shop.id, product_id=1)
    add("page_view", day, user_id=bob.id, merchant_id=shop.id, product_id=2)
    add("page_view", day, user_id=bob.id)  # a page that is not a product's: not a view of the funnel
    add("add_to_cart", day, user_id=ann.id, merchant_id=shop.id, product_id=1)
    add("add_to_cart", day, user_id=bob.id, merchant_id=shop.id, product_id=2)
    add("order", day, user_id=ann.id, merchant_id=shop.id)
    add("pay", day, user_id=ann.id, merchant_id=shop.id)
    add("page_view", day, user_id=ann.id, merchant_id=other.id, product_id=9)  # another shop
    add("pay", at(2026, 12, 6, 0), user_id=bob.id, merchant_id=shop.id)  # 00:00 on the 6th: outside
    db.session.commit()
    assert figures.funnel(date(2026, 12, 5), date(2026, 12, 5), shop.id) == [
        {"step": "view", "visitors": 3}, {"step": "cart", "visitors": 2}, {"step": "order", "visitors": 1},
        {"step": "pay", "visitors": 1}]
    assert figures.funnel(date(2026, 12, 5), date(2026, 12, 6))[0] == {"step": "view", "visitors": 3}
    assert figures.funnel(date(2026, 12, 5), date(2026, 12, 6))[3] == {"step": "pay", "visitors": 2}


def test_search_keywords_and_the_ones_that_found_nothing():
    day = at(2026, 12, 5)
    for query, results in (("橙子", 12), ("橙子", 12), ("Orange", 3), ("orange", 3), ("榴莲干", 0), ("榴莲干", 0),
                           ("火星土豆", 0)):
        add("search", day, anon_id="b" * 32, query=query, results=results)
    add("search", at(2026, 12, 9), anon_id="b" * 32, query="橙子", results=12)  # outside the range
    db.session.commit()
    words = figures.search_keywords(date(2026, 12, 1), date(2026, 12, 7))
    assert words["top"] == [{"keyword": "orange", "searches": 2}, {"keyword": "榴莲干", "searches": 2},
                            {"keyword": "橙子", "searches": 2}, {"keyword": "火星土豆", "searches": 1}]
    assert words["no_results"] == [{"keyword": "榴莲干", "searches": 2}, {"keyword": "火星土豆", "searches": 1}]


def test_a_shop_search_records_how_many_products_it_found(client, make_product):
    make_product(title="赣南脐橙 5斤装")
    assert client.get("/search?q=脐橙").status_code == 200
    assert client.get("/search?q=火星土豆").status_code == 200
    with transaction():
        assert tracking.flush_buffer() == 2  # searches are buffered like the client's events
    db.session.expire_all()
    found = {e.query: e.props.get("results") for e in db.session.scalars(sa.select(Event).where(Event.type == "search"))}
    assert found == {"脐橙": 1, "火星土豆": 0}


def test_the_dashboards_show_the_funnel_and_the_keywords(client, login, make_user, make_merchant):
    admin = make_user(admin_role="operator")
    today = datetime.now(UTC)
    add("page_view", today, anon_id="c" * 32, product_id=1)
    add("search", today, anon_id="c" * 32, query="榴莲干", results=0)
    db.session.commit()
    login(admin)
    html = client.get("/admin/stats?range=today").get_data(as_text=True)
    assert 'data-stats-chart="funnel"' in html
    assert 'id="keywords-no_results"' in html and "榴莲干" in html
    owner = make_user()
    make_merchant(owner=owner)
    login(owner)
    shop_page = client.get("/merchant/stats?range=today").get_data(as_text=True)
    assert 'data-empty="funnel"' in shop_page and "keywords-" not in shop_page  # nothing of its own yet
