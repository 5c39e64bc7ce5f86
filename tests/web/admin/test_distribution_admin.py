"""Admin 分销管理: the rules form (each refusal names its field and saves no
version; the history shows what changed), distributors (list with team sizes
and earnings, search and filter, detail, grant / freeze / unfreeze, audited),
the application queue (approve, reject with a reason), commissions (filters and
CSV export), permissions, and fixed query counts on the lists."""
# ruff: noqa: F811  (the distribution fixtures are imported, then requested by name)
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.models import AuditLog
from app.distribution import distributors, referrals
from app.distribution import queries as distribution_queries
from app.distribution import rules as rules_service
from app.distribution.models import Commission, DistributionRules, Distributor
from app.extensions import db
from app.orders.models import Order
from tests.distribution.conftest import RULES, set_rules  # noqa: F401
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}
RULES_URL = "/admin/distribution/rules"


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role, nickname=f"{role}管理员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def versions() -> int:
    return db.session.scalar(sa.select(sa.func.count(DistributionRules.id)))


def form(**changes) -> dict:
    data = {k: v for k, v in RULES.items() if not isinstance(v, bool)}
    data.update({"enabled": "on"})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def fresh(distributor_id) -> Distributor:
    db.session.expire_all()
    return db.session.get(Distributor, distributor_id)


def audited(action: str, target_id) -> bool:
    return db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.action == action, AuditLog.target_id == str(target_id))) == 1


@pytest.fixture
def paid_commission(make_user, make_product, place_order, pay_sandbox):
    """`paid_commission(distributor, price_fen)` -> an order a bound buyer paid, with its commissions."""
    def make(distributor, price_fen=10000, title="分销测试商品"):
        buyer = make_user()
        with transaction():
            referrals.bind(buyer, distributor.code, "link", is_new_user=True)
        product = make_product(price_fen=price_fen, title=title)
        payment = place_order(buyer, [(product.skus[0].id, 1)])
        payment_id = payment.id
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        return db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))

    return make


# --- rules ------------------------------------------------------------------------------------

def test_rules_save_adds_a_version_and_the_history_shows_the_diff(app, make_user, login):
    c, admin = admin_client(app, make_user, login)
    page = text(c.get(RULES_URL))
    assert "30%" in page  # the platform cap is shown
    assert "还没有保存过规则" in page
    resp = c.post(RULES_URL, data=form(level1_percent="12.5", note="提高一级佣金"))
    assert resp.status_code == 302
    first = rules_service.current()
    assert (first.enabled, first.level1_bp, first.level2_bp, first.level3_bp) == (True, 1250, 500, 200)
    assert first.changed_by_id == admin.id and first.withdrawal_methods == ["wechat", "alipay", "bank"]
    assert c.post(RULES_URL, data=form(level1_percent="12.5", level2_percent="6", qualification="application",
                                       withdrawal_methods=["alipay"])).status_code == 302
    assert versions() == 2
    v1, v2 = first.id, rules_service.current().id  # ids, so numbering depends on no earlier test
    page = text(c.get(RULES_URL))
    assert f"第 {v2} 版" in page and f"第 {v1} 版" in page and "提高一级佣金" in page and "operator管理员" in page
    # the newer version against the one before: only what changed, with before and after
    second = page.index(f"第 {v2} 版", page.index("修改记录"))
    diff = page[second:page.index(f"第 {v1} 版", second)]
    assert "二级佣金比例" in diff and "<del>5%</del>" in diff and "6%" in diff
    assert "申请审核" in diff and "所有用户" in diff and "支付宝" in diff
    assert "一级佣金比例" not in diff
    assert "只对保存之后支付的新订单生效" in page
    assert audited("distribution.rules", rules_service.current().id)


