"""Shopper catalogue API (mini-program contract): categories, product search,
product detail with SKUs, shops and their products; errors as {"error": {...}}."""
from datetime import timedelta

import sqlalchemy as sa

from app.catalog.models import Category, ProductImage, Sku
from app.core.clock import utcnow
from app.extensions import db
from app.merchants.models import Merchant

ITEM_KEYS = {"id", "title", "price_fen", "promotion_price_fen", "image_url", "sales", "merchant_id"}


def _promote(product, promo_fen, starts_in_hours=-1):
    now = utcnow()
    product.on_promotion, product.promotion_price_fen = True, promo_fen
    product.promotion_starts_at = now + timedelta(hours=starts_in_hours)
    product.promotion_ends_at = now + timedelta(days=2)
    for sku in product.skus:
        sku.promotion_price_fen = promo_fen
    db.session.commit()
    return product


def test_category_tree_hides_inactive_branches(client, make_category):
    leaf = make_category(name="耳机")
    hidden = make_category(name="停用的", active=False)
    body = client.get("/api/v1/categories").get_json()
    tops = body["items"]
    names = [c["name"] for top in tops for mid in top["children"] for c in mid["children"]]
    assert "耳机" in names and "停用的" not in names
    node = next(top for top in tops if top["id"] == db.session.get(Category, leaf.parent_id).parent_id)
    assert set(node) >= {"id", "name", "icon", "depth", "children"} and hidden.id


def test_product_list_contract_search_filters_sorts(client, make_product, make_category):
    fruit = make_category()
    a = make_product(title="赣南脐橙", price_fen=3000, category=fruit, sales=10)
    b = make_product(title="脐橙礼盒", price_fen=8000, sales=99)
    c = _promote(make_product(title="脐橙特价", price_fen=6000, sales=1), 2000)
    make_product(title="键盘")
    body = client.get("/api/v1/products", query_string={"q": "脐橙"}).get_json()
    assert set(body) == {"items", "page", "per_page", "total"} and body["total"] == 3
    assert set(body["items"][0]) == ITEM_KEYS
    assert [i["id"] for i in body["items"]] == [b.id, a.id, c.id]
    item = next(i for i in body["items"] if i["id"] == c.id)
    assert item["price_fen"] == 6000 and item["promotion_price_fen"] == 2000 and item["merchant_id"] == c.merchant_id

    def ids(**args):
        return [i["id"] for i in client.get("/api/v1/products", query_string={"q": "脐橙", **args}).get_json()["items"]]

    assert ids(sort="price_asc") == [c.id, a.id, b.id]  # the live promotion price counts
    assert ids(sort="price_desc") == [b.id, a.id, c.id]
    assert ids(category_id=fruit.id) == [a.id]
    assert ids(category_id=fruit.parent_id) == [a.id]
    assert ids(min_price_fen=2500, max_price_fen=7000) == [a.id]
    assert ids(promotion="true") == [c.id]
    assert len(ids(sort="newest")) == 3
    page = client.get("/api/v1/products", query_string={"q": "脐橙", "per_page": 2, "page": 2}).get_json()
    assert page["page"] == 2 and page["per_page"] == 2 and page["total"] == 3 and len(page["items"]) == 1


def test_bad_params_answer_422(client):
    for args in ({"sort": "cheapest"}, {"page": "x"}, {"per_page": 0}, {"per_page": 1000}, {"min_price_fen": -1},
                 {"category_id": "abc"}, {"min_price_fen": 500, "max_price_fen": 100}, {"promotion": "maybe"}):
        resp = client.get("/api/v1/products", query_string=args)
        assert resp.status_code == 422, args
        assert resp.get_json()["error"]["code"] == "invalid"
    assert client.get("/api/v1/shops/1/products?page=0").status_code in (404, 422)


