"""Storefront catalogue pages: home sections, category tree, search with filters,
sorts and infinite scroll, the product page, and what shoppers must not see."""
from datetime import timedelta

import sqlalchemy as sa

from app.analytics import tracking
from app.analytics.models import Event
from app.catalog.models import Category, Sku
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.merchants.models import Merchant


def _searchable(product, subtitle="", tags=()):
    product.subtitle, product.tags = subtitle, list(tags)
    product.search_text = " ".join([product.title, subtitle, *tags]).lower()
    db.session.commit()
    return product


def _promote(product, promo_fen, sku_promo_fen=None, hours=48):
    now = utcnow()
    product.on_promotion, product.promotion_price_fen = True, promo_fen
    product.promotion_starts_at, product.promotion_ends_at = now - timedelta(hours=1), now + timedelta(hours=hours)
    for sku in product.skus:
        sku.promotion_price_fen = sku_promo_fen or promo_fen
    db.session.commit()
    return product


def test_chinese_keyword_search_over_title_subtitle_and_tags(client, make_product):
    by_title = make_product(title="赣南脐橙 新鲜当季")
    by_subtitle = _searchable(make_product(title="红富士"), subtitle="山东烟台脆甜苹果")
    by_tag = _searchable(make_product(title="车厘子礼盒"), tags=["进口水果", "樱桃"])
    make_product(title="机械键盘")
    for word, expected in (("脐橙", by_title), ("烟台", by_subtitle), ("樱桃", by_tag)):
        html = client.get("/search", query_string={"q": word}).get_data(as_text=True)
        assert expected.title in html, word
        assert "机械键盘" not in html
    html = client.get("/search", query_string={"q": "不存在的东西"}).get_data(as_text=True)
    assert "没有找到相关商品" in html


def test_filters_and_sorts(client, make_product, make_category):
    fruit = make_category(name="水果")
    cheap = make_product(title="便宜苹果", price_fen=1000, category=fruit, sales=5)
    dear = make_product(title="昂贵苹果", price_fen=9000, category=fruit, sales=50)
    promo = _promote(make_product(title="促销苹果", price_fen=5000, category=fruit, sales=1), 3000)
    make_product(title="别类苹果", price_fen=2000)

    def titles(**args):
        html = client.get("/search", query_string={"q": "苹果", **args}).get_data(as_text=True)
        order = [(html.index(t), t) for t in ("便宜苹果", "昂贵苹果", "促销苹果", "别类苹果") if t in html]
        return [t for _, t in sorted(order)]

    assert titles(category_id=fruit.id) == ["昂贵苹果", "便宜苹果", "促销苹果"]  # sales first by default
    assert titles(category_id=fruit.parent_id, sort="price_asc") == ["便宜苹果", "促销苹果", "昂贵苹果"]
    assert titles(category_id=fruit.id, sort="price_desc") == ["昂贵苹果", "促销苹果", "便宜苹果"]
    assert set(titles(min_price="15", max_price="40")) == {"别类苹果", "促销苹果"}  # the promotion price counts
    assert titles(promotion="1") == ["促销苹果"]
    assert set(titles(min_price="abc")) == {"便宜苹果", "昂贵苹果", "促销苹果", "别类苹果"}  # bad input is ignored
    newest = titles(sort="newest")
    assert len(newest) == 4
    html = client.get("/search", query_string={"q": "促销苹果"}).get_data(as_text=True)
    assert "¥50.00" in html and "限时促销" in html  # struck-through original beside the promotion price
    assert cheap.id and dear.id and promo.id


def test_pagination_and_infinite_scroll_partial(client, make_product, make_merchant, make_category):
    merchant, category = make_merchant(), make_category()
    for i in range(25):
        make_product(merchant=merchant, category=category, title=f"分页商品{i:02d}", sales=100 - i)
    html = client.get("/search?q=分页商品").get_data(as_text=True)
    assert html.count('class="product-card"') == 20
    assert 'hx-trigger="revealed"' in html and "page=2" in html
    partial = client.get("/search?q=分页商品&page=2", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body
    assert body.count('class="product-card"') == 5 and 'hx-trigger="revealed"' not in body and "没有更多了" in body
    # the shop page scrolls the same way
    html = client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    assert html.count('class="product-card"') == 20 and f"/shops/{merchant.id}?page=2" in html
    body = client.get(f"/shops/{merchant.id}?page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body.count('class="product-card"') == 5


def test_a_broad_list_counts_only_so_far_and_scrolling_counts_nothing(client, make_product, make_merchant,
                                                                       make_category, count_queries, monkeypatch):
    """Past `COUNT_UP_TO` products a list page says "N+" (its count reads no further, so it
    costs the same on any catalogue); the pages loaded by scrolling say only whether more
    follow, and count nothing."""
    from app.catalog import queries

    monkeypatch.setattr(queries, "COUNT_UP_TO", 4)  # the storefront's 2000, small enough to reach here
    merchant, category = make_merchant(), make_category()
    for i in range(4):
        make_product(merchant=merchant, category=category, title=f"封顶商品{i}")
    assert "共 4 件" in client.get("/search?q=封顶商品").get_data(as_text=True)
    make_product(merchant=merchant, category=category, title="封顶商品4")
    assert "共 4+ 件" in client.get("/search?q=封顶商品").get_data(as_text=True)
    assert "共 4+ 件" in client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    for path in ("/search?q=封顶商品&page=2", f"/shops/{merchant.id}?page=2"):
        with count_queries() as statements:
            assert client.get(path, headers={"HX-Request": "true"}).status_code == 200
        assert statements and not [s for s in statements if "count(" in s.lower()], path


def test_list_pages_run_a_fixed_number_of_queries(client, make_product, make_merchant, make_category, count_queries):
    merchant, category = make_merchant(), make_category()

    def run(path):
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    make_product(merchant=merchant, category=category, title="计数商品0")
    few = {p: run(p) for p in ("/search?q=计数", f"/shops/{merchant.id}", "/")}
    for i in range(1, 12):
        make_product(merchant=merchant, category=category, title=f"计数商品{i}")
    many = {p: run(p) for p in ("/search?q=计数", f"/shops/{merchant.id}", "/")}
    assert few == many


def test_search_is_recorded_with_an_anonymous_id(client, make_product):
    make_product(title="蓝牙耳机")
    resp = client.get("/search?q=耳机")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "aid=" in cookie  # the tracking cookie (app/web/shop/views_tracking.py)
    client.get("/search?q=耳机&sort=price_asc")
    with transaction():
        assert tracking.flush_buffer() == 2  # buffered in Redis like the client's events
    events = db.session.scalars(sa.select(Event).where(Event.type == "search")).all()
    assert [e.query for e in events] == ["耳机", "耳机"]
    assert events[0].anon_id and events[0].anon_id == events[1].anon_id and events[0].user_id is None
    client.get("/search?q=耳机&page=2", headers={"HX-Request": "true"})  # scrolling is not a new search
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 2


def test_product_page_shows_each_sku_price_and_stock(client, make_product):
    product = make_product(title="纯棉T恤", stocks=(12, 0), price_fen=9900, sales=23456)
    skus = db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id).order_by(Sku.id)).all()
    skus[1].price_fen = 10900
    db.session.commit()
    resp = client.get(f"/products/{product.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for text in ("纯棉T恤", "款0", "库存 12", "款1", "已售罄", "已售 2.3万", "¥", "109", "加入购物车", "进店逛逛",
                 f"/shops/{product.merchant_id}", "还没有评价"):
        assert text in html, text
    assert f'value="{skus[1].id}" class="visually-hidden" disabled' in html
    assert f'value="{skus[0].id}" class="visually-hidden" >' in html


