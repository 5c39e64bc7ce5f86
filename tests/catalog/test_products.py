"""Products: the SKU matrix, validation, review, listing, and what the storefront shows."""
import pytest
import sqlalchemy as sa

from app.catalog import product_form, product_input, product_review, product_sale, products, queries
from app.catalog.models import Product, Sku
from app.core import settings
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, NotFound, StaleState, ValidationError
from app.extensions import db
from app.inventory.models import StockMovement
from tests.factories import png_bytes

SPECS = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M", "L"]}]


def form(category_id, **overrides):
    skus = [{"spec_values": {"颜色": c, "尺码": s}, "price": "59.90", "stock": 10, "code": f"T-{c}-{s}"}
            for c in ("红", "蓝") for s in ("S", "M", "L")]
    data = {"title": "纯棉短袖T恤", "subtitle": "夏季新款 透气", "category_id": category_id,
            "description": "<p>好看<script>alert(1)</script></p>", "tags": "纯棉, 夏季", "specs": SPECS, "skus": skus}
    data.update(overrides)
    return data


@pytest.fixture
def shop(make_user, make_merchant, make_category):
    owner = make_user()
    return owner, make_merchant(owner=owner), make_category(name="T恤")


def test_matrix_skus_initial_stock_and_sanitised_description(shop):
    owner, merchant, category = shop
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes(), png_bytes()])
    product = db.session.get(Product, product.id)
    assert len(product.skus) == 6 and product.price_fen == 5990
    assert "script" not in product.description_html and "<p>" in product.description_html
    assert product.tags == ["纯棉", "夏季"] and len(product.images) == 2
    assert db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(StockMovement.reason == "initial")) == 6


@pytest.mark.parametrize("overrides,field", [
    ({"specs": [{"name": "颜色", "values": ["红", "红"]}]}, "specs"),
    ({"specs": [{"name": "颜色", "values": ["红"]}, {"name": "颜色", "values": ["蓝"]}]}, "specs"),
    ({"title": "x"}, "title"),
    ({"category_id": 999999}, "category_id"),
    ({"description": "<p>" + "详" * (product_input.DESCRIPTION_MAX_CHARS + 1) + "</p>"}, "description"),
])
def test_invalid_forms_change_nothing(shop, overrides, field):
    owner, merchant, category = shop
    data = form(category.id)
    data.update(overrides)
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, product_form.read(data))
    assert field in err.value.fields
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_bad_prices_and_stock_are_named_per_sku(shop):
    owner, merchant, category = shop
    data = form(category.id)
    data["skus"][0]["price"] = "-1"  # named as not positive, not as malformed
    data["skus"][1]["price"] = "abc"
    data["skus"][2]["stock"] = -3
    data["skus"][3]["price"] = "1.234"
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, product_form.read(data))
    bad = {k for k in err.value.fields if k.startswith("sku.")}
    assert bad == {"sku.颜色:红|尺码:S.price", "sku.颜色:红|尺码:M.price", "sku.颜色:红|尺码:L.stock",
                   "sku.颜色:蓝|尺码:S.price"}


def test_promotion_price_must_be_below_price_and_window_valid(shop):
    owner, merchant, category = shop
    data = form(category.id, on_promotion=True, promotion_starts_at="2026-12-01T00:00",
                promotion_ends_at="2026-11-30T00:00")
    for sku in data["skus"]:
        sku["promotion_price"] = "69.00"
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, product_form.read(data))
    assert "promotion_ends_at" in err.value.fields
    assert any(k.endswith(".promotion_price") for k in err.value.fields)


def test_not_a_leaf_or_another_shop(shop, make_user, make_merchant):
    owner, merchant, category = shop
    with pytest.raises(ValidationError) as err, transaction():
        products.save(owner, merchant.id, product_form.read(form(category.parent_id)))
    assert "category_id" in err.value.fields
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
    stranger = make_user()
    other = make_merchant(owner=stranger)
    with pytest.raises(NotFound), transaction():
        products.save(stranger, other.id, product_form.read(form(category.id)), product_id=product.id)
    with pytest.raises(NotFound), transaction():
        products.save(stranger, merchant.id, product_form.read(form(category.id)), product_id=product.id)  # not a member
    with pytest.raises(NotFound), transaction():
        product_sale.delist(stranger, other.id, product.id)