def test_rules_saving_the_same_values_adds_no_version(app, make_user, login):
    c, _admin = admin_client(app, make_user, login)
    c.post(RULES_URL, data=form())
    resp = c.post(RULES_URL, data=form(), follow_redirects=True)
    assert "规则没有变化" in text(resp) and versions() == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"level1_percent": "100.5"}, "level1_percent", "0 到 100 之间"),
    ({"level2_percent": "-5"}, "level2_percent", "0 到 100 之间"),
    ({"level1_percent": "20", "level2_percent": "10", "level3_percent": "5"}, "level1_percent", "不能超过 30%"),
    ({"settlement_delay_days": "3"}, "settlement_delay_days", "不能短于售后期（7 天）"),
    ({"withdrawal_methods": None}, "withdrawal_methods", "至少选择一种提现方式"),
    ({"withdrawal_min": "100", "withdrawal_max": "50"}, "withdrawal_max", "不能低于最低提现金额"),
    ({"qualification": "spend_threshold", "spend_threshold": "0"}, "spend_threshold", "请填写消费门槛金额"),
    ({"levels": "9"}, "levels", "1 到 3 之间"),
])
def test_rules_refusals_name_the_field_and_save_nothing(app, make_user, login, set_rules, changes, field, message):
    set_rules()
    before = versions()
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(RULES_URL, data=form(**changes, note="不该保存"))
    assert resp.status_code == 422
    page = text(resp)
    assert message in page
    # the message sits under its own field, and the field is marked invalid
    field_at = page.index(f'name="{field}"')
    assert page.index(message, field_at) - field_at < 1200
    assert "is-invalid" in page[page.rfind("<", 0, field_at) - 300:field_at + 200] or field == "withdrawal_methods"
    assert "不该保存" in page  # the form keeps what was typed
    assert versions() == before


def test_rules_delay_follows_the_return_window_setting(app, make_user, login):
    from app.core import settings as platform_settings

    super_admin = make_user(admin_role="super")
    with transaction():
        platform_settings.put("aftersale_window_days", "15", super_admin)
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(RULES_URL, data=form(settlement_delay_days="10"))
    assert resp.status_code == 422 and "不能短于售后期（15 天）" in text(resp) and versions() == 0
    assert c.post(RULES_URL, data=form(settlement_delay_days="15")).status_code == 302


def test_rules_are_read_only_for_finance_and_refused_to_shoppers(app, client, make_user, login):
    finance, _admin = admin_client(app, make_user, login, role="finance")
    page = text(finance.get(RULES_URL))
    assert "<fieldset disabled" in page and "保存规则" not in page
    assert finance.post(RULES_URL, data=form()).status_code == 403
    login(make_user())
    assert client.get(RULES_URL).status_code == 403
    assert client.post(RULES_URL, data=form()).status_code == 403
    assert versions() == 0


# --- distributors -----------------------------------------------------------------------------

def test_distributor_list_shows_team_sizes_and_earnings(app, make_user, login, set_rules, make_distributor,
                                                       paid_commission):
    set_rules()
    top = make_distributor(nickname="顶级分销")
    middle = make_distributor(parent=top, nickname="中间分销")
    make_distributor(parent=middle, nickname="底层分销甲")
    make_distributor(parent=middle, nickname="底层分销乙")
    paid_commission(middle, price_fen=20000)  # middle 10% = 20.00, top 5% = 10.00
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get("/admin/distribution/distributors"))
    for name in ("顶级分销", "中间分销", "底层分销甲"):
        assert name in page
    top_row = page[page.index("顶级分销"):]
    top_row = top_row[:top_row.index("</tr>")]
    assert "1 / 2" in top_row and "¥10.00" in top_row  # one direct member, two below it; pending 10.00
    middle_row = page[page.index("中间分销"):]
    middle_row = middle_row[:middle_row.index("</tr>")]
    assert "2 / 0" in middle_row and "¥20.00" in middle_row and top.code in middle_row


def test_page_earnings_match_the_service(set_rules, make_distributor, paid_commission):
    from app.distribution.queries import earnings_of as grouped

    set_rules()
    top = make_distributor()
    near = make_distributor(parent=top)
    idle = make_distributor()
    paid_commission(near, price_fen=12345)
    paid_commission(near, price_fen=999)
    for d in (top, near, idle):
        assert grouped([top.id, near.id, idle.id])[d.id] == distribution_queries.earnings(d.id)


