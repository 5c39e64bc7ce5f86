"""The merchant API for products, SKUs and stock (X-Api-Key), scoped to the key's merchant."""
import pytest
import sqlalchemy as sa

from app.catalog import product_images
from app.catalog.models import Product, ProductEvent, Sku
from app.core import settings
from app.core.db import transaction
from app.extensions import db
from app.inventory.models import StockMovement
from app.merchants import api_keys, penalties
from tests.factories import png_bytes

BASE = "/api/v1/merchant"
SPECS = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M"]}]


def body(category_id, **overrides):
    skus = [{"spec_values": {"颜色": c, "尺码": s}, "price_fen": 5990, "stock": 10, "code": f"T-{c}-{s}"}
            for c in ("红", "蓝") for s in ("S", "M")]
    data = {"title": "纯棉短袖T恤", "subtitle": "夏季新款", "category_id": category_id,
            "description": "<p>好看<script>alert(1)</script></p>", "tags": ["纯棉", "夏季"], "specs": SPECS,
            "skus": skus}
    data.update(overrides)
    return data


@pytest.fixture
def keyed(make_user, make_merchant, make_category):
    def make():
        owner = make_user()
        merchant = make_merchant(owner=owner)
        key, raw = api_keys.create_key(owner, merchant.id, "ERP")
        db.session.commit()
        return owner, merchant, key, {"X-Api-Key": raw}

    return make


