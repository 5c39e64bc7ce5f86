"""Customer segments: the figures of a scope's customers, k-means recovering planted groups
with their names, too few customers, a shop's scope, the naming rules, and a new run
replacing the old one whole."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from app.analytics.models import Event
from app.analytics.segments import clustering, features, naming, runs
from app.analytics.segments.models import RunState, Segment, SegmentMember, SegmentRun
from app.core.db import transaction
from app.extensions import db
from tests.analytics.segment_fixtures import NOW, at, buy, look


def members_by_name(run: SegmentRun) -> dict[str, set[int]]:
    rows = db.session.execute(sa.select(Segment.name, SegmentMember.user_id)
                              .join(SegmentMember, SegmentMember.segment_id == Segment.id)
                              .where(Segment.run_id == run.id)).all()
    out: dict[str, set[int]] = {}
    for name, user_id in rows:
        out.setdefault(name, set()).add(user_id)
    return out


def test_the_figures_of_a_shops_customers(planted):
    with at(NOW):
        figures = features.build(planted["shop"].id)
    assert len(figures) == 24
    row = {int(uid): figures.values[i] for i, uid in enumerate(figures.user_ids)}
    loyal, sleeping, browsing = (planted["groups"][g][0] for g in ("loyal", "sleeping", "browsing"))
    recency, orders, money, views, dwell, carts = row[loyal]
    assert (orders, money) == (3, 3 * 35000) and recency == pytest.approx(1, abs=0.01)
    assert (views, dwell, carts) == (15, 750, 3)
    assert row[sleeping][1:3].tolist() == [2, 2 * 6900] and row[sleeping][0] == pytest.approx(100, abs=0.01)
    assert row[browsing][0] == 180 and row[browsing][1:4].tolist() == [0, 0, 50]  # never bought: as long as the window
    # the two top-level categories (the factory puts each leaf under a 大类 of its own), no 其他
    assert len(figures.categories) == 2 and all(name.startswith("大类") for _cid, name in figures.categories)
    # loyal spent on gadgets, sleeping on fruit, browsing only looked (at gadgets)
    gadget_col = next(i for i, (cid, _n) in enumerate(figures.categories) if cid != 0 and figures.mix[:, i].any())
    by_user = {int(uid): figures.mix[i] for i, uid in enumerate(figures.user_ids)}
    assert by_user[loyal].sum() == pytest.approx(1) and by_user[browsing].sum() == pytest.approx(1)
    assert by_user[loyal][gadget_col] == by_user[browsing][gadget_col]
    assert not np.isnan(figures.first_order_days[list(figures.user_ids).index(loyal)])
    assert np.isnan(figures.first_order_days[list(figures.user_ids).index(browsing)])


def test_clustering_recovers_the_planted_groups_and_names_them(planted):
    with at(NOW), transaction():
        run = runs.recompute(planted["shop"].id)
    assert run.state == RunState.CLUSTERED and run.k == 3 and run.customers == 24
    assert run.silhouette > 0.5
    found = members_by_name(run)
    assert found == {"高价值活跃": set(planted["groups"]["loyal"]), "沉睡老客": set(planted["groups"]["sleeping"]),
                     "只逛不买": set(planted["groups"]["browsing"])}
    segments = {s.name: s for s in run.segments}
    loyal = segments["高价值活跃"].profile
    assert loyal["orders"] == pytest.approx(sum(3 + i % 3 for i in range(8)) / 8, abs=0.01)
    assert loyal["aov_fen"] == 35000 and loyal["last_order_days"] < 6 and loyal["buyers_share"] == 1
    assert segments["只逛不买"].profile["last_order_days"] is None
    assert [s.size for s in run.segments] == [8, 8, 8] and [s.position for s in run.segments] == [0, 1, 2]
    assert sum(s.profile["share"] for s in run.segments) == pytest.approx(1, abs=0.001)


def test_fewer_customers_than_the_minimum_is_a_run_without_segments(make_user, make_product):
    product = make_product()
    for i in range(clustering.MIN_CUSTOMERS - 1):
        look(make_user(password=None).id, product, NOW - timedelta(days=1), views=1 + i)
    db.session.commit()
    with at(NOW), transaction():
        run = runs.recompute(None)
    assert (run.state, run.customers, run.k, run.silhouette) == (RunState.TOO_FEW, 9, None, None)
    assert run.segments == [] and db.session.scalar(sa.select(sa.func.count()).select_from(Segment)) == 0


def test_customers_who_all_did_the_same_are_not_split(make_user, make_product):
    product = make_product()
    for _ in range(12):
        look(make_user(password=None).id, product, NOW - timedelta(days=1), views=2, dwell_s=10)
    db.session.commit()
    with at(NOW), transaction():
        run = runs.recompute(None)
    assert run.state == RunState.TOO_ALIKE and run.customers == 12 and run.segments == []


def test_a_shops_scope_has_its_own_customers_and_figures(make_user, make_merchant, make_product, make_address):
    shop, other = make_merchant(), make_merchant()
    mine = make_product(merchant=shop, price_fen=10000, stocks=(50,))
    theirs = make_product(merchant=other, price_fen=90000, stocks=(50,))
    both, elsewhere, looker = make_user(), make_user(), make_user()
    buy(both, make_address(both), [(mine.skus[0].id, 1)], NOW - timedelta(days=3))
    buy(both, make_address(both), [(theirs.skus[0].id, 2)], NOW - timedelta(days=1))
    buy(elsewhere, make_address(elsewhere), [(theirs.skus[0].id, 1)], NOW - timedelta(days=2))
    look(looker.id, mine, NOW - timedelta(days=1), views=7, dwell_s=40, carts=1)
    look(looker.id, theirs, NOW - timedelta(days=1), views=30)
    db.session.commit()
    with at(NOW):
        shop_figures = features.build(shop.id)
        platform = features.build(None)
    rows = {int(uid): shop_figures.values[i].tolist() for i, uid in enumerate(shop_figures.user_ids)}
    assert set(rows) == {both.id, looker.id}  # the other shop's buyer is not this shop's customer
    assert rows[both.id][0] == pytest.approx(3, abs=0.01) and rows[both.id][1:3] == [1, 10000]  # its own order only
    assert rows[looker.id][1:] == [0, 0, 7, 280, 1]  # views, dwell and carts of its own products only
    whole = {int(uid): platform.values[i].tolist() for i, uid in enumerate(platform.user_ids)}
    assert set(whole) == {both.id, elsewhere.id, looker.id}
    assert whole[both.id][1:3] == [2, 10000 + 2 * 90000] and whole[looker.id][3] == 37
    # the first purchase is the shop's own (FirstPurchase of the shop), three days ago
    assert shop_figures.first_order_days[list(shop_figures.user_ids).index(both.id)] == pytest.approx(3, abs=1)


def test_a_deleted_account_is_nobodys_customer(make_user, make_product, make_address):
    product = make_product(price_fen=5000, stocks=(20,))
    gone = make_user()
    buy(gone, make_address(gone), [(product.skus[0].id, 1)], NOW - timedelta(days=2))
    gone.status = "deleted"
    db.session.commit()
    with at(NOW):
        assert len(features.build(None)) == 0


def profile(**fields) -> dict:
    base = {"buyers_share": 1.0, "orders": 2.0, "last_order_days": 10.0, "first_order_days": 200.0,
            "monetary_fen": 50000, "views": 10.0, "cart_adds": 0.0}
    return {**base, **fields}


REFERENCE = {"median_views": 8.0, "buyer_mean_monetary_fen": 30000.0}


@pytest.mark.parametrize(("fields", "kind"), [
    ({"buyers_share": 0.1, "views": 30.0}, naming.Kind.BROWSER),
    ({"buyers_share": 0.2, "views": 3.0, "cart_adds": 1.0}, naming.Kind.POTENTIAL),
    ({"buyers_share": 0.0, "views": 2.0}, naming.Kind.LIGHT),
    ({"last_order_days": 75.0}, naming.Kind.DORMANT),
    ({"orders": 1.1, "first_order_days": 12.0, "last_order_days": 12.0, "monetary_fen": 9000}, naming.Kind.NEW),
    ({"orders": 1.0, "first_order_days": 120.0, "monetary_fen": 9000}, naming.Kind.REGULAR),
    ({"orders": 4.0, "monetary_fen": 80000, "last_order_days": 5.0}, naming.Kind.HIGH_VALUE),
    ({"orders": 4.0, "monetary_fen": 20000, "last_order_days": 5.0}, naming.Kind.REGULAR),  # below the buyers' mean
    ({"orders": 4.0, "monetary_fen": 80000, "last_order_days": 45.0}, naming.Kind.REGULAR),  # not recent enough
])
def test_the_naming_rules(fields, kind):
    assert naming.kind_of(profile(**fields), REFERENCE) == kind


def test_names_are_unique_within_a_run():
    profiles = [profile(orders=1.0, monetary_fen=9000), profile(buyers_share=0.0, views=40.0),
                profile(orders=1.2, monetary_fen=15000), profile(buyers_share=0.0, views=90.0),
                profile(orders=1.0, monetary_fen=12000)]
    names = [name for _kind, _variant, name in naming.name_all(profiles, REFERENCE)]
    assert names == ["普通客户（消费较低）", "只逛不买（浏览较少）", "普通客户（消费较高）", "只逛不买（浏览较多）",
                     "普通客户（消费居中）"]
    four = naming.name_all([profile(monetary_fen=m) for m in (1, 4, 2, 3)], {**REFERENCE, "buyer_mean_monetary_fen": 9})
    assert [n for _k, _v, n in four] == ["普通客户（4）", "普通客户（1）", "普通客户（3）", "普通客户（2）"]


def test_the_profile_line(app):
    with app.test_request_context():
        line = naming.profile_line({**profile(orders=3.2, aov_fen=12800, last_order_days=12.4),
                                    "categories": [{"id": 5, "name": "数码家电", "share": 0.6},
                                                   {"id": 0, "name": "其他", "share": 0.2}]})
        browsing = naming.profile_line({**profile(buyers_share=0.0, views=24.0, cart_adds=1.5), "dwell_s": 390.0,
                                        "categories": []})
    assert line == "平均 3.2 单，客单价 ¥128.00，最近一次 12 天前，偏好数码家电"
    assert browsing == "平均浏览 24.0 次，停留 6.5 分钟，加购 1.5 次，多数未下单"


def test_a_new_run_replaces_the_scopes_old_one_whole(planted):
    shop = planted["shop"].id
    with at(NOW):
        with transaction():
            first = runs.recompute(shop)
            platform = runs.recompute(None)
        first_id, first_segments = first.id, [s.id for s in first.segments]
        with transaction():
            second = runs.recompute(shop)
    assert second.id != first_id and db.session.get(SegmentRun, first_id) is None
    left = db.session.scalar(sa.select(sa.func.count()).select_from(SegmentMember)
                             .where(SegmentMember.segment_id.in_(first_segments)))
    assert left == 0 and db.session.scalar(sa.select(sa.func.count()).select_from(Segment)
                                           .where(Segment.id.in_(first_segments))) == 0
    assert runs.current(shop).id == second.id and runs.current(None).id == platform.id  # scopes apart
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SegmentMember)) == 24 * 2


def test_the_nightly_refresh_covers_the_platform_and_active_shops(make_user, make_merchant, make_product):
    busy, idle = make_merchant(), make_merchant()
    product = make_product(merchant=busy)
    make_product(merchant=idle)
    for i in range(12):
        look(make_user(password=None).id, product, NOW - timedelta(days=1 + i), views=1 + i * 4, dwell_s=5 + i * 20,
             carts=i % 3)
    db.session.add(Event(type="page_view", user_id=None, anon_id="a" * 32, merchant_id=idle.id, product_id=1,
                         created_at=NOW - timedelta(days=1)))  # an anonymous visit makes no customer
    db.session.commit()
    with at(NOW):
        assert runs.refresh_all() == 2
    scopes = sorted(db.session.scalars(sa.select(SegmentRun.scope_id)).all())
    assert scopes == [0, busy.id]
    assert runs.current(busy.id).state == RunState.CLUSTERED


def test_an_on_demand_recompute_runs_once_in_the_worker(make_user, make_product, run_jobs):
    admin = make_user(admin_role="operator")
    product = make_product()
    for i in range(12):
        look(make_user(password=None).id, product, NOW - timedelta(days=1), views=1 + i * 5, dwell_s=10 + i * 30)
    db.session.commit()
    with transaction():
        job, started = runs.request_recompute(admin.id, None)
    with transaction():
        again, started_again = runs.request_recompute(admin.id, None)
    assert started and not started_again and again.id == job.id  # a second click finds the first
    with at(NOW):
        run_jobs()
    db.session.expire_all()
    run = runs.current(None)
    assert run is not None and run.customers == 12
    assert db.session.get(type(job), job.id).result == {"run_id": run.id, "state": run.state, "k": run.k,
                                                       "customers": 12}
    with transaction():
        _later, started_later = runs.request_recompute(admin.id, None)
    assert started_later  # the first one finished: a new computation may start