def test_distributor_search_and_status_filter(app, make_user, login, set_rules, make_distributor):
    set_rules()
    alice = make_distributor(nickname="爱丽丝", phone="13911112222")
    bob = make_distributor(nickname="鲍勃")
    with transaction():
        distributors.freeze(make_user(admin_role="super"), bob.id, "测试冻结")
    c, _admin = admin_client(app, make_user, login)
    for q in ("爱丽", "1391111", alice.code.lower()):
        page = text(c.get("/admin/distribution/distributors", query_string={"q": q}))
        assert "爱丽丝" in page and "鲍勃" not in page, q
    page = text(c.get("/admin/distribution/distributors", query_string={"status": "frozen"}, headers={
        **HX, "HX-Target": "distributors-table"}))
    assert "鲍勃" in page and "爱丽丝" not in page and "<html" not in page
    page = text(c.get("/admin/distribution/distributors", query_string={"q": "没有这个人"}))
    assert "没有符合条件的分销商" in page


def test_distributor_detail_shows_facts_parent_team_timeline_and_commissions(
        app, make_user, login, set_rules, make_distributor, paid_commission):
    set_rules()
    top = make_distributor(nickname="上级小王")
    near = make_distributor(parent=top, nickname="本人小李")
    make_distributor(parent=near, nickname="下级小赵")
    order = paid_commission(near)
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get(f"/admin/distribution/distributors/{near.id}"))
    assert "本人小李" in page and near.code in page and "上级小王" in page and "下级小赵" in page
    assert order.order_no in page and "¥10.00" in page and "待结算" in page
    assert "开通分销" in page  # the timeline
    assert c.get("/admin/distribution/distributors/999999").status_code == 404


def test_freeze_needs_a_reason_then_freezes_audited_and_unfreezes(app, make_user, login, set_rules,
                                                                 make_distributor):
    set_rules()
    d = make_distributor()
    c, admin = admin_client(app, make_user, login)
    url = f"/admin/distribution/distributors/{d.id}"
    resp = c.post(f"{url}/freeze", data={"reason": "  "})
    assert resp.status_code == 422 and "请填写冻结原因" in text(resp)
    assert fresh(d.id).status == "active"
    resp = c.post(f"{url}/freeze", data={"reason": "刷单"}, headers=HX)
    assert resp.status_code == 200 and toast(resp)["level"] == "success"
    assert 'id="distributor-status" class="align-middle" hx-swap-oob="true"' in text(resp)
    assert "解除冻结" in text(resp)
    assert (fresh(d.id).status, fresh(d.id).status_reason) == ("frozen", "刷单")
    assert audited("distributor.freeze", d.id)
    resp = c.post(f"{url}/freeze", data={"reason": "再冻一次"}, headers=HX)
    assert toast(resp)["level"] == "danger" and fresh(d.id).status == "frozen"
    resp = c.post(f"{url}/unfreeze")
    assert resp.status_code == 302 and fresh(d.id).status == "active"
    assert audited("distributor.unfreeze", d.id)


def test_grant_by_phone(app, make_user, login, set_rules, make_distributor):
    set_rules(qualification="application")
    user = make_user(phone="13866667777", nickname="被授予者")
    c, _admin = admin_client(app, make_user, login)
    resp = c.post("/admin/distribution/distributors/grant", data={"phone": "138 6666 7777"})
    assert resp.status_code == 302
    granted = distributors.for_user(user.id)
    assert granted.status == "active" and audited("distributor.grant", granted.id)
    resp = c.post("/admin/distribution/distributors/grant", data={"phone": "13866667777"})
    assert resp.status_code == 422 and "该用户已是分销商" in text(resp)
    resp = c.post("/admin/distribution/distributors/grant", data={"phone": "13800000000"})
    assert resp.status_code == 422 and "没有找到手机号为 13800000000 的用户" in text(resp)
    resp = c.post("/admin/distribution/distributors/grant", data={"phone": ""})
    assert resp.status_code == 422 and "请填写用户手机号" in text(resp)
    assert db.session.scalar(sa.select(sa.func.count(Distributor.id))) == 1