def test_review_flow_and_the_storefront(shop, make_user):
    owner, merchant, category = shop
    admin = make_user(admin_role="operator")
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
        product_review.submit(owner, merchant.id, product.id)
    assert db.session.get(Product, product.id).status == "pending_review"
    filters = queries.ProductFilters(q="短袖")
    assert queries.search(filters, 1).total == 0  # not yet on sale
    with transaction():
        product_review.reject(admin, product.id, "主图不清晰")
    with transaction():
        product_review.submit(owner, merchant.id, product.id)
        product_review.approve(admin, product.id)
    assert [p.id for p in queries.search(filters, 1).items] == [product.id]
    assert queries.search(queries.ProductFilters(q="纯棉"), 1).total == 1  # tags are searched too
    with transaction():
        product_sale.delist(owner, merchant.id, product.id)
    assert queries.search(filters, 1).total == 0
    with pytest.raises(NotFound):
        queries.visible_product(product.id)


def test_submit_needs_an_image_and_reviewers_need_the_role(shop, make_user):
    owner, merchant, category = shop
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)))
    with pytest.raises(ValidationError) as err, transaction():
        product_review.submit(owner, merchant.id, product.id)
    assert "images" in err.value.fields
    with pytest.raises(Forbidden), transaction():
        product_review.approve(make_user(admin_role="finance"), product.id)


def test_approving_a_withdrawn_product_is_refused(shop, make_user):
    owner, merchant, category = shop
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
        product_review.submit(owner, merchant.id, product.id)
        product_review.withdraw(owner, merchant.id, product.id)
    with pytest.raises(StaleState), transaction():
        product_review.approve(make_user(admin_role="operator"), product.id)
    assert db.session.get(Product, product.id).status == "draft"


def test_editing_content_of_a_listed_product_goes_back_to_review_but_price_does_not(shop, make_user):
    owner, merchant, category = shop
    admin = make_user(admin_role="operator")
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
        product_review.submit(owner, merchant.id, product.id)
        product_review.approve(admin, product.id)
    cheaper = form(category.id)
    for sku in cheaper["skus"]:
        sku["price"] = "49.90"
    with transaction():
        products.save(owner, merchant.id, product_form.read(cheaper), product_id=product.id)
    product = db.session.get(Product, product.id)
    assert product.status == "on_sale" and product.price_fen == 4990
    with transaction():
        products.save(owner, merchant.id, product_form.read(form(category.id, title="纯棉短袖T恤（新）")), product_id=product.id)
    assert db.session.get(Product, product.id).status == "pending_review"


def test_dropping_a_spec_value_deactivates_its_skus(shop):
    owner, merchant, category = shop
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)))
    fewer = form(category.id, specs=[{"name": "颜色", "values": ["红"]}, {"name": "尺码", "values": ["S", "M", "L"]}])
    with transaction():
        products.save(owner, merchant.id, product_form.read(fewer), product_id=product.id)
    rows = db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id)).all()
    assert len(rows) == 6 and sum(s.active for s in rows) == 3


def test_review_off_lists_at_once_and_closed_shops_cannot_list(shop, make_user):
    owner, merchant, category = shop
    settings.put("product_review_required", False, make_user(admin_role="super"))
    with transaction():
        product = products.save(owner, merchant.id, product_form.read(form(category.id)), new_images=[png_bytes()])
        product_review.submit(owner, merchant.id, product.id)
    assert db.session.get(Product, product.id).status == "on_sale"
    from app.merchants import penalties

    with transaction():
        penalties.close(make_user(admin_role="operator"), merchant.id, "严重违规")
    assert db.session.get(Product, product.id).status == "off_sale"
    with pytest.raises(Conflict), transaction():
        product_sale.relist(owner, merchant.id, product.id)


def test_inactive_category_and_suspended_shop_hide_products(make_product, make_category, make_user):
    from app.catalog import categories
    from app.merchants import penalties

    leaf = make_category()
    product = make_product(category=leaf, title="可见的商品")
    assert queries.search(queries.ProductFilters(q="可见"), 1).total == 1
    admin = make_user(admin_role="super")
    with transaction():
        categories.set_active(admin, leaf.parent_id, False)  # the parent hides the whole subtree
    assert queries.search(queries.ProductFilters(q="可见"), 1).total == 0
    with transaction():
        categories.set_active(admin, leaf.parent_id, True)
        penalties.suspend(admin, product.merchant_id, "整改", None)
    assert queries.search(queries.ProductFilters(q="可见"), 1).total == 0
