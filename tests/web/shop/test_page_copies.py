"""Pages for visitors without a session, answered from the web process's memory before
Flask runs (app/web/shop/page_copies.py): shared by every such visitor, nothing per visitor
in them, a token on demand that passes CSRF, changes shown at once from this process and
within PAGE_COPY_SECONDS from another, searches still recorded."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from flask import request

from app.analytics import tracking
from app.catalog import product_form, products
from app.catalog.models import Product, Sku
from app.core.db import transaction
from app.extensions import db
from tests.web.shop.conftest import form
from tests.web.shop.test_page_cache import page, prices, token_in, with_session

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@pytest.fixture(autouse=True)
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", True)


@pytest.fixture
def flask_saw(app, monkeypatch):
    """The paths of the requests that reached Flask (its first before-request hook) during
    the test: an answer from a copy is made before Flask, so it is not among them."""
    seen: list[str] = []
    monkeypatch.setitem(app.before_request_funcs, None,
                        [lambda: seen.append(request.full_path.rstrip("?")), *app.before_request_funcs.get(None, [])])
    return seen


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_visitors_without_a_session_share_one_copy_answered_before_flask(app, listed, count_queries, flask_saw):
    product = listed[0]
    for path in ("/", "/categories", "/search?q=缓存测试", f"/products/{product.id}"):
        reached = len(flask_saw)
        first = app.test_client().get(path, headers={"User-Agent": BROWSER})
        assert len(flask_saw) == reached + 1  # rendered (or taken from the page cache) by Flask
        assert first.status_code == 200 and token_in(first.get_data(as_text=True)) == ""
        assert "session=" not in " ".join(first.headers.getlist("Set-Cookie"))  # nothing kept for this visitor
        reached += 1
        with count_queries() as statements:
            second = app.test_client().get(path, headers={"User-Agent": BROWSER})
        assert statements == [] and len(flask_saw) == reached, path  # neither PostgreSQL nor Flask
        assert second.data == first.data and second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
        same = ("Content-Type", "Content-Length", "Content-Security-Policy", "X-Frame-Options", "Vary")
        assert [second.headers.get(h) for h in same] == [first.headers.get(h) for h in same]
    # Only the tracking id may come along: the copy is still answered.
    with count_queries() as statements:
        answer = app.test_client().get("/", headers={"Cookie": "aid=" + "a" * 32})
    assert statements == [] and answer.status_code == 200


def test_a_visitor_with_a_session_signed_in_or_in_english_is_never_given_the_copy(app, listed, make_user, login):
    product = listed[0]
    path = f"/products/{product.id}"
    shared = page(app.test_client(), path)
    visitor = with_session(app.test_client())
    own = page(visitor, path)
    assert token_in(own) and own.replace(token_in(own), "") == shared
    signed_in = login(make_user(), on=app.test_client())
    assert "/login" in shared and "/login" not in page(signed_in, path)
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert 'lang="en"' in page(english, path) and 'lang="zh-CN"' in shared
    # Nor are requests the page does not share: HTMX, made-up arguments, a 404, another host.
    assert app.extensions["page_copies"].copies
    kept = set(app.extensions["page_copies"].copies)
    app.test_client().get("/?utm_source=x")
    app.test_client().get("/search?q=x", headers={"HX-Request": "true"})
    app.test_client().get("/products/999999")
    assert app.test_client().get("/", headers={"Host": "evil.example"}).status_code == 400  # TRUSTED_HOSTS
    assert set(app.extensions["page_copies"].copies) == kept


def test_the_token_on_demand_passes_csrf_and_starts_the_session(app, listed, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    product = listed[0]
    sku_id = db.session.scalar(sa.select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
    visitor = app.test_client()
    html = page(visitor, f"/products/{product.id}")
    assert token_in(html) == "" and 'name="csrf_token" value=""' in html and visitor.get_cookie("session") is None
    line = {"sku_id": sku_id, "quantity": "1"}
    assert visitor.post("/cart/add", data=line).status_code == 400  # the page alone cannot post
    # Without JavaScript: the refusal (页面已过期) starts the session, so a reload carries a token.
    assert visitor.get_cookie("session") is not None and token_in(page(visitor, f"/products/{product.id}"))
    visitor = app.test_client()
    answer = visitor.get("/csrf-token")
    token = answer.get_json()["token"]
    assert answer.headers["Cache-Control"] == "no-store" and visitor.get_cookie("session") is not None
    accepted = visitor.post("/cart/add", data={**line, "csrf_token": token})
    assert accepted.status_code == 302 and "/login" in accepted.headers["Location"]  # signed out: sign in first
    assert token_in(page(visitor, f"/products/{product.id}")) == token  # from now on the page carries it


def test_a_change_made_here_shows_at_once(client, listed):
    product, owner, merchant, category = listed
    path = f"/products/{product.id}"
    assert "59.90" in prices(page(client, path)) and "59.90" in prices(page(client, "/search?q=缓存测试"))
    with transaction():
        products.save(owner, merchant.id, product_form.read(form(category.id, price="39.90")), product_id=product.id)
    assert "39.90" in prices(page(client, path)) and "39.90" in prices(page(client, "/search?q=缓存测试"))


def test_a_change_made_in_another_process_shows_within_the_copy_life(app, client, listed, redis_client,
                                                                       monkeypatch):
    """Another web process commits a change and moves the generations on in Redis; this
    process's copy is answered until it is PAGE_COPY_SECONDS old, then the page is new."""
    monkeypatch.setitem(app.config, "PAGE_COPY_SECONDS", 0.5)
    product = listed[0]
    path = f"/products/{product.id}"
    assert "缓存测试T恤" in page(client, path)
    kept_at = time.monotonic()
    # What the other process did: the row, then its after-commit bump (not this process's).
    db.session.execute(sa.update(Product).where(Product.id == product.id).values(title="另一进程改的标题"))
    db.session.commit()
    redis_client.incr(f"pc:gen:p:{product.id}")
    redis_client.incr("pc:gen:listing")
    html = page(client, path)
    if time.monotonic() - kept_at < 0.5:  # the copy was still young when it answered
        assert "另一进程改的标题" not in html
    wait_for(lambda: "另一进程改的标题" in page(client, path))
    assert time.monotonic() - kept_at < 3


