"""After-sales settings in the admin console: the platform's two settings on the
settings page, and a category's own 售后期 (blank inherits; 0–60 days) in the category
tree, written by the catalog service with its validation and audit."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Category
from app.core import settings as platform_settings
from app.core.models import AuditLog
from app.extensions import db
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role)
    return login(admin, on=app.test_client()), admin


def fresh(category_id) -> Category:
    db.session.expire_all()
    return db.session.get(Category, category_id)


def save(c, leaf, window, name=None, headers=None):
    return c.post(f"/admin/categories/{leaf.id}/update", headers=headers or {},
                  data={"name": name or leaf.name, "icon": leaf.icon, "aftersale_window_days": window})


def test_the_settings_page_shows_and_saves_both_after_sales_settings(app, make_user, login):
    c, _ = admin_client(app, make_user, login, "super")
    html = text(c.get("/admin/settings"))
    assert "确认收货后可申请售后（天）" in html and 'name="aftersale_window_days"' in html
    assert "商家处理售后申请时限（天）" in html and 'name="merchant_reply_days"' in html
    assert "商家逾期未处理的售后申请自动同意" in html
    resp = c.post("/admin/settings", data={"aftersale_window_days": "10", "merchant_reply_days": "5"})
    assert resp.status_code == 302
    assert (platform_settings.get("aftersale_window_days"), platform_settings.get("merchant_reply_days")) == (10, 5)
    resp = c.post("/admin/settings", data={"aftersale_window_days": "61", "merchant_reply_days": "0"})
    assert resp.status_code == 422 and "请输入 0 到 60 之间的整数" in text(resp)
    db.session.expire_all()
    assert platform_settings.get("aftersale_window_days") == 10


def test_a_category_sets_inherits_and_shows_its_window(app, make_user, login, make_category):
    leaf = make_category(name="生鲜")
    c, admin = admin_client(app, make_user, login)
    html = text(c.get("/admin/categories"))
    assert html.count('name="aftersale_window_days"') == 3 and "沿用 7 天" in html
    resp = save(c, leaf.parent, "15", headers=HX)
    assert toast(resp)["level"] == "success" and fresh(leaf.parent_id).aftersale_window_days == 15
    html = text(resp)
    assert 'placeholder="15"' in html and "沿用 15 天" in html  # the leaf inherits its parent's
    assert save(c, leaf, "0").status_code == 302 and fresh(leaf.id).aftersale_window_days == 0
    assert save(c, leaf, " ").status_code == 302 and fresh(leaf.id).aftersale_window_days is None
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "category.aftersale_window")
                              .order_by(AuditLog.id)).all()
    assert [(r.actor_id, r.target_id, r.changes) for r in rows] == [
        (admin.id, str(leaf.parent_id), {"aftersale_window_days": [None, 15]}),
        (admin.id, str(leaf.id), {"aftersale_window_days": [None, 0]}),
        (admin.id, str(leaf.id), {"aftersale_window_days": [0, None]})]
    # saving the same window again writes no audit row; a form without the field keeps it
    save(c, leaf.parent, "15")
    c.post(f"/admin/categories/{leaf.parent_id}/update", data={"name": "改名", "icon": "grid"})
    assert fresh(leaf.parent_id).aftersale_window_days == 15 and fresh(leaf.parent_id).name == "改名"
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))
                             .where(AuditLog.action == "category.aftersale_window")) == 3


def test_a_bad_window_says_why_and_changes_nothing(app, make_user, login, make_category):
    leaf = make_category(name="家电")
    c, _ = admin_client(app, make_user, login)
    save(c, leaf, "30")
    # "0000000000007x": only its first 12 characters would have read as 0; "１０", "1_0": int() reads them
    for bad in ("61", "-1", "abc", "1.5", "99999999999999999999", "0000000000007x", "１０", "1_0"):
        resp = save(c, leaf, bad, name="新名字")
        html = text(resp)
        assert resp.status_code == 422 and "售后期请填 0 到 60 之间的整数天" in html, bad
        assert f'value="{bad[:12]}"' in html and "新名字" in html  # what was typed is kept
        assert (fresh(leaf.id).aftersale_window_days, fresh(leaf.id).name) == (30, "家电")  # the rename too
    resp = save(c, leaf, "61", headers=HX)
    assert toast(resp)["level"] == "danger" and "<html" not in text(resp)
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))
                             .where(AuditLog.action == "category.aftersale_window")) == 1


def test_finance_may_not_set_a_window(app, make_user, login, make_category):
    leaf = make_category()
    c, _ = admin_client(app, make_user, login, "finance")
    assert save(c, leaf, "20").status_code == 403
    assert fresh(leaf.id).aftersale_window_days is None