def test_product_page_promotion_price_and_countdown(client, make_product):
    product = _promote(make_product(title="限时好物", price_fen=20000), 15000)
    html = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "限时促销" in html and "距结束" in html and "data-ends-at" in html
    assert "<s class=\"price-original\">¥200.00</s>" in html and "150" in html


def test_off_sale_product_and_closed_shop_answer_with_a_clear_page(client, make_product, make_merchant):
    off = make_product(title="已下架的商品", status="off_sale")
    resp = client.get(f"/products/{off.id}")
    assert resp.status_code == 404 and "商品已下架或不存在" in resp.get_data(as_text=True)
    assert client.get("/products/999999").status_code == 404
    merchant = make_merchant()
    hidden = make_product(merchant=merchant, title="关店的商品")
    db.session.get(Merchant, merchant.id).status = "closed"
    db.session.commit()
    assert client.get(f"/products/{hidden.id}").status_code == 404
    assert "关店的商品" not in client.get("/search?q=商品").get_data(as_text=True)
    assert "已下架的商品" not in client.get("/search?q=商品").get_data(as_text=True)


def test_inactive_category_hides_its_products_and_itself(client, make_product, make_category):
    leaf = make_category(name="停用小类")
    product = make_product(category=leaf, title="停用类目的商品")
    parent = db.session.get(Category, leaf.parent_id)
    top = db.session.get(Category, parent.parent_id)
    assert top.name in client.get("/categories").get_data(as_text=True)
    top.active = False
    db.session.commit()
    assert "停用类目的商品" not in client.get("/search?q=停用").get_data(as_text=True)
    assert client.get(f"/products/{product.id}").status_code == 404
    assert top.name not in client.get("/categories").get_data(as_text=True)
    assert top.name not in client.get("/").get_data(as_text=True)


def test_home_and_categories_show_the_catalogue(client, make_product, make_category):
    leaf = make_category(name="时令水果")
    parent = db.session.get(Category, leaf.parent_id)
    top = db.session.get(Category, parent.parent_id)
    top.icon = "basket2"
    db.session.commit()
    make_product(category=leaf, title="热卖橙子", sales=99999)
    _promote(make_product(category=leaf, title="促销芒果"), 1000)
    home = client.get("/").get_data(as_text=True)
    for text in (top.name, "bi-basket2", "限时促销", "促销芒果", "新品上架", "热卖橙子", "热销榜", "已售 10万"):
        assert text in home, text
    page = client.get(f"/categories?id={top.id}").get_data(as_text=True)
    assert top.name in page and parent.name in page and "时令水果" in page
    assert f"/search?category_id={leaf.id}" in page
    assert client.get("/categories?id=abc").status_code == 200


def test_homes_best_sellers_scroll_on_without_counting_the_catalogue(client, make_product, make_category,
                                                                    count_queries):
    """热销榜 shows 20 and a 加载更多 link when there are more, found by reading one product
    more than it shows instead of counting every visible product."""
    leaf = make_category()
    for n in range(20):
        make_product(category=leaf, title=f"热销{n:02d}", sales=100 + n)
    with count_queries() as statements:
        html = client.get("/").get_data(as_text=True)
    assert "热销19" in html and "热销00" in html and "加载更多" not in html
    assert not [s for s in statements if "count(" in s.lower()]
    make_product(category=leaf, title="热销冷门", sales=1)
    best_sellers = client.get("/").get_data(as_text=True).split("热销榜", 1)[1]
    assert "加载更多" in best_sellers and "热销冷门" not in best_sellers and "sort=sales&amp;page=2" in best_sellers
    second = client.get("/search?sort=sales&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "热销冷门" in second and "没有更多了" in second


def test_search_bar_posts_to_search(client):
    html = client.get("/").get_data(as_text=True)
    assert 'role="search" action="/search"' in html
