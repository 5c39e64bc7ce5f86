"""Commission, team and order lists: one's own rows only, the right page for
someone who is not a distributor, and a fixed number of queries."""
from __future__ import annotations

import pytest

from app.core.db import transaction
from app.distribution import queries, referrals
from app.distribution.models import Distributor
from app.extensions import db


def login_as(login, distributor):
    return login(db.session.get(Distributor, distributor.id).user)


def test_commissions_show_only_mine_with_order_item_level_and_status(client, login, set_rules, make_distributor,
                                                                     bring_order):
    set_rules()
    top = make_distributor()
    mine = make_distributor(parent=top)
    other = make_distributor()
    my_order = bring_order(mine, price_fen=10000, title="我的推广商品")
    their_order = bring_order(other, price_fen=20000, title="别人的推广商品")
    login_as(login, mine)
    html = client.get("/distributor/commissions").get_data(as_text=True)
    assert my_order.order_no in html and "我的推广商品" in html and "一级" in html and "待结算" in html
    assert "基数 ¥100.00 × 10%" in html and 'price-yuan">10<' in html
    assert their_order.order_no not in html and "别人的推广商品" not in html
    # The upline sees the same order at level 2 with its own amount.
    login_as(login, top)
    html = client.get("/distributor/commissions").get_data(as_text=True)
    assert my_order.order_no in html and "二级" in html and "基数 ¥100.00 × 5%" in html
    assert their_order.order_no not in html
    # Filters by status.
    assert my_order.order_no not in client.get("/distributor/commissions?status=settled").get_data(as_text=True)
    assert "还没有佣金" in client.get("/distributor/commissions?status=void").get_data(as_text=True)


def test_team_lists_levels_and_customers_of_mine_only(client, login, set_rules, make_distributor, make_user):
    set_rules()
    me = make_distributor()
    child = make_distributor(parent=me, nickname="一级小张")
    make_distributor(parent=child, nickname="二级小李")
    stranger = make_distributor(nickname="陌生人")
    make_distributor(parent=stranger, nickname="别人的下级")
    customer = make_user(nickname="我的顾客")
    with transaction():
        referrals.bind(customer, me.code, "qr", is_new_user=True)
        referrals.bind(make_user(nickname="别人的顾客"), stranger.code, "link", is_new_user=True)
    login_as(login, me)
    l1 = client.get("/distributor/team").get_data(as_text=True)
    assert "一级小张" in l1 and "二级小李" not in l1 and "陌生人" not in l1 and "别人的下级" not in l1
    l2 = client.get("/distributor/team?tab=l2").get_data(as_text=True)
    assert "二级小李" in l2 and "一级小张" not in l2 and "别人的下级" not in l2
    customers = client.get("/distributor/team?tab=customers").get_data(as_text=True)
    # Team members bound under me are customers too (they were bound by link when they joined).
    assert "我的顾客" in customers and "二维码" in customers and "别人的顾客" not in customers
    assert "一级小张" in customers
    assert "二级小李" not in customers


def test_orders_brought_in_are_mine_only(client, login, set_rules, make_distributor, bring_order):
    set_rules()
    mine, other = make_distributor(), make_distributor()
    my_order = bring_order(mine, price_fen=8800)
    their_order = bring_order(other)
    login_as(login, mine)
    html = client.get("/distributor/orders").get_data(as_text=True)
    assert my_order.order_no in html and "订单金额 ¥88.00" in html and 'price-yuan">8<' in html and "已付款" in html
    assert their_order.order_no not in html


@pytest.mark.parametrize("path", ["/distributor/commissions", "/distributor/team", "/distributor/orders",
                                  "/distributor/share", "/distributor/withdrawals", "/distributor/share/qr.png"])
@pytest.mark.parametrize("mode", ["application", "off"])
def test_a_non_distributor_is_sent_to_the_centre(client, login, make_user, set_rules, path, mode):
    set_rules(**({"enabled": False} if mode == "off" else {"qualification": "application"}))
    login(make_user())
    resp = client.get(path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/distributor/"
    page = client.get("/distributor/").get_data(as_text=True)
    assert ("提交申请" if mode == "application" else "分销功能暂未开放") in page


def test_a_pending_applicant_is_sent_to_the_centre(client, login, make_user, set_rules):
    set_rules(qualification="application")
    login(make_user())
    client.post("/distributor/apply", data={"real_name": "王小明", "phone": "13900001111"})
    assert client.get("/distributor/commissions").headers["Location"] == "/distributor/"
    assert "审核中" in client.get("/distributor/").get_data(as_text=True)


def test_commission_list_query_count_is_constant(client, login, set_rules, make_distributor, bring_order,
                                                count_queries):
    set_rules()
    mine = make_distributor()
    bring_order(mine)
    login_as(login, mine)
    with count_queries() as one:
        assert client.get("/distributor/commissions").status_code == 200
    for _ in range(4):
        bring_order(mine)
    with count_queries() as five:
        html = client.get("/distributor/commissions").get_data(as_text=True)
    assert html.count("订单号") == 5
    assert len(five) == len(one)


@pytest.mark.parametrize("tab", ["l1", "l2", "customers"])
def test_team_page_query_count_is_constant(client, login, set_rules, make_distributor, count_queries, tab):
    set_rules()
    me = make_distributor()
    child = make_distributor(parent=me)
    make_distributor(parent=child if tab == "l2" else me)
    login_as(login, me)
    with count_queries() as few:
        assert client.get(f"/distributor/team?tab={tab}").status_code == 200
    for _ in range(4):
        make_distributor(parent=child if tab == "l2" else me)
    with count_queries() as more:
        assert client.get(f"/distributor/team?tab={tab}").status_code == 200
    assert len(more) == len(few)


def test_orders_page_query_count_is_constant(client, login, set_rules, make_distributor, bring_order, count_queries):
    set_rules()
    mine = make_distributor()
    bring_order(mine)
    login_as(login, mine)
    with count_queries() as one:
        client.get("/distributor/orders")
    for _ in range(3):
        bring_order(mine)
    with count_queries() as four:
        client.get("/distributor/orders")
    assert len(four) == len(one)


def test_a_customer_whose_binding_expired_leaves_the_team_everywhere(client, login, set_rules, make_distributor,
                                                                     make_user, api_token):
    """Days mode: once a binding has expired the buyer is no longer my customer, in the
    centre's count, its customer list and the API alike (one rule: ReferralBinding.in_force)."""
    from datetime import timedelta

    from app.core.clock import travel

    set_rules(binding_mode="days", binding_days="10")
    me = make_distributor()
    with transaction():
        referrals.bind(make_user(nickname="过期的客户"), me.code, "link", is_new_user=True)
    login(me.user)
    headers = api_token(me.user)
    assert "过期的客户" in client.get("/distributor/team?tab=customers").get_data(as_text=True)
    first = client.get("/api/v1/distributor/team", headers=headers).get_json()
    assert first["counts"]["customers"] == 1, first
    with travel(timedelta(days=11)):  # past the binding, well inside the API token's life
        assert "过期的客户" not in client.get("/distributor/team?tab=customers").get_data(as_text=True)
        assert client.get("/api/v1/distributor/team", headers=headers).get_json()["counts"]["customers"] == 0
        assert queries.team_count(me.id).customers == 0
