"""Admin product review: the queue (fixed query count), the list with filter and
search, the detail, approve / reject / violation delist as plain posts and with
HTMX, the withdrawn-meanwhile refusal, permissions, and the public image route."""

import pytest
import sqlalchemy as sa

from app.catalog import product_form, product_review, products, queries
from app.catalog.models import Product, ProductEvent
from app.core.db import transaction
from app.extensions import db
from app.notifications.models import Message
from tests.factories import png_bytes
from tests.web.helpers import text, toast

HX = {"HX-Request": "true"}


def admin_client(app, make_user, login, role="operator"):
    admin = make_user(admin_role=role, nickname=f"{role}审核员")
    c = app.test_client()
    login(admin, on=c)
    return c, admin


def fresh(product_id) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


@pytest.fixture
def pending(make_user, make_merchant, make_category):
    """A product submitted for review by its shop's owner, with two SKUs and an image."""
    def make(title="纯棉短袖T恤"):
        owner = make_user()
        merchant = make_merchant(owner=owner, name=f"{title}店")
        category = make_category()
        data = {"title": title, "subtitle": "夏季新款", "category_id": category.id,
                "description": "<p>好看的<b>T恤</b></p>", "tags": "纯棉",
                "specs": [{"name": "颜色", "values": ["红", "蓝"]}],
                "skus": [{"spec_values": {"颜色": "红"}, "price": "59.90", "stock": 10},
                         {"spec_values": {"颜色": "蓝"}, "price": "69.90", "stock": 3}]}
        with transaction():
            product = products.save(owner, merchant.id, product_form.read(data), new_images=[png_bytes()])
        with transaction():
            product_review.submit(owner, merchant.id, product.id)
        return fresh(product.id), owner, merchant

    return make


def test_shoppers_and_finance_are_refused(app, client, make_user, login, pending):
    product, _owner, _merchant = pending()
    base = f"/admin/products/{product.id}"
    assert client.get("/admin/products/review").status_code == 302
    login(make_user())
    finance, _admin = admin_client(app, make_user, login, role="finance")
    for c in (client, finance):
        for path in ("/admin/products/review", "/admin/products", base):
            assert c.get(path).status_code == 403, path
        assert c.post(f"{base}/approve").status_code == 403
        assert c.post(f"{base}/reject", data={"reason": "不合格的商品"}).status_code == 403
    assert fresh(product.id).status == "pending_review"


def test_queue_shows_pending_products_with_facts(app, make_user, login, pending, make_product):
    product, _owner, merchant = pending()
    make_product(title="早已上架的商品")
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get("/admin/products/review"))
    assert "纯棉短袖T恤" in page and merchant.name in page and "早已上架的商品" not in page
    assert "59.90" in page and "69.90" in page
    image = fresh(product.id).images[0]
    assert f"/media/products/{product.id}/{image.thumb_key.rsplit('/', 1)[-1]}" in page
    # the sidebar badge counts the queue
    assert 'admin.products_review' not in page and "商品审核" in page


def test_queue_runs_a_fixed_number_of_queries(app, make_user, login, make_product, count_queries):
    c, _admin = admin_client(app, make_user, login)
    for _ in range(2):
        make_product(status="pending_review")
    c.get("/admin/products/review")
    with count_queries() as few:
        c.get("/admin/products/review")
    for _ in range(8):
        make_product(status="pending_review", stocks=(1, 2))
    with count_queries() as many:
        assert "测试商品" in text(c.get("/admin/products/review"))
    assert len(many) == len(few)


def test_all_products_filter_and_search(app, make_user, login, make_product, make_merchant):
    c, _admin = admin_client(app, make_user, login)
    make_product(title="红色连衣裙")
    make_product(title="蓝色衬衫", status="off_sale", merchant=make_merchant(name="衬衫专卖"))
    page = text(c.get("/admin/products?q=连衣裙"))
    assert "红色连衣裙" in page and "蓝色衬衫" not in page
    assert "蓝色衬衫" in text(c.get("/admin/products?q=衬衫专卖"))
    page = text(c.get("/admin/products?status=off_sale", headers=HX))
    assert "<html" not in page and "蓝色衬衫" in page and "红色连衣裙" not in page
    assert "没有符合条件的商品" in text(c.get("/admin/products?q=zzzz"))


def test_detail_shows_images_skus_description_and_timeline(app, make_user, login, pending):
    product, _owner, _merchant = pending()
    c, _admin = admin_client(app, make_user, login)
    page = text(c.get(f"/admin/products/{product.id}"))
    assert "<b>T恤</b>" in page and "59.90" in page and "69.90" in page
    assert "提交审核" in page and "通过并上架" in page and "驳回原因" in page
    assert c.get("/admin/products/999999").status_code == 404