def test_distributor_writes_refused_to_finance_and_shoppers(app, client, make_user, login, set_rules,
                                                            make_distributor):
    set_rules()
    d = make_distributor()
    target = make_user(phone="13855554444")
    finance, _admin = admin_client(app, make_user, login, role="finance")
    login(make_user())
    assert finance.get("/admin/distribution/distributors").status_code == 200  # finance may look
    for c in (finance, client):
        assert c.post(f"/admin/distribution/distributors/{d.id}/freeze", data={"reason": "越权"}).status_code == 403
        assert c.post("/admin/distribution/distributors/grant", data={"phone": "13855554444"}).status_code == 403
    assert client.get("/admin/distribution/distributors").status_code == 403
    assert fresh(d.id).status == "active" and distributors.for_user(target.id) is None


def test_distributor_list_runs_a_fixed_number_of_queries(app, make_user, login, set_rules, make_distributor,
                                                        paid_commission, count_queries):
    set_rules()
    first = make_distributor()
    paid_commission(first)
    c, _admin = admin_client(app, make_user, login)
    c.get("/admin/distribution/distributors")  # warm up
    with count_queries() as one:
        assert c.get("/admin/distribution/distributors").status_code == 200
    for _ in range(4):
        d = make_distributor(parent=first)
        paid_commission(d)
    with count_queries() as five:
        page = text(c.get("/admin/distribution/distributors"))
    assert page.count('href="/admin/distribution/distributors/') >= 10
    assert len(five) == len(one)


# --- applications -----------------------------------------------------------------------------

def applicant(make_user, name="申请人张三"):
    user = make_user()
    with transaction():
        return distributors.apply(user, {"real_name": name, "phone": "13912345678", "reason": "朋友多"})


def test_application_queue_shows_facts_and_formula(app, make_user, login, set_rules):
    c, _admin = admin_client(app, make_user, login)
    assert "没有待审核的分销商申请" in text(c.get("/admin/distribution/applications"))
    set_rules(qualification="application")
    applicant(make_user)
    page = text(c.get("/admin/distribution/applications"))
    assert "申请人张三" in page and "朋友多" in page and "信用分" in page and "账龄" in page
    assert distributors.CREDIT_FORMULA in page
    assert "退款率" in page and "累计消费" in page


def test_approve_and_reject_applications(app, make_user, login, set_rules):
    set_rules(qualification="application")
    one = applicant(make_user, "申请人甲")
    two = applicant(make_user, "申请人乙")
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(f"/admin/distribution/applications/{one.id}/approve", headers=HX)
    assert resp.status_code == 200 and "已通过" in text(resp) and toast(resp)["level"] == "success"
    assert fresh(one.id).status == "active" and audited("distributor.approve", one.id)
    resp = c.post(f"/admin/distribution/applications/{two.id}/reject", data={"reason": ""}, headers=HX)
    assert "请填写驳回原因" in text(resp) and toast(resp)["level"] == "danger"
    resp = c.post(f"/admin/distribution/applications/{two.id}/reject", data={"reason": ""})
    assert resp.status_code == 422 and "请填写驳回原因" in text(resp)
    assert fresh(two.id).status == "pending"
    resp = c.post(f"/admin/distribution/applications/{two.id}/reject", data={"reason": "资料不全"})
    assert resp.status_code == 302
    assert (fresh(two.id).status, fresh(two.id).status_reason) == ("rejected", "资料不全")
    assert audited("distributor.reject", two.id)
    resp = c.post(f"/admin/distribution/applications/{one.id}/approve", follow_redirects=True)
    assert "该申请已处理" in text(resp)


def test_application_decisions_refused_to_finance_and_shoppers(app, client, make_user, login, set_rules):
    set_rules(qualification="application")
    d = applicant(make_user)
    finance, _admin = admin_client(app, make_user, login, role="finance")
    login(make_user())
    for c in (finance, client):
        assert c.post(f"/admin/distribution/applications/{d.id}/approve").status_code == 403
        assert c.post(f"/admin/distribution/applications/{d.id}/reject", data={"reason": "越权"}).status_code == 403
    assert fresh(d.id).status == "pending"


