"""Settled days (app/analytics/settled_days.py): what a day keeps once it can no longer
change gives the same figures as the source rows did, distinct people stay distinct
across settled and live days, and a day settles only once its late events are in."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from pyroaring import BitMap64

from app.analytics import figures, settled_days
from app.analytics.models import Event, HourSales, KeywordDay, PeopleDay, ProvinceSales, SettledDay
from app.core.db import transaction
from app.core.jobs import get_queue
from app.extensions import db
from tests.analytics.test_figures import at, shanghai, shop_sales  # noqa: F401  (the fixture)

FIRST, LAST = date(2026, 11, 1), date(2026, 12, 7)


def add_behaviour(shop_sales) -> None:  # noqa: F811
    """Product views, carts and searches by people signed in and anonymous, on several days."""
    shop, mug, loyal = shop_sales["shop"], shop_sales["mug"], shop_sales["late"].buyer_id
    rows = [
        # the loyal buyer views the mug on two days: one person in the funnel's view step
        Event(type="page_view", user_id=loyal, product_id=mug.id, merchant_id=shop.id,
              created_at=shanghai(2026, 12, 4, 12, 0)),
        Event(type="page_view", user_id=loyal, product_id=mug.id, merchant_id=shop.id,
              created_at=shanghai(2026, 12, 6, 21, 0)),
        # an anonymous visitor on 4 and 5 December, and another on the 6th
        Event(type="page_view", anon_id="anon-aaaaaaaaaa", product_id=mug.id, merchant_id=shop.id,
              created_at=shanghai(2026, 12, 4, 9, 0)),
        Event(type="add_to_cart", anon_id="anon-aaaaaaaaaa", product_id=mug.id, merchant_id=shop.id,
              created_at=shanghai(2026, 12, 5, 9, 0)),
        Event(type="page_view", anon_id="anon-bbbbbbbbbb", product_id=mug.id, merchant_id=shop.id,
              created_at=shanghai(2026, 12, 6, 23, 50)),
        # a page view of no product is no step of the funnel
        Event(type="page_view", anon_id="anon-cccccccccc", created_at=shanghai(2026, 12, 4, 9, 0)),
        # searches: 茶杯 twice (once on each side of settling), 火星 found nothing
        Event(type="search", user_id=loyal, query="茶杯", props={"results": 4}, created_at=shanghai(2026, 12, 4, 8, 0)),
        Event(type="search", anon_id="anon-aaaaaaaaaa", query="茶杯", props={"results": 4},
              created_at=shanghai(2026, 12, 6, 8, 0)),
        Event(type="search", user_id=loyal, query="火星", props={"results": 0}, created_at=shanghai(2026, 12, 5, 8, 0)),
    ]
    with transaction():
        db.session.add_all(rows)


def everything(merchant_id=None) -> dict:
    return {
        "figures": figures.for_days(FIRST, LAST, merchant_id),
        "funnel": figures.funnel(FIRST, LAST, merchant_id),
        "provinces": figures.provinces(FIRST, LAST, merchant_id),
        "times": figures.purchase_times(FIRST, LAST, merchant_id),
        "keywords": figures.search_keywords(FIRST, LAST) if merchant_id is None else None,
    }


def test_the_figures_are_the_same_before_and_after_the_days_settle(shop_sales):  # noqa: F811
    add_behaviour(shop_sales)
    shop = shop_sales["shop"].id
    with at(shanghai(2026, 12, 8, 12, 0)):
        before = {None: everything(), shop: everything(shop)}
        # nothing settled yet: the 6th is the last day that may (two days before the 8th)
        assert settled_days.last_settleable() == date(2026, 12, 6)
        settled = settled_days.settle_due(limit=None)
        assert settled_days.due_days() == []
        after = {None: everything(), shop: everything(shop)}
    assert settled > 30
    assert after == before
    # and the figures are what the events say
    # (orders and payments are recorded by the services: both of the shop's buyers in the range)
    assert before[shop]["funnel"] == [{"step": "view", "visitors": 3}, {"step": "cart", "visitors": 1},
                                      {"step": "order", "visitors": 2}, {"step": "pay", "visitors": 2}]
    assert before[None]["keywords"] == {"top": [{"keyword": "茶杯", "searches": 2}, {"keyword": "火星", "searches": 1}],
                                        "no_results": [{"keyword": "火星", "searches": 1}]}
    assert before[None]["figures"].paying_buyers == 2 and before[shop]["figures"].paying_buyers == 2
    # what the settled days kept: the platform's rows, the sets, the keywords; today and yesterday stay live
    assert db.session.scalar(sa.select(sa.func.max(SettledDay.day))) == date(2026, 12, 6)
    platform_hours = set(db.session.execute(sa.select(HourSales.day, HourSales.hour, HourSales.paid_orders)
                                            .where(HourSales.scope_id == 0)).all())
    # 6 December 00:10 had this shop's order and the other shop's at 09:00
    assert {(date(2026, 12, 6), 0, 1), (date(2026, 12, 6), 9, 1), (date(2026, 12, 5), 23, 1)} <= platform_hours
    assert db.session.scalar(sa.select(sa.func.sum(ProvinceSales.gmv_fen)).where(ProvinceSales.scope_id == 0)) == \
        db.session.scalar(sa.select(sa.func.sum(ProvinceSales.gmv_fen)).where(ProvinceSales.scope_id != 0))
    views_4th = db.session.get(PeopleDay, (shop, "view", date(2026, 12, 4)))
    assert views_4th.people == 2 and len(BitMap64.deserialize(views_4th.members)) == 2
    assert db.session.get(KeywordDay, (date(2026, 12, 5), "火星")).empty_searches == 1


def test_a_person_counts_once_across_settled_and_live_days(shop_sales):  # noqa: F811
    add_behaviour(shop_sales)
    shop = shop_sales["shop"].id
    with at(shanghai(2026, 12, 7, 12, 0)):  # the 5th settles, the 6th is live
        settled_days.settle_due(limit=None)
        assert date(2026, 12, 5) in settled_days.settled_in(FIRST, LAST)
        assert date(2026, 12, 6) not in settled_days.settled_in(FIRST, LAST)
        counts = settled_days.people_counts(date(2026, 12, 4), date(2026, 12, 6), shop)
    # the loyal buyer viewed on the 4th (settled) and the 6th (live); anon a on the 4th; anon b on the 6th
    assert counts["view"] == 3 and counts["cart"] == 1
    assert counts["payers"] == 2  # loyal on the 5th (settled), the newcomer on the 6th (live)


def test_settling_again_rewrites_the_same_rows(shop_sales):  # noqa: F811
    add_behaviour(shop_sales)

    def rows():
        db.session.expire_all()
        return [sorted(tuple(getattr(row, c.key) for c in sa.inspect(model).columns if c.key != "settled_at")
                       for row in db.session.scalars(sa.select(model)))
                for model in (PeopleDay, KeywordDay, HourSales, ProvinceSales, SettledDay)]

    with at(shanghai(2026, 12, 9, 12, 0)):
        settled_days.settle_due(limit=None)
        first = rows()
        with transaction():
            for day in (date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)):
                settled_days.settle(day)
        assert rows() == first


def test_people_keys_keep_accounts_and_anonymous_visitors_apart():
    assert settled_days.person(42, "anon-aaaaaaaaaa") == 42
    anonymous = settled_days.person(None, "anon-aaaaaaaaaa")
    assert anonymous >= settled_days.ANONYMOUS and anonymous == settled_days.person(None, "anon-aaaaaaaaaa")
    assert anonymous != settled_days.person(None, "anon-bbbbbbbbbb")
    assert settled_days.person(None, None) is None


def test_the_hourly_job_settles_through_the_worker(shop_sales, run_jobs):  # noqa: F811
    with at(shanghai(2026, 12, 8, 12, 0)):
        due = settled_days.due_days(limit=None)
        # from the first sale (2 November) to the last day that may settle, newest first
        assert due[0] == date(2026, 12, 6) and due[-1] == date(2026, 11, 2) and len(due) == 35
        get_queue("low").enqueue(settled_days.settle_due, 10)  # a run's worth: ten days
        assert run_jobs() == 1
        db.session.expire_all()
        assert settled_days.due_days(limit=None) == due[10:]  # the rest wait for the next runs
        done = settled_days.settled_in(FIRST - timedelta(days=400), LAST + timedelta(days=1))
    assert done == set(due[:10])


def test_the_job_is_registered():
    import importlib

    from rq import cron

    import app.cron_jobs

    before = list(cron._job_data_registry)
    importlib.reload(app.cron_jobs)
    names = {d["func"].__name__ for d in cron._job_data_registry}
    cron._job_data_registry[:] = before
    assert {"settle_due", "maintain_event_partitions", "sweep_tracked_jobs"} <= names