def test_approve_plain_and_htmx(app, make_user, login, pending):
    product, _owner, _merchant = pending()
    c, _admin = admin_client(app, make_user, login)
    assert c.post(f"/admin/products/{product.id}/approve").status_code == 302
    assert fresh(product.id).status == "on_sale"
    assert "已通过审核" in text(c.get(f"/admin/products/{product.id}"))
    other, _o, _m = pending("第二件商品")
    resp = c.post(f"/admin/products/{other.id}/approve", headers=HX)
    assert toast(resp)["level"] == "success" and 'hx-swap-oob="true"' in text(resp)
    assert "审核通过，上架销售" in text(resp) and fresh(other.id).status == "on_sale"


def test_reject_needs_a_reason_stores_it_and_notifies(app, make_user, login, pending):
    product, owner, _merchant = pending()
    c, _admin = admin_client(app, make_user, login)
    resp = c.post(f"/admin/products/{product.id}/reject", data={"reason": " "})
    assert resp.status_code == 422 and "请填写原因" in text(resp)
    resp = c.post(f"/admin/products/{product.id}/reject", data={"reason": "x"}, headers=HX)
    assert toast(resp)["level"] == "danger" and fresh(product.id).status == "pending_review"
    resp = c.post(f"/admin/products/{product.id}/reject", data={"reason": "主图含联系方式"}, headers=HX)
    assert toast(resp)["level"] == "success"
    product = fresh(product.id)
    assert product.status == "rejected" and product.reject_reason == "主图含联系方式"
    message = db.session.scalar(sa.select(Message).where(Message.recipient_id == owner.id,
                                                         Message.title == "商品未通过审核"))
    assert message is not None and "主图含联系方式" in message.body


def test_approving_a_product_withdrawn_meanwhile_is_refused(app, make_user, login, pending):
    product, owner, merchant = pending()
    c, _admin = admin_client(app, make_user, login)
    assert "通过并上架" in text(c.get(f"/admin/products/{product.id}"))
    with transaction():
        product_review.withdraw(owner, merchant.id, product.id)
    resp = c.post(f"/admin/products/{product.id}/approve", headers=HX)
    assert toast(resp) == {"message": "商家已撤回这件商品，无需审核", "level": "warning"}
    resp = c.post(f"/admin/products/{product.id}/approve", follow_redirects=True)
    assert "商家已撤回这件商品，无需审核" in text(resp)
    assert fresh(product.id).status == "draft"
    assert not db.session.scalar(sa.select(sa.func.count(ProductEvent.id)).where(
        ProductEvent.product_id == product.id, ProductEvent.to_status == "on_sale"))


def test_second_decision_is_refused_clearly(app, make_user, login, pending):
    product, _owner, _merchant = pending()
    c, _admin = admin_client(app, make_user, login)
    c.post(f"/admin/products/{product.id}/approve")
    resp = c.post(f"/admin/products/{product.id}/reject", data={"reason": "重复处理"}, headers=HX)
    assert toast(resp)["level"] == "warning" and "已被处理" in toast(resp)["message"]
    assert fresh(product.id).status == "on_sale"


def test_violation_delist_hides_it_from_search(app, make_user, login, make_product):
    product = make_product(title="违规商品")
    c, _admin = admin_client(app, make_user, login)
    assert product.id in [p.id for p in queries.search(queries.ProductFilters(), 1).items]
    resp = c.post(f"/admin/products/{product.id}/delist", data={"reason": ""}, headers=HX)
    assert toast(resp)["level"] == "danger" and fresh(product.id).status == "on_sale"
    resp = c.post(f"/admin/products/{product.id}/delist", data={"reason": "涉嫌售卖假冒商品"})
    assert resp.status_code == 302
    product = fresh(product.id)
    assert product.status == "off_sale" and product.delist_reason == "涉嫌售卖假冒商品"
    assert product.id not in [p.id for p in queries.search(queries.ProductFilters(), 1).items]
    page = text(c.get(f"/admin/products/{product.id}"))
    assert "平台违规下架" in page and "涉嫌售卖假冒商品" in page


def test_media_route_serves_images_and_404s_bad_paths(client, pending):
    product, _owner, _merchant = pending()
    image = product.images[0]
    name = image.key.rsplit("/", 1)[-1]
    resp = client.get(f"/media/products/{product.id}/{name}")
    assert resp.status_code == 200 and resp.mimetype.startswith("image/")
    assert client.get(f"/media/products/{product.id}/nope.png").status_code == 404
    assert client.get(f"/media/products/{product.id + 1}/{name}").status_code == 404
    assert client.get(f"/media/products/{product.id}/..%2F..%2Fsecret").status_code == 404