# --- commissions ------------------------------------------------------------------------------

def test_commission_filters(app, make_user, login, set_rules, make_distributor, paid_commission):
    set_rules()
    top = make_distributor()
    near = make_distributor(parent=top, nickname="李近")
    first = paid_commission(near, title="第一件商品")
    second = paid_commission(top, title="第二件商品")
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get("/admin/distribution/commissions"))
    assert first.order_no in page and second.order_no in page
    page = text(c.get("/admin/distribution/commissions", query_string={"level": "2"}))
    assert first.order_no in page and second.order_no not in page
    page = text(c.get("/admin/distribution/commissions", query_string={"code": near.code.lower()}))
    assert first.order_no in page and second.order_no not in page
    page = text(c.get("/admin/distribution/commissions", query_string={"order_no": second.order_no},
                      headers={**HX, "HX-Target": "commissions-table"}))
    assert second.order_no in page and first.order_no not in page and "<html" not in page
    page = text(c.get("/admin/distribution/commissions", query_string={"status": "settled"}))
    assert "没有符合条件的佣金" in page
    page = text(c.get("/admin/distribution/commissions", query_string={"date_from": "2000-01-01",
                                                                       "date_to": "2000-01-02"}))
    assert "没有符合条件的佣金" in page
    resp = c.get("/admin/distribution/commissions", query_string={"date_from": "昨天"})
    assert resp.status_code == 200 and "日期格式应为" in text(resp) and first.order_no in text(resp)


def test_commission_csv(app, make_user, login, set_rules, make_distributor, paid_commission):
    set_rules()
    top = make_distributor(nickname="王上级")
    near = make_distributor(parent=top, nickname="李近")
    order = paid_commission(near, price_fen=3333, title="逗号,商品")
    other = paid_commission(top, title="不该导出")
    c, _admin = admin_client(app, make_user, login)
    resp = c.get("/admin/distribution/commissions.csv", query_string={"order_no": order.order_no})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["订单号", "商品", "层级"]
    data = sorted(rows[1:], key=lambda r: r[2])
    assert [r[:10] for r in data] == [
        [order.order_no, "逗号,商品", "1", near.code, "李近", "33.33", "10", "3.33", "0.00", "待结算"],
        [order.order_no, "逗号,商品", "2", top.code, "王上级", "33.33", "5", "1.67", "0.00", "待结算"],
    ]
    assert all(r[10] and not r[12] for r in data)  # created, not settled
    assert other.order_no not in body.decode("utf-8-sig")


def test_commission_csv_never_carries_a_formula(app, make_user, login, set_rules, make_distributor, paid_commission):
    set_rules()
    sharer = make_distributor(nickname="@SUM(1+1)")
    order = paid_commission(sharer, title='=HYPERLINK("http://evil.example","点我")')
    c, _admin = admin_client(app, make_user, login)
    body = c.get("/admin/distribution/commissions.csv", query_string={"order_no": order.order_no}).get_data()
    [row] = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]
    assert row[1] == '\'=HYPERLINK("http://evil.example","点我")' and row[4] == "'@SUM(1+1)"


def test_commission_list_runs_a_fixed_number_of_queries(app, make_user, login, set_rules, make_distributor,
                                                       paid_commission, count_queries):
    set_rules(levels=1)
    d = make_distributor()
    paid_commission(d)
    c, _admin = admin_client(app, make_user, login, role="finance")
    c.get("/admin/distribution/commissions")
    with count_queries() as one:
        c.get("/admin/distribution/commissions")
    for _ in range(4):
        paid_commission(d)
    assert db.session.scalar(sa.select(sa.func.count(Commission.id))) == 5
    with count_queries() as five:
        page = text(c.get("/admin/distribution/commissions"))
    assert page.count("待结算</span>") == 5
    assert len(five) == len(one)


def test_commissions_refused_to_shoppers(client, make_user, login):
    login(make_user())
    assert client.get("/admin/distribution/commissions").status_code == 403
    assert client.get("/admin/distribution/commissions.csv").status_code == 403
