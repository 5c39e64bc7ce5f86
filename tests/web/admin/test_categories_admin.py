"""Admin category tree: create, rename with icon, move, activate / deactivate, add
child, as plain posts and with HTMX; the refusals (empty or duplicate name, bad icon,
too deep, a category with products) change nothing; permissions."""

import sqlalchemy as sa

from app.catalog.models import Category
from app.extensions import db
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role)
    c = app.test_client()
    login(admin, on=c)
    return c


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Category.id)))


def fresh(category_id) -> Category:
    db.session.expire_all()
    return db.session.get(Category, category_id)


def test_shoppers_and_finance_are_refused(app, client, make_user, login, make_category):
    leaf = make_category()
    assert client.get("/admin/categories").status_code == 302
    login(make_user())
    assert client.get("/admin/categories").status_code == 403
    finance = admin_client(app, make_user, login, role="finance")
    # finance sees the tree (it sets the categories' fee rates there) but edits nothing else
    page = text(finance.get("/admin/categories"))
    assert leaf.name in page and 'name="parent_id"' not in page and "/move" not in page
    assert finance.post("/admin/categories", data={"name": "不行"}).status_code == 403
    assert finance.post(f"/admin/categories/{leaf.id}/update", data={"name": "不行"}).status_code == 403
    assert finance.post(f"/admin/categories/{leaf.id}/active", data={"active": "0"}).status_code == 403
    assert fresh(leaf.id).active and count() == 3


def test_tree_shows_three_levels_with_icons(app, make_user, login, make_category):
    leaf = make_category(name="连衣裙")
    c = admin_client(app, make_user, login)
    page = text(c.get("/admin/categories"))
    assert "连衣裙" in page and leaf.parent.name in page and "bi-grid" in page
    # depth 3 has no 添加子类目 form, the two upper levels do
    assert page.count('name="parent_id"') == 2
    partial = text(c.get("/admin/categories", headers=HX))
    assert "<html" not in partial and 'id="category-tree"' in partial


def test_create_top_level_and_child_plain_and_htmx(app, make_user, login):
    c = admin_client(app, make_user, login)
    resp = c.post("/admin/categories", data={"name": "数码", "icon": "phone"})
    assert resp.status_code == 302
    top = db.session.scalar(sa.select(Category).where(Category.name == "数码"))
    assert top.depth == 1 and top.icon == "phone"
    assert "已添加类目「数码」" in text(c.get("/admin/categories"))
    resp = c.post("/admin/categories", data={"name": "手机", "parent_id": top.id}, headers=HX)
    assert resp.status_code == 200 and toast(resp)["level"] == "success"
    assert "手机" in text(resp) and 'id="category-tree"' in text(resp)
    child = db.session.scalar(sa.select(Category).where(Category.name == "手机"))
    assert child.parent_id == top.id and child.depth == 2 and child.icon == "grid"


def test_rename_and_icon(app, make_user, login, make_category):
    leaf = make_category()
    c = admin_client(app, make_user, login)
    resp = c.post(f"/admin/categories/{leaf.id}/update", data={"name": "新名字", "icon": "bag"}, headers=HX)
    assert toast(resp)["level"] == "success" and "bi-bag" in text(resp)
    assert (fresh(leaf.id).name, fresh(leaf.id).icon) == ("新名字", "bag")
    assert c.post(f"/admin/categories/{leaf.id}/update", data={"name": "再改", "icon": "bag"}).status_code == 302
    assert fresh(leaf.id).name == "再改"


def test_refusals_show_the_error_and_change_nothing(app, make_user, login, make_category, make_product):
    leaf = make_category(name="已有")
    sibling = make_category(name="兄弟", parent=leaf.parent)
    c = admin_client(app, make_user, login)
    before = count()
    # empty name, plain post: the page again with the error and 422
    resp = c.post("/admin/categories", data={"name": "  ", "icon": "phone"})
    assert resp.status_code == 422 and "类目名称为 1 到 20 个字" in text(resp)
    # duplicate name among siblings, HTMX: error toast, the typed value kept
    resp = c.post(f"/admin/categories/{sibling.id}/update", data={"name": "已有", "icon": "grid"}, headers=HX)
    assert toast(resp)["level"] == "danger" and "同一级下已有同名类目" in text(resp)
    assert fresh(sibling.id).name == "兄弟"
    # bad icon name
    resp = c.post(f"/admin/categories/{sibling.id}/update", data={"name": "兄弟", "icon": "<script>"}, headers=HX)
    assert "图标名称无效" in text(resp) and fresh(sibling.id).icon == "grid"
    # too deep: a child under a third-level category
    resp = c.post("/admin/categories", data={"name": "第四级", "parent_id": leaf.id}, headers=HX)
    assert toast(resp)["message"] == "类目最多三级"
    # a child under a category that has products
    middle = make_category(name="中层", parent=db.session.get(Category, leaf.parent.parent_id))
    make_product(category=middle)
    before = count()
    resp = c.post("/admin/categories", data={"name": "子类", "parent_id": middle.id})
    assert resp.status_code == 422 and "这个类目下已有商品，不能再添加子类目" in text(resp)
    assert count() == before
    assert c.post("/admin/categories/999999/update", data={"name": "x"}).status_code == 404


def test_move_up_and_down(app, make_user, login, make_category):
    first = make_category(name="甲")
    second = make_category(name="乙", parent=first.parent)
    c = admin_client(app, make_user, login)
    resp = c.post(f"/admin/categories/{second.id}/move", data={"direction": "up"}, headers=HX)
    assert toast(resp)["level"] == "success"
    assert fresh(second.id).sort < fresh(first.id).sort
    body = text(resp)
    assert body.index("乙") < body.index("甲")
    assert c.post(f"/admin/categories/{second.id}/move", data={"direction": "down"}).status_code == 302
    assert fresh(first.id).sort < fresh(second.id).sort


def test_deactivate_hides_the_subtree_and_reactivate(app, make_user, login, make_category, make_product):
    from app.catalog import queries

    leaf = make_category()
    product = make_product(category=leaf, title="隐藏测试商品")
    top_id = leaf.parent.parent_id
    c = admin_client(app, make_user, login)
    resp = c.post(f"/admin/categories/{top_id}/active", data={"active": "0"}, headers=HX)
    assert "已停用" in toast(resp)["message"] and "上级已停用" in text(resp)
    assert not fresh(top_id).active
    assert product.id not in [p.id for p in queries.search(queries.ProductFilters(), 1).items]
    assert c.post(f"/admin/categories/{top_id}/active", data={"active": "1"}).status_code == 302
    assert fresh(top_id).active
    assert product.id in [p.id for p in queries.search(queries.ProductFilters(), 1).items]
