"""The console's product pages: list with tabs and filters, add/edit with the spec
editor, the SKU matrix and images, validation shown inline, status actions, and
other shops' ids."""
import io
import re

import pytest
import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.extensions import db
from app.merchants.models import MerchantMember
from tests.factories import png_bytes


@pytest.fixture
def shop(app, make_user, make_merchant, make_category, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    category = make_category(name="T恤")
    client = login(owner, on=app.test_client())
    return client, owner, merchant, category


def form_data(category, **overrides):
    data = {
        "title": "纯棉短袖T恤", "subtitle": "夏季新款", "category_id": str(category.id),
        "description": "<p>好<b>棉</b></p><script>alert(1)</script>", "tags": "纯棉, 夏季",
        "spec-0-name": "颜色", "spec-0-values": "红, 蓝", "spec-1-name": "尺码", "spec-1-values": "M, L",
    }
    for color in ("红", "蓝"):
        for size in ("M", "L"):
            key = f"颜色:{color}|尺码:{size}"
            data[f"sku[{key}][price]"] = "59.90"
            data[f"sku[{key}][stock]"] = "10"
            data[f"sku[{key}][code]"] = f"T-{size}"
    data.update(overrides)
    return data


def with_images(data, *files):
    data = dict(data)
    data["images"] = [(io.BytesIO(content), name) for name, content in files]
    return data


def products_of(merchant):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Product).where(Product.merchant_id == merchant.id)))


def test_add_a_product_with_two_spec_dimensions_and_images(shop):
    client, owner, merchant, category = shop
    assert client.get("/merchant/products/new").status_code == 200
    response = client.post("/merchant/products/new", content_type="multipart/form-data",
                           data=with_images(form_data(category), ("a.png", png_bytes()), ("b.png", png_bytes(color=(0, 0, 255)))))
    assert response.status_code == 302, re.findall(r"(?:invalid-feedback d-block|fw-semibold)\">([^<]*)<", response.get_data(as_text=True))
    [product] = products_of(merchant)
    assert product.status == "draft" and product.title == "纯棉短袖T恤" and "script" not in product.description_html
    assert len(product.images) == 2 and product.tags == ["纯棉", "夏季"]
    skus = {s.spec_key: s for s in product.skus}
    assert len(skus) == 4 and skus["颜色:红|尺码:M"].price_fen == 5990 and skus["颜色:蓝|尺码:L"].stock == 10
    # The edit page shows the thumbnails (public route) and the matrix with the stock seen.
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    thumb = product.images[0].thumb_key.rsplit("/", 1)[-1]
    assert f"/media/products/{product.id}/{thumb}" in html
    assert client.get(f"/media/products/{product.id}/{thumb}").status_code == 200
    assert 'name="sku[颜色:红|尺码:M][expected_stock]" value="10"' in html
    # Reorder: the second image becomes the main one; remove nothing.
    first, second = (img.id for img in product.images)
    data = form_data(category, image_ids=[str(second), str(first)])
    for key in skus:
        data[f"sku[{key}][expected_stock]"] = "10"
    assert client.post(f"/merchant/products/{product.id}/edit", data=data).status_code == 302
    [product] = products_of(merchant)
    assert [img.id for img in product.images] == [second, first]
    # Remove one image.
    data["remove_image"] = str(first)
    assert client.post(f"/merchant/products/{product.id}/edit", data=data).status_code == 302
    [product] = products_of(merchant)
    assert [img.id for img in product.images] == [second]


