"""The storefront's page cache (app/core/page_cache.py) on the test Redis: pages are served
from it, every change made through the services shows on the next request, nobody sees
another visitor's data through it, and a dead Redis only costs a render."""
from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from app.catalog import categories, product_form, product_sale, products
from app.catalog.models import Category, Product, Sku
from app.core.db import transaction
from app.extensions import db
from app.inventory import services as stock
from app.orders import cart
from tests.web.shop.conftest import form


@pytest.fixture(autouse=True)
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", True)


def page(client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, path
    return resp.get_data(as_text=True)


def prices(html: str) -> str:
    """The page's text without tags (a price is drawn as ¥<span>59</span>.90)."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def with_session(client):
    """A visitor holding a session (signed out): the one cookie-less first visits lack."""
    assert client.get("/csrf-token").status_code == 200
    return client


def token_in(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]*)"', html).group(1)


def catalogue_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\b(product|sku|category|merchant|flash_sale\w*)\b", s)]


def test_a_warm_cache_serves_the_pages_without_catalogue_queries(client, listed, count_queries, redis_client):
    product = listed[0]
    paths = ("/", "/categories", "/search?sort=newest", f"/products/{product.id}")
    for path in paths:
        page(client, path)
    for path in paths:
        with count_queries() as statements:
            page(client, path)
        assert catalogue_queries(statements) == [], path
    # Made-up arguments are not kept as pages of their own: rendered from the fragments.
    stored = len(redis_client.keys("pc:page:*"))
    with count_queries() as statements:
        page(client, "/?utm_source=x")
    assert catalogue_queries(statements) == [] and len(redis_client.keys("pc:page:*")) == stored
    # A row written behind the services' back is not seen: the page did come from the cache.
    db.session.execute(sa.update(Product).where(Product.id == product.id).values(title="绕过服务的标题"))
    db.session.commit()
    assert "绕过服务的标题" not in page(client, f"/products/{product.id}")


def test_the_product_page_puts_the_per_visitor_parts_in_their_places(client, listed):
    html = page(client, f"/products/{listed[0].id}")
    assert "live--" not in html
    order = [html.index(marker) for marker in ('class="price-block', 'class="product-page-title"', 'id="spec-sheet"',
                                               'shop-card', 'id="reviews"', "product-description",
                                               "product-action-bar")]
    assert order == sorted(order)


def test_a_price_change_shows_at_once(client, listed):
    product, owner, merchant, category = listed
    for path in ("/", f"/products/{product.id}", "/search?q=缓存测试"):
        assert "59.90" in prices(page(client, path))
    with transaction():
        products.save(owner, merchant.id, product_form.read(form(category.id, price="39.90")), product_id=product.id)
    for path in ("/", f"/products/{product.id}", "/search?q=缓存测试"):
        html = prices(page(client, path))
        assert "39.90" in html and "59.90" not in html, path


def test_sold_out_shows_after_the_last_unit_goes_and_goes_after_restock(client, listed, make_user, place_order):
    product, owner, merchant, category = listed
    skus = db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id).order_by(Sku.id)).all()
    with transaction():
        stock.set_stock(skus[1].id, 0, owner.id, None)
        stock.set_stock(skus[0].id, 1, owner.id, None)
    path = f"/products/{product.id}"
    assert "该商品已售罄" not in page(client, path)
    place_order(make_user(), [(skus[0].id, 1)])  # checkout reserves the last unit
    assert "该商品已售罄" in page(client, path)
    with transaction():
        stock.adjust(skus[0].id, 5, owner.id, "补货")
    html = page(client, path)
    assert "该商品已售罄" not in html and "库存 5" in html


def test_a_stock_change_that_crosses_nothing_keeps_the_cache(client, listed):
    """Selling one of ten does not empty the cache (the count shown may lag its timeout)."""
    product, owner = listed[0], listed[1]
    sku_id = db.session.scalar(sa.select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
    assert "库存 10" in page(client, f"/products/{product.id}")
    with transaction():
        stock.adjust(sku_id, -1, owner.id, None)
    html = page(client, f"/products/{product.id}")
    assert "库存 10" in html and "库存 9" not in html


def test_off_sale_product_404s_and_leaves_home_and_search_at_once(client, listed):
    product, owner, merchant, _ = listed
    for path in ("/", "/search?q=缓存测试", f"/products/{product.id}"):
        assert product.title in page(client, path)
    with transaction():
        product_sale.delist(owner, merchant.id, product.id)
    assert client.get(f"/products/{product.id}").status_code == 404
    assert product.title not in page(client, "/")
    assert "没有找到相关商品" in page(client, "/search?q=缓存测试")


def test_a_category_rename_shows_at_once(client, listed, make_user):
    category = listed[3]
    top_id = db.session.get(Category, category.parent_id).parent_id
    admin = make_user(admin_role="operator")
    assert "缓存类目" in page(client, f"/categories?id={top_id}")
    with transaction():
        categories.update(admin, category.id, "改名后的类目", None)
    assert "改名后的类目" in page(client, f"/categories?id={top_id}")
    with transaction():
        categories.update(admin, top_id, "改名后的大类", None)
    assert "改名后的大类" in page(client, "/")


def test_no_visitor_sees_another_visitors_data_through_the_cache(app, listed, make_user, login):
    product = listed[0]
    sku_id = db.session.scalar(sa.select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
    alice, bob = make_user(), make_user()
    with transaction():
        cart.add(alice.id, sku_id, 3)
    as_alice, as_bob, anonymous = (login(alice, on=app.test_client()), login(bob, on=app.test_client()),
                                   with_session(app.test_client()))
    path = f"/products/{product.id}?sku={sku_id}&qty=2"
    alice_html = page(as_alice, path)  # fills the cache
    assert 'id="cart-badge-nav"' in alice_html and re.search(r'cart-badge-nav[^>]*>\s*1\s*<', alice_html)
    for path_ in ("/", path):
        page(as_alice, path_)
    bob_html, anon_html = page(as_bob, path), page(anonymous, path)
    assert not re.search(r'cart-badge-nav[^>]*>\s*1\s*<', bob_html)
    assert "/login" in anon_html and "/login" not in bob_html  # each sees their own sign-in state
    # Two signed-out visitors get the same stored page, each with their own CSRF token,
    # and a visitor without a session the same page with none.
    other_anon_html = page(with_session(app.test_client()), path)
    tokens = [re.search(r'name="csrf-token" content="([^"]+)"', h).group(1)
              for h in (alice_html, bob_html, anon_html, other_anon_html)]
    assert len(set(tokens)) == 4 and "csrf-token" not in tokens[3]
    assert other_anon_html.replace(tokens[3], "") == anon_html.replace(tokens[2], "")
    assert page(app.test_client(), path) == anon_html.replace(tokens[2], "")
    # ?sku=&qty= picks the choice for that request only
    assert 'value="2"' in anon_html and 'value="2"' not in page(anonymous, f"/products/{product.id}")


def test_pages_render_while_redis_is_down(redis_server, app_on, listed):
    product = listed[0]
    shop = app_on(redis_server, PAGE_CACHE_ENABLED=True, REDIS_CONNECT_TIMEOUT_SECONDS=0.2,
                  REDIS_SOCKET_TIMEOUT_SECONDS=0.3, RATELIMIT_ENABLED=False)
    client = shop.test_client()
    paths = ("/", "/categories", "/search?q=缓存测试", f"/products/{product.id}")
    for path in paths:
        assert product.title in page(client, path) or path == "/categories"
    redis_server.kill()
    started = time.monotonic()
    for path in paths:
        html = page(client, path)
        assert path == "/categories" or product.title in html
    assert time.monotonic() - started < 3  # one failed try, then no more waiting on Redis


def test_product_page_queries_do_not_grow_with_skus_or_catalogue(client, make_product, make_merchant, count_queries):
    merchant = make_merchant()
    small = make_product(merchant=merchant, stocks=(1,))
    big = make_product(merchant=merchant, stocks=tuple(range(1, 13)))

    def cold(path):
        with count_queries() as statements:
            page(client, path)
        return len(statements)

    first = cold(f"/products/{small.id}")
    for _ in range(10):
        make_product(merchant=merchant)
    assert cold(f"/products/{big.id}") == first


def test_a_stored_page_gives_each_visitor_with_a_session_a_working_csrf_token(app, listed, monkeypatch,
                                                                              count_queries):
    """The stored copy is cut where the token was; each answer has the visitor's own token
    in every place, and it passes CSRF on the visitor's next POST (and another visitor's
    does not)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    product = listed[0]
    sku_id = db.session.scalar(sa.select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
    path = f"/products/{product.id}"
    miss = with_session(app.test_client()).get(path)  # rendered and stored
    rendered = miss.get_data(as_text=True)
    visitor, other = with_session(app.test_client()), with_session(app.test_client())
    with count_queries() as statements:
        hit = visitor.get(path)
    assert catalogue_queries(statements) == []  # it came from the store
    html = hit.get_data(as_text=True)
    assert hit.status_code == 200 and hit.headers["Content-Type"] == miss.headers["Content-Type"] == "text/html; charset=utf-8"
    token, first = token_in(html), token_in(rendered)
    assert token != first and html.count(token) == rendered.count(first) >= 3  # meta, hx-headers, the buy form
    assert html.replace(token, "") == rendered.replace(first, "")
    other_token = token_in(page(other, path))
    assert other_token != token
    line = {"sku_id": sku_id, "quantity": "1"}
    assert visitor.post("/cart/add", data=line).status_code == 400  # no token
    assert visitor.post("/cart/add", data={**line, "csrf_token": other_token}).status_code == 400
    accepted = visitor.post("/cart/add", data={**line, "csrf_token": token})
    assert accepted.status_code == 302 and "/login" in accepted.headers["Location"]  # signed out: sign in first


def test_one_copy_per_page_and_a_copy_made_before_a_change_is_never_served(app, client, listed, redis_client):
    """A stored page carries the generations read before it was rendered. A render that
    read them before a change and is stored after it (a reader racing a commit) is not
    served: the next visitor gets the page rendered again. And a change replaces the copy
    rather than leaving one per generation behind."""
    from app.core import page_cache
    from app.web.shop.full_pages import SLOT

    product, owner, merchant, category = listed
    path = f"/products/{product.id}"
    assert "59.90" in prices(page(client, path))
    stored = len(redis_client.keys("pc:page:*"))
    with transaction():
        products.save(owner, merchant.id, product_form.read(form(category.id, price="39.90")), product_id=product.id)
    assert "39.90" in prices(page(client, path)) and len(redis_client.keys("pc:page:*")) == stored
    # The racing reader: generations read (a miss is prepared), then a change commits, then
    # the page it rendered from the rows before the change is stored.
    with app.test_request_context(path):
        from flask import g

        g.page_cache_ttl = 60
        slot, _ = page_cache.page_lookup("shop.product_page", [], product.id)
        with transaction():
            products.save(owner, merchant.id, product_form.read(form(category.id, price="29.90")),
                          product_id=product.id)
        page_cache.page_store(slot, {"parts": [b"<html>stale 39.90</html>"], "search": None})
        g.pop(SLOT, None)
    html = page(client, path)
    assert "stale" not in html and "29.90" in prices(html)


def test_the_embedded_defaults_in_process_cache_serves_whole_pages_too(app, listed, monkeypatch):
    """No Redis (`make run`): the same lookup (one get_many) on the in-process SimpleCache."""
    from app import create_app
    from app.config import TestConfig
    from app.extensions import limiter

    embedded = create_app(TestConfig, REDIS_URL=None, RATELIMIT_STORAGE_URI="memory://", JOBS_INLINE=True,
                          PAGE_CACHE_ENABLED=True, HELD_SEARCH_SECONDS=3600)  # see tests/redis_server.py's app_on
    try:
        path = f"/products/{listed[0].id}"
        first = page(with_session(embedded.test_client()), path)

        def not_rendered(**kwargs):
            raise AssertionError("the stored page should have answered")

        monkeypatch.setitem(embedded.view_functions, "shop.product_page", not_rendered)
        second = page(with_session(embedded.test_client()), path)
        tokens = [token_in(h) for h in (first, second)]
        assert tokens[0] != tokens[1] and second.replace(tokens[1], "") == first.replace(tokens[0], "")
    finally:
        embedded.extensions["held_searches"].push_now()
        limiter.init_app(app)  # Flask-Limiter keeps the last app's storage: give the session app its own back