def test_a_search_answered_from_a_copy_is_still_recorded(app, listed, redis_client, flask_saw):
    """Held in process and kept with the others within HELD_SEARCH_SECONDS (a timer)."""
    path = "/search?q=缓存测试"
    page(app.test_client(), path)
    before, reached = redis_client.llen(tracking.BUFFER_KEY), len(flask_saw)
    visitor = app.test_client()
    answer = visitor.get(path, headers={"User-Agent": BROWSER})
    assert answer.status_code == 200 and len(flask_saw) == reached  # answered from the copy
    wait_for(lambda: redis_client.llen(tracking.BUFFER_KEY) == before + 1)
    aid = visitor.get_cookie("aid")
    assert aid is not None and tracking.valid_anon_id(aid.value) and aid.http_only
    event = json.loads(redis_client.lindex(tracking.BUFFER_KEY, -1))
    assert (event["query"], event["props"]["results"], event["anon_id"]) == ("缓存测试", 1, aid.value)
    # A visitor asking not to be tracked: answered, not recorded, no cookie.
    quiet = app.test_client()
    assert quiet.get(path, headers={"User-Agent": BROWSER, "DNT": "1"}).status_code == 200
    app.extensions["held_searches"].push_now()
    assert redis_client.llen(tracking.BUFFER_KEY) == before + 1 and quiet.get_cookie("aid") is None


def test_held_searches_are_kept_together_and_in_order(app, redis_client):
    """A full batch goes at once; what is left goes with the timer, in order."""
    from app.analytics.held_events import HeldEvents

    held = HeldEvents(app, seconds=0.3, most=3)
    for n in range(5):
        held.add(tracking.search_row(f"词{n}", n, user_id=None, anon_id=None, path="/search"))
    assert redis_client.llen(tracking.BUFFER_KEY) == 3  # the full batch; two held
    wait_for(lambda: redis_client.llen(tracking.BUFFER_KEY) == 5)
    kept = [json.loads(item)["query"] for item in redis_client.lrange(tracking.BUFFER_KEY, 0, -1)]
    assert kept == [f"词{n}" for n in range(5)]


def test_each_process_keeps_at_most_page_copy_limit_pages(app, monkeypatch, listed):
    monkeypatch.setitem(app.config, "PAGE_COPY_LIMIT", 3)
    for n in range(6):
        page(app.test_client(), f"/search?q=词{n}")
    kept = sorted(key[3].encode("latin-1").decode() for key in app.extensions["page_copies"].copies)  # WSGI strings
    assert kept == ["q=词3", "q=词4", "q=词5"]  # the oldest went