def test_save_and_submit_sends_to_review(shop):
    client, owner, merchant, category = shop
    data = with_images(form_data(category, submit="1"), ("a.png", png_bytes()))
    response = client.post("/merchant/products/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    [product] = products_of(merchant)
    assert product.status == "pending_review"


def test_submit_without_an_image_is_refused_and_nothing_saved(shop):
    client, owner, merchant, category = shop
    response = client.post("/merchant/products/new", data=form_data(category, submit="1"))
    assert response.status_code == 422
    assert "至少上传一张商品图片" in response.get_data(as_text=True)
    assert products_of(merchant) == []


def test_matrix_endpoint_keeps_typed_values(shop):
    client, owner, merchant, category = shop
    data = {"spec-0-name": "颜色", "spec-0-values": "红, 蓝",
            "sku[颜色:红][price]": "12.50", "sku[颜色:红][stock]": "7", "sku[颜色:绿][price]": "1"}
    html = client.post("/merchant/products/matrix", data=data, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="sku[颜色:红][price]" value="12.50"' in html
    assert 'name="sku[颜色:蓝][price]" value=""' in html and "颜色:绿" not in html
    # Adding a dimension carries the typed values into the grown combinations.
    data.update({"spec-1-name": "尺码", "spec-1-values": "S, M"})
    html = client.post("/merchant/products/matrix", data=data).get_data(as_text=True)
    assert 'name="sku[颜色:红|尺码:S][price]" value="12.50"' in html
    assert 'name="sku[颜色:红|尺码:M][stock]" value="7"' in html
    # The add button appends an empty dimension; duplicates are named.
    html = client.post("/merchant/products/matrix", data={**data, "spec_action": "add"}).get_data(as_text=True)
    assert 'name="spec-2-name"' in html
    html = client.post("/merchant/products/matrix", data={"spec-0-name": "颜色", "spec-0-values": "红, 红"}).get_data(as_text=True)
    assert "有重复的值" in html


@pytest.mark.parametrize("overrides, message", [
    ({"sku[颜色:红|尺码:M][price]": "-5"}, "价格必须大于 0"),
    ({"sku[颜色:红|尺码:M][price]": "0"}, "价格必须大于 0"),
    ({"sku[颜色:红|尺码:M][stock]": "十"}, "请输入整数"),
    ({"spec-0-values": "红, 红"}, "有重复的值"),
    ({"title": ""}, "商品标题为 2 到 60 个字"),
])
def test_validation_errors_are_shown_and_nothing_changes(shop, overrides, message):
    client, owner, merchant, category = shop
    response = client.post("/merchant/products/new", data=form_data(category, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert 'value="夏季新款"' in html  # what was typed stays
    assert products_of(merchant) == []


def test_not_an_image_is_refused_and_the_good_ones_are_kept(shop, app, make_user, make_merchant, login):
    client, owner, merchant, category = shop
    data = with_images(form_data(category), ("good.png", png_bytes()), ("fake.png", b"not an image at all"))
    response = client.post("/merchant/products/new", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "fake.png" in html
    assert products_of(merchant) == []
    bad = client.post("/merchant/products/new", content_type="multipart/form-data",
                      data=with_images(form_data(category, category_id=""), ("fake.png", b"nope")))
    assert "fake.png" in bad.get_data(as_text=True) and "请选择商品类目" in bad.get_data(as_text=True)
    [staged] = re.findall(r'name="staged" value="([0-9a-f]{32}\.png)"', html)
    assert client.get(f"/merchant/products/staged/{staged}").status_code == 200
    # another shop cannot see it
    stranger = make_user()
    make_merchant(owner=stranger)
    assert login(stranger, on=app.test_client()).get(f"/merchant/products/staged/{staged}").status_code == 404
    # the next try saves the kept image without choosing it again
    response = client.post("/merchant/products/new", data=form_data(category, staged=staged, submit="1"))
    assert response.status_code == 302
    [product] = products_of(merchant)
    assert len(product.images) == 1 and product.status == "pending_review"
    assert client.get(f"/merchant/products/staged/{staged}").status_code == 404  # cleaned up


def test_suspended_shop_cannot_add_products(shop):
    client, owner, merchant, category = shop
    merchant.status = "suspended"
    db.session.commit()
    response = client.post("/merchant/products/new", data=form_data(category))
    assert response.status_code == 409 and "暂停营业" in response.get_data(as_text=True)
    assert products_of(merchant) == []


def test_stale_expected_stock_gives_a_clear_message(shop, make_product):
    client, owner, merchant, category = shop
    product = make_product(merchant=merchant, category=category, stocks=(10,), status="draft")
    data = {"title": product.title, "category_id": str(category.id), "spec-0-name": "规格", "spec-0-values": "款0",
            "sku[规格:款0][price]": "99", "sku[规格:款0][stock]": "20", "sku[规格:款0][expected_stock]": "10"}
    from app.inventory import services

    services.take([(product.skus[0].id, 3)], "order_reserve")  # a sale meanwhile
    db.session.commit()
    response = client.post(f"/merchant/products/{product.id}/edit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "库存已变化" in html and "现为 7" in html
    db.session.expire_all()
    assert db.session.get(Sku, product.skus[0].id).stock == 7
    data["sku[规格:款0][expected_stock]"] = "7"
    assert client.post(f"/merchant/products/{product.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Sku, product.skus[0].id).stock == 20


def test_status_actions_and_tab_counts(shop, make_product):
    client, owner, merchant, category = shop
    data = with_images(form_data(category), ("a.png", png_bytes()))
    client.post("/merchant/products/new", data=data, content_type="multipart/form-data")
    [product] = products_of(merchant)
    make_product(merchant=merchant, category=category, status="on_sale")
    assert client.post(f"/merchant/products/{product.id}/submit").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == "pending_review"
    assert client.post(f"/merchant/products/{product.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == "draft"
    timeline = client.get(f"/merchant/products/{product.id}/edit").get_data(as_text=True)
    assert "状态记录" in timeline and "撤回审核" in timeline
    html = client.get("/merchant/products?status=draft").get_data(as_text=True)
    counts = dict(re.findall(r'>(出售中|审核中|已下架|被驳回|草稿) <span class="tab-count">(\d+)<', html))
    assert counts == {"出售中": "1", "审核中": "0", "已下架": "0", "被驳回": "0", "草稿": "1"}
    # delist and relist an on-sale product
    on_sale = next(p for p in products_of(merchant) if p.status == "on_sale")
    assert client.post(f"/merchant/products/{on_sale.id}/delist").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, on_sale.id).status == "off_sale"
    # relist needs an image: refused with a message, nothing changed
    response = client.post(f"/merchant/products/{on_sale.id}/relist", follow_redirects=True)
    assert "至少上传一张商品图片" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Product, on_sale.id).status == "off_sale"


def test_list_filters_and_fixed_queries(shop, make_product, count_queries):
    client, owner, merchant, category = shop
    make_product(merchant=merchant, category=category, title="低库存商品", stocks=(1, 20))
    make_product(merchant=merchant, category=category, title="促销商品", stocks=(50,), on_promotion=True)
    html = client.get("/merchant/products?low=1").get_data(as_text=True)
    assert "低库存商品" in html and "促销商品" not in html and "库存不足" in html
    html = client.get("/merchant/products?promo=1").get_data(as_text=True)
    assert "促销商品" in html and "低库存商品" not in html
    html = client.get("/merchant/products?q=促销").get_data(as_text=True)
    assert "促销商品" in html and "低库存商品" not in html
    client.get("/merchant/products")
    with count_queries() as few:
        client.get("/merchant/products")
    for _n in range(8):
        make_product(merchant=merchant, category=category, stocks=(3, 4, 5))
    with count_queries() as many:
        assert client.get("/merchant/products").status_code == 200
    assert len(many) == len(few)


def test_staff_see_products_but_not_another_shops(app, shop, make_user, make_merchant, make_product, login):
    client, owner, merchant, category = shop
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    db.session.commit()
    staff_client = login(staff, on=app.test_client())
    mine = make_product(merchant=merchant, category=category)
    other = make_product(merchant=make_merchant(), category=category)
    assert staff_client.get("/merchant/products").status_code == 200
    assert staff_client.get(f"/merchant/products/{mine.id}/edit").status_code == 200
    assert staff_client.get(f"/merchant/products/{other.id}/edit").status_code == 404
    assert staff_client.post(f"/merchant/products/{other.id}/edit", data=form_data(category)).status_code == 404
    assert staff_client.post(f"/merchant/products/{other.id}/delist").status_code == 404
    assert staff_client.post("/merchant/products/matrix", data={"product_id": str(other.id)}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Product, other.id).status == "on_sale"


def test_promotion_needs_promotion_prices_and_a_window(shop):
    client, owner, merchant, category = shop
    response = client.post("/merchant/products/new", data=form_data(category, on_promotion="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写促销价" in html and "结束要晚于开始" in html
    assert products_of(merchant) == []


def test_actions_only_go_back_to_this_site(shop, make_product):
    client, owner, merchant, category = shop
    product = make_product(merchant=merchant, category=category)
    response = client.post(f"/merchant/products/{product.id}/delist", data={"next": "//evil.example/x"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/merchant/products")


def test_bulk_delist_and_another_shops_id(shop, make_product, make_merchant):
    client, owner, merchant, category = shop
    a = make_product(merchant=merchant, category=category)
    b = make_product(merchant=merchant, category=category)
    other = make_product(merchant=make_merchant(), category=category)
    response = client.post("/merchant/products/bulk", data={"action": "delist", "ids": [str(a.id), str(other.id)]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Product, a.id).status == "on_sale" and db.session.get(Product, other.id).status == "on_sale"
    response = client.post("/merchant/products/bulk", data={"action": "delist", "ids": [str(a.id), str(b.id)]},
                           follow_redirects=True)
    assert "2 件商品已处理" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {db.session.get(Product, a.id).status, db.session.get(Product, b.id).status} == {"off_sale"}
    # relisting without images: refused per product with the reason
    html = client.post("/merchant/products/bulk", data={"action": "relist", "ids": [str(a.id)]},
                       follow_redirects=True).get_data(as_text=True)
    assert "0 件成功，1 件未处理" in html


def test_a_product_without_specs_has_one_default_row(shop):
    client, owner, merchant, category = shop
    html = client.get("/merchant/products/new").get_data(as_text=True)
    assert 'name="sku[][price]"' in html and "默认规格" in html
    data = {"title": "单规格商品", "category_id": str(category.id), "spec-0-name": "", "spec-0-values": "",
            "sku[][price]": "9.9", "sku[][stock]": "4", "sku[][low_stock_threshold]": ""}
    assert client.post("/merchant/products/new", data=data).status_code == 302
    [product] = products_of(merchant)
    [sku] = product.skus
    assert sku.spec_values == {} and sku.price_fen == 990 and sku.stock == 4
    assert sku.low_stock_threshold == merchant.default_low_stock_threshold


def test_row_actions_over_htmx_redraw_the_tab_counts(shop, make_product):
    client, owner, merchant, category = shop
    product = make_product(merchant=merchant, category=category)
    response = client.post(f"/merchant/products/{product.id}/delist", headers={"HX-Request": "true"},
                           data={"row": "1", "next": "/merchant/products?status=on_sale"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="product-tabs" hx-swap-oob="true"' in html
    counts = dict(re.findall(r'>(出售中|审核中|已下架|被驳回|草稿) <span class="tab-count">(\d+)<', html))
    assert counts["出售中"] == "0" and counts["已下架"] == "1"
    assert "toast" in response.headers["HX-Trigger"]
    # a refusal (no image to relist with) leaves the row alone and says why
    response = client.post(f"/merchant/products/{product.id}/relist", headers={"HX-Request": "true"},
                           data={"row": "1", "next": "/merchant/products?status=off_sale"})
    assert response.headers["HX-Reswap"] == "none" and "danger" in response.headers["HX-Trigger"]