@pytest.fixture
def shop(keyed, make_category):
    owner, merchant, key, headers = keyed()
    return owner, merchant, key, headers, make_category(name="T恤")


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def create(client, headers, category_id, **overrides):
    response = client.post(f"{BASE}/products", json=body(category_id, **overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def snapshot(product_id) -> tuple:
    db.session.expire_all()
    product = db.session.get(Product, product_id)
    return (product.title, product.status, product.price_fen, product.updated_at,
            tuple((s.id, s.price_fen, s.promotion_price_fen, s.stock, s.code, s.low_stock_threshold, s.active)
                  for s in product.skus),
            db.session.scalar(sa.select(sa.func.count(StockMovement.id))))


# --- products --------------------------------------------------------------------------

def test_create_read_list_and_update_a_product(client, shop):
    owner, merchant, _key, headers, category = shop
    created = create(client, headers, category.id)
    assert created["status"] == "draft" and created["price_fen"] == 5990
    assert "script" not in created["description"] and created["tags"] == ["纯棉", "夏季"]
    assert len(created["skus"]) == 4 and {s["stock"] for s in created["skus"]} == {10}
    assert {s["price_fen"] for s in created["skus"]} == {5990}
    product = db.session.get(Product, created["id"])
    assert product.merchant_id == merchant.id
    # the shop's owner acts for the key
    assert db.session.scalar(sa.select(ProductEvent.actor_id).where(ProductEvent.product_id == product.id)) == owner.id
    assert count(StockMovement) == 4

    assert client.get(f"{BASE}/products/{created['id']}", headers=headers).json == created
    listing = client.get(f"{BASE}/products", headers=headers).json
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"]
    assert client.get(f"{BASE}/products?status=on_sale", headers=headers).json["total"] == 0
    assert client.get(f"{BASE}/products?status=draft&page=1&per_page=5", headers=headers).json["total"] == 1
    assert client.get(f"{BASE}/products?status=bogus", headers=headers).status_code == 422

    # a partial update keeps everything not given, including stock
    red_s = next(s for s in created["skus"] if s["spec_values"] == {"颜色": "红", "尺码": "S"})
    response = client.patch(f"{BASE}/products/{created['id']}", headers=headers, json={
        "title": "纯棉短袖T恤 升级款",
        "skus": [{"spec_values": {"颜色": c, "尺码": s}, **({"price_fen": 4990} if (c, s) == ("红", "S") else {})}
                 for c in ("红", "蓝") for s in ("S", "M")],
    })
    assert response.status_code == 200, response.json
    updated = response.json
    assert updated["title"] == "纯棉短袖T恤 升级款" and updated["subtitle"] == "夏季新款"
    assert updated["price_fen"] == 4990 and updated["tags"] == ["纯棉", "夏季"]
    new_red_s = next(s for s in updated["skus"] if s["id"] == red_s["id"])
    assert new_red_s["price_fen"] == 4990 and new_red_s["stock"] == 10 and new_red_s["code"] == "T-红-S"
    assert count(StockMovement) == 4  # no stock change from a product edit

    # only the title: the SKUs stay as they were
    response = client.patch(f"{BASE}/products/{created['id']}", headers=headers, json={"subtitle": "新副标题"})
    assert response.status_code == 200 and response.json["skus"] == updated["skus"]

    # a new spec value adds SKUs; a dropped one deactivates
    response = client.patch(f"{BASE}/products/{created['id']}", headers=headers, json={
        "specs": [{"name": "颜色", "values": ["红"]}, {"name": "尺码", "values": ["S", "M", "L"]}],
        "skus": [{"spec_values": {"颜色": "红", "尺码": s}, "price_fen": 5990, "stock": 3} for s in ("S", "M", "L")],
    })
    assert response.status_code == 200, response.json
    skus = {(s["spec_values"]["颜色"], s["spec_values"]["尺码"]): s for s in response.json["skus"]}
    assert set(skus) == {("红", "S"), ("红", "M"), ("红", "L")}
    assert skus[("红", "S")]["stock"] == 10 and skus[("红", "L")]["stock"] == 3  # existing stock untouched
    assert db.session.scalar(sa.select(sa.func.count(Sku.id)).where(Sku.product_id == created["id"],
                                                                   Sku.active.is_(False))) == 2


def test_submit_delist_and_relist(client, shop):
    owner, merchant, _key, headers, category = shop
    created = create(client, headers, category.id)
    # no image yet: refused, nothing changes
    response = client.post(f"{BASE}/products/{created['id']}/submit", headers=headers)
    assert response.status_code == 422 and "images" in response.json["error"]["fields"]
    with transaction():
        product_images.add_images(owner, merchant.id, created["id"], [png_bytes()])
    response = client.post(f"{BASE}/products/{created['id']}/submit", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "pending_review"
    assert len(response.json["images"]) == 1
    # delisting what is not on sale is a conflict
    assert client.post(f"{BASE}/products/{created['id']}/delist", headers=headers).status_code == 409

    db.session.execute(sa.update(Product).where(Product.id == created["id"]).values(status="on_sale"))
    db.session.commit()
    response = client.post(f"{BASE}/products/{created['id']}/delist", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "off_sale"
    response = client.post(f"{BASE}/products/{created['id']}/relist", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "pending_review"  # review required


def test_submit_goes_on_sale_when_review_is_off(client, shop, make_user):
    owner, merchant, _key, headers, category = shop
    settings.put("product_review_required", False, make_user(admin_role="super"))
    db.session.commit()
    created = create(client, headers, category.id)
    with transaction():
        product_images.add_images(owner, merchant.id, created["id"], [png_bytes()])
    response = client.post(f"{BASE}/products/{created['id']}/submit", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "on_sale"


def test_price_edit_of_an_on_sale_product_stays_on_sale(client, shop):
    owner, merchant, _key, headers, category = shop
    created = create(client, headers, category.id, description="<p>说明 <a href=\"https://x.cn\">链接</a></p>")
    db.session.execute(sa.update(Product).where(Product.id == created["id"]).values(status="on_sale"))
    db.session.commit()
    sku_id = created["skus"][0]["id"]
    response = client.patch(f"{BASE}/skus/{sku_id}", headers=headers, json={"price_fen": 3990, "code": "NEW"})
    assert response.status_code == 200, response.json
    assert response.json["price_fen"] == 3990 and response.json["code"] == "NEW" and response.json["stock"] == 10
    db.session.expire_all()
    product = db.session.get(Product, created["id"])
    assert product.status == "on_sale" and product.price_fen == 3990
    assert client.get(f"{BASE}/skus/{sku_id}", headers=headers).json["price_fen"] == 3990


@pytest.mark.parametrize("overrides,field", [
    ({"title": "x"}, "title"),
    ({"category_id": 999999}, "category_id"),
    ({"specs": [{"name": "颜色", "values": ["红", "红"]}]}, "specs"),
    ({"skus": [{"spec_values": {"颜色": "红", "尺码": "S"}, "price_fen": -1}]}, "skus.0.price_fen"),
    ({"skus": [{"spec_values": {"颜色": "红", "尺码": "S"}, "price_fen": "12.5"}]}, "skus.0.price_fen"),
    ({"skus": [{"spec_values": {"颜色": "红", "尺码": "S"}, "price_fen": 100, "stock": -3}]}, "skus.0.stock"),
    ({"skus": [{"spec_values": {"颜色": "红", "尺码": "S"}, "price": "59.90"}]}, "skus.0.price"),
    ({"unknown": 1}, "unknown"),
])
def test_invalid_bodies_are_422_and_create_nothing(client, shop, overrides, field):
    _owner, _merchant, _key, headers, category = shop
    data = body(category.id)
    data.update(overrides)
    response = client.post(f"{BASE}/products", json=data, headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] in ("invalid", "invalid_product", "duplicate_spec_value")
    assert field in response.json["error"]["fields"], response.json
    assert count(Product) == 0 and count(Sku) == 0 and count(StockMovement) == 0


def test_a_missing_combination_is_named(client, shop):
    _owner, _merchant, _key, headers, category = shop
    data = body(category.id)
    data["skus"] = data["skus"][:3]
    response = client.post(f"{BASE}/products", json=data, headers=headers)
    assert response.status_code == 422
    assert "sku.颜色:蓝|尺码:M.price_fen" in response.json["error"]["fields"]
    assert count(Product) == 0


def test_invalid_updates_change_nothing(client, shop):
    _owner, _merchant, _key, headers, category = shop
    created = create(client, headers, category.id)
    before = snapshot(created["id"])
    sku_id = created["skus"][0]["id"]
    for url, payload in [
        (f"/products/{created['id']}", {"title": "x"}),
        (f"/products/{created['id']}", {"category_id": 999999}),
        (f"/products/{created['id']}", {"skus": [{"spec_values": {"颜色": "红", "尺码": "S"}, "price_fen": 0}]}),
        (f"/products/{created['id']}", {"on_promotion": True, "promotion_starts_at": "2026-12-02T00:00:00",
                                       "promotion_ends_at": "2026-12-01T00:00:00"}),
        (f"/skus/{sku_id}", {"price_fen": 0}),
        (f"/skus/{sku_id}", {"stock": 3}),
    ]:
        response = client.patch(BASE + url, json=payload, headers=headers)
        assert response.status_code == 422, (url, payload, response.json)
        assert response.json["error"]["fields"]
        assert snapshot(created["id"]) == before, payload


# --- stock ---------------------------------------------------------------------------

def test_set_and_adjust_stock_record_api_sync_movements(client, shop):
    owner, _merchant, _key, headers, category = shop
    created = create(client, headers, category.id)
    sku_id = created["skus"][0]["id"]
    url = f"{BASE}/skus/{sku_id}/stock"

    response = client.patch(url, json={"set": 25}, headers=headers)
    assert response.status_code == 200 and response.json == {"sku_id": sku_id, "stock": 25}
    response = client.patch(url, json={"adjust": -5, "reason": "盘亏"}, headers=headers)
    assert response.status_code == 200 and response.json == {"sku_id": sku_id, "stock": 20}
    response = client.patch(url, json={"adjust": 7, "reason": "到货"}, headers=headers)
    assert response.json == {"sku_id": sku_id, "stock": 27}

    db.session.expire_all()
    moves = db.session.scalars(sa.select(StockMovement).where(StockMovement.sku_id == sku_id,
                                                              StockMovement.reason == "api_sync")
                               .order_by(StockMovement.id)).all()
    assert [(m.delta, m.stock_after, m.note, m.actor_id) for m in moves] == [
        (15, 25, moves[0].note, owner.id), (-5, 20, "盘亏", owner.id), (7, 27, "到货", owner.id)]
    assert db.session.get(Sku, sku_id).stock == 27

    # going below zero: 409 out_of_stock, nothing changes
    response = client.patch(url, json={"adjust": -28, "reason": "出库"}, headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "out_of_stock"
    assert db.session.get(Sku, sku_id).stock == 27 and count(StockMovement) == 4 + 3


@pytest.mark.parametrize("payload,field", [
    ({"set": 5, "adjust": 1, "reason": "x"}, "set"),
    ({}, "set"),
    ({"adjust": 3}, "reason"),
    ({"adjust": 3, "reason": "  "}, "reason"),
    ({"adjust": 0, "reason": "x"}, "adjust"),
    ({"set": -1}, "set"),
    ({"set": "abc"}, "set"),
    ({"set": 1.5}, "set"),
])
def test_invalid_stock_bodies_are_422(client, shop, payload, field):
    _owner, _merchant, _key, headers, category = shop
    created = create(client, headers, category.id)
    sku_id = created["skus"][0]["id"]
    before = snapshot(created["id"])
    response = client.patch(f"{BASE}/skus/{sku_id}/stock", json=payload, headers=headers)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    assert snapshot(created["id"]) == before


# --- another merchant's ids, keys -----------------------------------------------------------

def test_another_merchants_product_and_sku_ids_are_404(client, keyed, make_category):
    _owner_a, _shop_a, _key_a, headers_a = keyed()
    _owner_b, _shop_b, _key_b, headers_b = keyed()
    category = make_category()
    theirs = create(client, headers_b, category.id)
    product_id, sku_id = theirs["id"], theirs["skus"][0]["id"]
    before = snapshot(product_id)
    attempts = [
        ("get", f"/products/{product_id}", None),
        ("patch", f"/products/{product_id}", {"title": "被我改了"}),
        ("post", f"/products/{product_id}/submit", None),
        ("post", f"/products/{product_id}/delist", None),
        ("post", f"/products/{product_id}/relist", None),
        ("get", f"/skus/{sku_id}", None),
        ("patch", f"/skus/{sku_id}", {"price_fen": 1}),
        ("patch", f"/skus/{sku_id}/stock", {"set": 0}),
        ("patch", f"/skus/{sku_id}/stock", {"adjust": -1, "reason": "x"}),
    ]
    for method, url, payload in attempts:
        response = getattr(client, method)(BASE + url, json=payload, headers=headers_a)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json["error"]["code"] in ("product_not_found", "sku_not_found"), url
        assert "被我改了" not in response.get_data(as_text=True) and theirs["title"] not in response.get_data(as_text=True)
        assert snapshot(product_id) == before, url
    assert client.get(f"{BASE}/products", headers=headers_a).json["total"] == 0
    assert client.get(f"{BASE}/products/{product_id}", headers=headers_b).status_code == 200


def test_a_revoked_key_is_401(client, shop):
    owner, merchant, key, headers, category = shop
    created = create(client, headers, category.id)
    api_keys.revoke_key(owner, merchant.id, key.id)
    db.session.commit()
    sku_id = created["skus"][0]["id"]
    before = snapshot(created["id"])
    for method, url, payload in [("get", "/products", None), ("get", f"/products/{created['id']}", None),
                                 ("post", "/products", body(category.id)),
                                 ("patch", f"/skus/{sku_id}/stock", {"set": 1})]:
        response = getattr(client, method)(BASE + url, json=payload, headers=headers)
        assert response.status_code == 401 and response.json["error"]["code"] == "invalid_api_key"
    assert client.get(f"{BASE}/products").status_code == 401
    assert snapshot(created["id"]) == before and count(Product) == 1


def test_openapi_documents_the_endpoints_with_the_key(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method in [("/api/v1/merchant/products", "get"), ("/api/v1/merchant/products", "post"),
                         ("/api/v1/merchant/products/{product_id}", "patch"),
                         ("/api/v1/merchant/skus/{sku_id}/stock", "patch")]:
        assert spec["paths"][path][method]["security"] == [{"merchant_api_key": []}]


def test_a_suspended_shop_cannot_create_products(client, shop, make_user):
    _owner, merchant, _key, headers, category = shop
    penalties.suspend(make_user(admin_role="operator"), merchant.id, "整改中", None)
    db.session.commit()
    response = client.post(f"{BASE}/products", json=body(category.id), headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "shop_not_open"
    assert count(Product) == 0


def test_the_list_runs_a_fixed_number_of_queries(client, shop, count_queries):
    _owner, _merchant, _key, headers, category = shop

    def listed():
        with count_queries() as statements:
            response = client.get(f"{BASE}/products?per_page=50", headers=headers)
        assert response.status_code == 200
        return len(statements), response.json["total"]

    create(client, headers, category.id)
    one = listed()
    for _ in range(4):
        create(client, headers, category.id)
    five = listed()
    assert one[1] == 1 and five[1] == 5 and one[0] == five[0]
