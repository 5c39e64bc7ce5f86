"""The platform's fee rates in the admin console: a category's 服务费 inline in the category
tree beside its 售后期 (finance edits it, operators see it), and a shop's own rate on the
shop's page; plain posts and HTMX, bad input kept and refused, who may not."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import Category
from app.core.models import AuditLog
from app.extensions import db
from app.merchants.models import Merchant
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def refused_htmx(resp) -> bool:
    """An HTMX refusal keeps the page: a danger toast, nothing swapped (app/web/errors.py)."""
    return resp.headers.get("HX-Reswap") == "none" and toast(resp) == {
        "message": "你没有权限访问这个页面", "level": "danger"}
BAD = ("abc", "-1", "31", "30.01", "1.234", "99999999999999999999", "٥", "５", "5元")


def admin_client(app, make_user, login, role):
    admin = make_user(admin_role=role)
    return login(admin, on=app.test_client()), admin


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def audit_count(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == action))


def set_fee(c, category, raw, headers=None):
    return c.post(f"/admin/categories/{category.id}/fee", data={"platform_fee": raw}, headers=headers or {})


# --- categories ---------------------------------------------------------------------------

def test_finance_sees_the_tree_read_only_and_sets_fees_inline(app, make_user, login, make_category):
    leaf = make_category(name="茶叶")
    c, finance = admin_client(app, make_user, login, "finance")
    html = text(c.get("/admin/categories"))
    assert html.count('name="platform_fee"') == 3 and html.count("沿用 5%") == 3  # the platform's 500 bp
    assert "类目管理" in html  # in finance's sidebar now
    assert html.count("<fieldset class=\"category-edit-fields\" disabled") == 3  # names, icons, windows read-only
    assert "添加一级类目" not in html and "/move" not in html and "/active" not in html
    resp = set_fee(c, leaf.parent, "2.5", headers=HX)
    assert toast(resp) == {"message": f"已保存「{leaf.parent.name}」的服务费率", "level": "success"}
    html = text(resp)
    assert "<html" not in html and 'value="2.5"' in html and 'placeholder="2.5"' in html  # the leaf inherits it
    assert "沿用 2.5%" in html and "本类目设置" in html
    assert fresh(Category, leaf.parent_id).platform_fee_bp == 250
    assert set_fee(c, leaf, "0").status_code == 302 and fresh(Category, leaf.id).platform_fee_bp == 0
    assert "已保存「茶叶」的服务费率" in text(c.get("/admin/categories"))
    assert set_fee(c, leaf, "").status_code == 302 and fresh(Category, leaf.id).platform_fee_bp is None
    assert [r.changes for r in db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "category.platform_fee", AuditLog.actor_id == finance.id).order_by(AuditLog.id))] == [
        {"platform_fee_bp": [None, 250]}, {"platform_fee_bp": [None, 0]}, {"platform_fee_bp": [0, None]}]


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_category_fee_is_kept_and_refused(app, make_user, login, make_category, bad):
    leaf = make_category()
    c, _ = admin_client(app, make_user, login, "finance")
    set_fee(c, leaf, "4")
    resp = set_fee(c, leaf, bad)
    html = text(resp)
    assert resp.status_code == 422 and "服务费率请填 0 到 30 之间的百分比" in html
    assert f'value="{bad[:12]}"' in html and "is-invalid" in html  # what was typed, under its field
    resp = set_fee(c, leaf, bad, headers=HX)
    assert toast(resp)["level"] == "danger" and "<html" not in text(resp)
    assert fresh(Category, leaf.id).platform_fee_bp == 400 and audit_count("category.platform_fee") == 1


def test_an_operator_edits_the_tree_but_not_the_fee(app, make_user, login, make_category):
    leaf = make_category(name="文具")
    leaf.platform_fee_bp = 300
    db.session.commit()
    c, _ = admin_client(app, make_user, login, "operator")
    html = text(c.get("/admin/categories"))
    assert 'name="platform_fee"' not in html and 'value="3" placeholder="5"' in html  # shown, disabled
    assert "服务费率由财务管理员设置" in html and "disabled" in html
    assert set_fee(c, leaf, "9").status_code == 403
    assert refused_htmx(set_fee(c, leaf, "", headers=HX))
    # the category form still renames and sets the window; a fee sent along is not read
    resp = c.post(f"/admin/categories/{leaf.id}/update", headers=HX,
                  data={"name": "办公文具", "icon": "grid", "aftersale_window_days": "10", "platform_fee": "9"})
    assert toast(resp)["level"] == "success"
    leaf = fresh(Category, leaf.id)
    assert (leaf.name, leaf.aftersale_window_days, leaf.platform_fee_bp) == ("办公文具", 10, 300)
    assert audit_count("category.platform_fee") == 0


def test_a_super_admin_edits_both(app, make_user, login, make_category):
    leaf = make_category()
    c, _ = admin_client(app, make_user, login, "super")
    html = text(c.get("/admin/categories"))
    assert html.count('name="platform_fee"') == 3 and html.count('name="aftersale_window_days"') == 3
    assert "disabled" not in html.split('id="category-tree"')[1].split("category-actions")[0]
    assert set_fee(c, leaf, "12.5").status_code == 302 and fresh(Category, leaf.id).platform_fee_bp == 1250


def test_shoppers_and_shop_owners_cannot_reach_fees(app, client, make_user, login, make_category, make_merchant):
    leaf = make_category()
    assert set_fee(client, leaf, "1").status_code == 302  # to the sign-in
    owner = make_user()
    make_merchant(owner=owner)
    login(owner)
    assert set_fee(client, leaf, "1").status_code == 403
    assert client.get("/admin/categories").status_code == 403
    c, _ = admin_client(app, make_user, login, "finance")
    assert set_fee(c, type("Missing", (), {"id": 999999})(), "1").status_code == 404
    assert fresh(Category, leaf.id).platform_fee_bp is None


def test_the_tree_page_runs_a_fixed_number_of_queries(app, make_user, login, make_category, count_queries):
    c, _ = admin_client(app, make_user, login, "finance")
    make_category()
    c.get("/admin/categories")
    with count_queries() as few:
        c.get("/admin/categories")
    for _ in range(4):
        make_category()
    with count_queries() as many:
        assert c.get("/admin/categories").status_code == 200
    assert len(many) == len(few)


# --- a shop's own rate --------------------------------------------------------------------

def set_shop_fee(c, merchant_id, raw, headers=None):
    return c.post(f"/admin/merchants/{merchant_id}/fee", data={"platform_fee": raw}, headers=headers or {})


def test_finance_sets_and_clears_a_shops_rate(app, make_user, login, make_merchant):
    shop = make_merchant(name="老张茶庄")
    c, finance = admin_client(app, make_user, login, "finance")
    html = text(c.get(f"/admin/merchants/{shop.id}"))
    assert "按商品类目费率" in html and 'name="platform_fee"' in html and 'action="/admin/merchants/' in html
    resp = set_shop_fee(c, shop.id, "8", headers=HX)
    assert toast(resp) == {"message": "「老张茶庄」的平台服务费率已设为 8%", "level": "success"}
    html = text(resp)
    assert "<html" not in html and 'id="merchant-fee"' in html and "8%" in html and "本店单独设置" in html
    assert fresh(Merchant, shop.id).platform_fee_bp == 800
    resp = set_shop_fee(c, shop.id, "0.6")
    assert resp.status_code == 302 and fresh(Merchant, shop.id).platform_fee_bp == 60
    html = text(c.get(f"/admin/merchants/{shop.id}"))
    assert "0.6%" in html and 'value="0.6"' in html and "平台服务费率已设为 0.6%" in html
    resp = set_shop_fee(c, shop.id, " ", headers=HX)
    assert toast(resp)["message"] == "「老张茶庄」的平台服务费率改为按商品类目费率" and "按商品类目费率" in text(resp)
    assert fresh(Merchant, shop.id).platform_fee_bp is None
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "merchant.platform_fee")
                              .order_by(AuditLog.id)).all()
    assert [(r.actor_id, r.target_id, r.changes) for r in rows] == [
        (finance.id, str(shop.id), {"platform_fee_bp": [None, 800]}),
        (finance.id, str(shop.id), {"platform_fee_bp": [800, 60]}),
        (finance.id, str(shop.id), {"platform_fee_bp": [60, None]})]


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_shop_rate_is_kept_and_refused(app, make_user, login, make_merchant, bad):
    shop = make_merchant(platform_fee_bp=700)
    c, _ = admin_client(app, make_user, login, "super")
    resp = set_shop_fee(c, shop.id, bad)
    html = text(resp)
    assert resp.status_code == 422 and "服务费率请填 0 到 30 之间的百分比" in html and "店铺资料" in html
    assert f'value="{bad[:12]}"' in html and "is-invalid" in html and "7%" in html  # the rate in force still shown
    resp = set_shop_fee(c, shop.id, bad, headers=HX)
    assert toast(resp)["level"] == "danger" and "<html" not in text(resp) and "invalid-feedback" in text(resp)
    assert fresh(Merchant, shop.id).platform_fee_bp == 700 and audit_count("merchant.platform_fee") == 0


def test_operators_see_the_rate_but_may_not_set_it(app, make_user, login, make_merchant):
    shop = make_merchant(platform_fee_bp=1250)
    c, _ = admin_client(app, make_user, login, "operator")
    html = text(c.get(f"/admin/merchants/{shop.id}"))
    assert "12.5%" in html and 'name="platform_fee"' not in html
    assert set_shop_fee(c, shop.id, "1").status_code == 403
    assert refused_htmx(set_shop_fee(c, shop.id, "", headers=HX))
    assert fresh(Merchant, shop.id).platform_fee_bp == 1250 and audit_count("merchant.platform_fee") == 0


def test_a_shop_owner_cannot_reach_it(app, client, make_user, login, make_merchant):
    owner = make_user()
    shop = make_merchant(owner=owner)
    assert set_shop_fee(client, shop.id, "0").status_code == 302  # signed out: to the sign-in
    login(owner)
    assert set_shop_fee(client, shop.id, "0").status_code == 403
    assert client.get(f"/admin/merchants/{shop.id}").status_code == 403
    c, _ = admin_client(app, make_user, login, "finance")
    assert set_shop_fee(c, 999999, "1").status_code == 404
    assert fresh(Merchant, shop.id).platform_fee_bp is None