def test_product_detail_with_images_specs_merchant_and_skus(client, make_product):
    product = make_product(title="纯棉T恤", stocks=(7, 0), price_fen=9900)
    db.session.add(ProductImage(product_id=product.id, key=f"products/{product.id}/a.png",
                                thumb_key=f"products/{product.id}/a.webp", position=0, width=800, height=800))
    db.session.commit()
    body = client.get(f"/api/v1/products/{product.id}").get_json()
    assert body["id"] == product.id and body["title"] == "纯棉T恤"
    assert body["images"][0]["url"].endswith(f"/media/products/{product.id}/a.png")
    assert body["image_url"].endswith(f"/media/products/{product.id}/a.webp")
    assert body["specs"] == [{"name": "规格", "values": ["款0", "款1"]}]
    assert body["merchant"]["id"] == product.merchant_id and body["merchant"]["name"]
    assert [(s["specs"], s["price_fen"], s["promotion_price_fen"], s["stock"]) for s in body["skus"]] == [
        ({"规格": "款0"}, 9900, None, 7), ({"规格": "款1"}, 9900, None, 0)]


def test_promotion_price_only_while_the_window_is_live(client, make_product):
    product = _promote(make_product(price_fen=5000), 3000, starts_in_hours=5)  # starts later
    body = client.get(f"/api/v1/products/{product.id}").get_json()
    assert body["promotion_price_fen"] is None and {s["promotion_price_fen"] for s in body["skus"]} == {None}
    product.promotion_starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    body = client.get(f"/api/v1/products/{product.id}").get_json()
    assert body["promotion_price_fen"] == 3000 and {s["promotion_price_fen"] for s in body["skus"]} == {3000}


def test_off_sale_product_is_404_with_a_code(client, make_product, make_category):
    off = make_product(status="off_sale")
    pending = make_product(status="pending_review")
    hidden_category = make_product(category=make_category(active=False))
    for product_id in (off.id, pending.id, hidden_category.id, 999999):
        resp = client.get(f"/api/v1/products/{product_id}")
        assert resp.status_code == 404
        assert resp.get_json()["error"]["code"] == "product_unavailable" and resp.get_json()["error"]["message"]
    listed = {i["id"] for i in client.get("/api/v1/products").get_json()["items"]}
    assert not listed & {off.id, pending.id, hidden_category.id}


def test_inactive_sku_is_not_offered(client, make_product):
    product = make_product(stocks=(3, 4))
    sku = db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id).order_by(Sku.id)).first()
    sku.active = False
    db.session.commit()
    body = client.get(f"/api/v1/products/{product.id}").get_json()
    assert [s["stock"] for s in body["skus"]] == [4]


def test_shop_and_its_products(client, make_merchant, make_product):
    merchant = make_merchant(name="极客数码", description="正品行货")
    mine = [make_product(merchant=merchant, sales=s) for s in (5, 50)]
    make_product(merchant=merchant, status="off_sale")
    make_product()
    shop = client.get(f"/api/v1/shops/{merchant.id}").get_json()
    assert shop["id"] == merchant.id and shop["name"] == "极客数码" and shop["description"] == "正品行货"
    body = client.get(f"/api/v1/shops/{merchant.id}/products").get_json()
    assert [i["id"] for i in body["items"]] == [mine[1].id, mine[0].id] and body["total"] == 2
    db.session.get(Merchant, merchant.id).status = "closed"
    db.session.commit()
    for path in (f"/api/v1/shops/{merchant.id}", f"/api/v1/shops/{merchant.id}/products", "/api/v1/shops/999999"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "shop_unavailable"
    assert client.get(f"/api/v1/products/{mine[0].id}").status_code == 404
    assert not {i["id"] for i in client.get("/api/v1/products").get_json()["items"]} & {p.id for p in mine}


def test_api_lists_run_a_fixed_number_of_queries(client, make_merchant, make_category, make_product, count_queries):
    merchant, category = make_merchant(), make_category()

    def run():
        out = []
        for path in ("/api/v1/products?per_page=50", f"/api/v1/shops/{merchant.id}/products?per_page=50",
                     "/api/v1/categories"):
            with count_queries() as statements:
                assert client.get(path).status_code == 200
            out.append(len(statements))
        return out

    make_product(merchant=merchant, category=category)
    few = run()
    for _ in range(15):
        make_product(merchant=merchant, category=category)
    assert run() == few
