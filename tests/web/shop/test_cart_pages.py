"""Cart pages: adding from the product page, steppers, selection, removal, the
badge, warnings for lines that can no longer be bought, and refusals."""
import re

import sqlalchemy as sa

from app.catalog.models import Sku
from app.extensions import db
from app.orders.models import CartItem

HX = {"HX-Request": "true"}


def _lines(user):
    return {c.sku_id: (c.quantity, c.selected) for c in db.session.scalars(
        sa.select(CartItem).where(CartItem.user_id == user.id).execution_options(populate_existing=True))}


def test_add_from_product_page_over_htmx_updates_badge_and_toasts(client, make_user, login, make_product):
    user, product = make_user(), make_product(stocks=(5, 3))
    login(user)
    sku = product.skus[0]
    html = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert 'action="/cart/add"' in html and "即将开放" not in html and 'name="buy_now"' in html
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "2"}, headers=HX)
    assert response.status_code == 200
    assert "已加入购物车" in response.headers["HX-Trigger"].encode().decode("unicode_escape")
    body = response.get_data(as_text=True)
    assert 'id="cart-badge-tab"' in body and 'hx-swap-oob="true"' in body and ">1</sup>" in body
    client.post("/cart/add", data={"sku_id": sku.id, "quantity": "1"}, headers=HX)
    assert _lines(user) == {sku.id: (3, True)}
    # the badge counts lines, on every page's tab bar
    client.post("/cart/add", data={"sku_id": product.skus[1].id, "quantity": "1"})
    home = client.get("/").get_data(as_text=True)
    assert 'id="cart-badge-tab" class="badge rounded-pill bg-brand unread-badge"' in home
    assert client.get("/cart/badge").get_data(as_text=True).strip().endswith(">2</sup>")


def test_add_refusals_change_nothing(client, make_user, login, make_product):
    user = make_user()
    login(user)
    product = make_product(stocks=(3,))
    off_sale = make_product(status="off_sale")
    sku = product.skus[0]
    for data, message in (({"sku_id": sku.id, "quantity": "0"}, "数量必须大于 0"),
                          ({"sku_id": sku.id, "quantity": "-2"}, "数量必须大于 0"),
                          ({"sku_id": sku.id, "quantity": "4"}, "库存仅剩 3 件"),
                          ({"sku_id": sku.id, "quantity": "abc"}, "请输入正确的数量"),
                          ({"quantity": "1"}, "请选择规格"),
                          ({"sku_id": off_sale.skus[0].id, "quantity": "1"}, "商品已下架")):
        response = client.post("/cart/add", data=data, headers=HX)
        assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
        assert message in response.headers["HX-Trigger"].encode().decode("unicode_escape"), data
    assert _lines(user) == {}
    # a plain post flashes the reason and goes back to the product
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "9"},
                           headers={"Referer": f"http://localhost/products/{product.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/products/{product.id}")
    assert _lines(user) == {}


def _flashes(client):
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _next_of(location):
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(location)
    assert parts.path == "/login", location
    return parse_qs(parts.query)["next"][0]


def test_anonymous_add_keeps_the_choice_through_sign_in_and_adds_it(client, make_user, make_product):
    """A plain form post: sign in, then the line is in the cart and the product page
    shows the SKU and quantity that were chosen."""
    make_user(phone="13722220001")
    product = make_product(stocks=(5, 4))
    sku = product.skus[1]
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "2"})
    assert response.status_code == 302
    back = f"/products/{product.id}?sku={sku.id}&qty=2"
    assert _next_of(response.headers["Location"]) == back
    assert "请先登录，登录后商品会自动加入购物车" in _flashes(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0
    signed_in = client.post(response.headers["Location"],
                            data={"mode": "password", "account": "13722220001", "password": "secret123"})
    assert signed_in.headers["Location"] == back
    assert "已加入购物车（2 件）" in _flashes(client)
    user = db.session.scalar(sa.select(CartItem.user_id))
    assert {c.sku_id: c.quantity for c in db.session.scalars(sa.select(CartItem))} == {sku.id: 2} and user
    page = client.get(back).get_data(as_text=True)
    assert re.search(rf'name="sku_id" value="{sku.id}" class="visually-hidden"\s+checked>', page)
    assert page.count("checked>") == 1
    assert 'id="buy-quantity" name="quantity" value="2"' in page
    # the choice is used once: signing in again adds nothing more
    client.post("/logout")
    client.post("/login", data={"mode": "password", "account": "13722220001", "password": "secret123"})
    assert db.session.scalar(sa.select(CartItem.quantity).execution_options(populate_existing=True)) == 2


def test_anonymous_add_over_htmx_and_by_sms_sign_in(client, make_user, make_product, run_jobs, outbox):
    make_user(phone="13722220002")
    product = make_product(stocks=(5,))
    sku = product.skus[0]
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "3"},
                           headers={**HX, "Referer": f"http://localhost/products/{product.id}"})
    login_url = response.headers["HX-Redirect"]
    assert _next_of(login_url) == f"/products/{product.id}?sku={sku.id}&qty=3"
    client.post("/auth/sms-code", data={"phone": "13722220002", "purpose": "login"}, headers=HX)
    run_jobs()
    signed_in = client.post(login_url, data={"mode": "sms", "phone": "13722220002",
                                             "code": outbox.last_code("13722220002")})
    assert signed_in.headers["Location"] == f"/products/{product.id}?sku={sku.id}&qty=3"
    assert [(c.sku_id, c.quantity) for c in db.session.scalars(sa.select(CartItem))] == [(sku.id, 3)]


def test_anonymous_add_that_cannot_be_added_after_sign_in_says_why(client, make_user, make_product):
    make_user(phone="13722220003")
    product = make_product(stocks=(5,))
    sku = product.skus[0]
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "4"})
    db.session.execute(sa.update(Sku).where(Sku.id == sku.id).values(stock=1))  # sold meanwhile
    db.session.commit()
    signed_in = client.post(response.headers["Location"],
                            data={"mode": "password", "account": "13722220003", "password": "secret123"})
    assert signed_in.headers["Location"] == f"/products/{product.id}?sku={sku.id}&qty=4"
    assert any("库存仅剩 1 件" in m for m in _flashes(client))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0


def test_anonymous_buy_now_signs_in_then_goes_to_checkout(client, make_user, make_product):
    make_user(phone="13722220004")
    sku = make_product(stocks=(5,)).skus[0]
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "2", "buy_now": "1"}, headers=HX)
    checkout = f"/checkout?sku_id={sku.id}&quantity=2"
    assert _next_of(response.headers["HX-Redirect"]) == checkout
    signed_in = client.post(response.headers["HX-Redirect"],
                            data={"mode": "password", "account": "13722220004", "password": "secret123"})
    assert signed_in.headers["Location"] == checkout
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0  # 立即购买 skips the cart


def test_anonymous_add_with_a_bad_choice_still_goes_to_sign_in(client, make_product):
    product = make_product()
    referer = {"Referer": f"http://localhost/products/{product.id}"}
    for data in ({"quantity": "1"}, {"sku_id": "x", "quantity": "1"}, {"sku_id": "99999999999999999999"},
                 {"sku_id": product.skus[0].id, "quantity": "abc"}):
        response = client.post("/cart/add", data=data, headers=referer)
        assert response.status_code == 302 and _next_of(response.headers["Location"]) == f"/products/{product.id}"
    with client.session_transaction() as session:
        assert "pending_cart" not in session
    prompt = client.get("/cart").get_data(as_text=True)  # the tab shows a sign-in prompt
    assert "登录后可以查看购物车" in prompt and "/login?next=/cart" in prompt
    assert client.post("/cart/select-all", data={"selected": "1"}).status_code == 302


def test_buy_now_goes_to_checkout_with_just_that_sku(client, make_user, login, make_product):
    login(make_user())
    sku = make_product(stocks=(5,)).skus[0]
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "2", "buy_now": "1"}, headers=HX)
    assert response.headers["HX-Redirect"] == f"/checkout?sku_id={sku.id}&quantity=2"
    response = client.post("/cart/add", data={"sku_id": sku.id, "quantity": "2", "buy_now": "1"})
    assert response.headers["Location"].endswith(f"/checkout?sku_id={sku.id}&quantity=2")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0


def _fill(client, *skus_and_quantities):
    for sku, quantity in skus_and_quantities:
        assert client.post("/cart/add", data={"sku_id": sku.id, "quantity": quantity}).status_code == 302


def test_cart_page_groups_by_shop_steppers_and_totals(client, make_user, login, make_product, make_merchant):
    user = make_user()
    login(user)
    shop_a, shop_b = make_merchant(name="甲店"), make_merchant(name="乙店")
    a = make_product(merchant=shop_a, title="甲店苹果", price_fen=1000, stocks=(5,)).skus[0]
    b = make_product(merchant=shop_b, title="乙店香蕉", price_fen=250, stocks=(9,)).skus[0]
    _fill(client, (a, 1), (b, 2))
    html = client.get("/cart").get_data(as_text=True)
    assert "甲店" in html and "乙店" in html and "甲店苹果" in html
    assert "已选 3 件" in html and "¥</small><span class=\"price-yuan\">15</span>" in html
    item_a = db.session.scalar(sa.select(CartItem).where(CartItem.sku_id == a.id))
    # the + button sends the shown quantity and a step; the partial redraws the totals
    response = client.post(f"/cart/items/{item_a.id}/quantity", data={"quantity": "1", "step": "1"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="cart"' in body
    assert "已选 4 件" in body and 'id="cart-badge-tab"' in body
    client.post(f"/cart/items/{item_a.id}/quantity", data={"quantity": "4"}, headers=HX)
    assert _lines(user)[a.id] == (4, True)
    # above stock, zero, negative: refused with the reason, the quantity stays
    for quantity, message in (("6", "库存仅剩 5 件"), ("0", "数量必须大于 0"), ("-1", "数量必须大于 0")):
        response = client.post(f"/cart/items/{item_a.id}/quantity", data={"quantity": quantity}, headers=HX)
        assert message in response.headers["HX-Trigger"].encode().decode("unicode_escape")
        assert "已选 6 件" in response.get_data(as_text=True)
    assert _lines(user)[a.id] == (4, True)
    # a plain post works too
    response = client.post(f"/cart/items/{item_a.id}/quantity", data={"quantity": "2"})
    assert response.status_code == 302 and _lines(user)[a.id] == (2, True)


def test_select_line_shop_and_all_then_remove(client, make_user, login, make_product, make_merchant):
    user = make_user()
    login(user)
    shop = make_merchant()
    a = make_product(merchant=shop, price_fen=1000).skus[0]
    b = make_product(merchant=shop, price_fen=2000).skus[0]
    c = make_product(price_fen=4000).skus[0]
    _fill(client, (a, 1), (b, 1), (c, 1))
    item_a = db.session.scalar(sa.select(CartItem).where(CartItem.sku_id == a.id))
    body = client.post(f"/cart/items/{item_a.id}/select", data={"selected": "0"}, headers=HX).get_data(as_text=True)
    assert "已选 2 件" in body and _lines(user)[a.id] == (1, False)
    body = client.post(f"/cart/shops/{shop.id}/select", data={"selected": "0"}, headers=HX).get_data(as_text=True)
    assert "已选 1 件" in body and _lines(user)[b.id] == (1, False) and _lines(user)[c.id] == (1, True)
    body = client.post("/cart/select-all", data={"selected": "1"}, headers=HX).get_data(as_text=True)
    assert "已选 3 件" in body and all(selected for _q, selected in _lines(user).values())
    body = client.post("/cart/select-all", data={"selected": "0"}, headers=HX).get_data(as_text=True)
    assert "已选 0 件" in body and "disabled>结算" in body.replace("\n", "").replace(" disabled>", " disabled>")
    body = client.post(f"/cart/items/{item_a.id}/remove", headers=HX).get_data(as_text=True)
    assert a.id not in _lines(user) and ">2</sup>" in body  # badge redrawn out of band
    client.post("/cart/select-all", data={"selected": "1"})
    for sku in (b, c):
        item = db.session.scalar(sa.select(CartItem).where(CartItem.sku_id == sku.id))
        client.post(f"/cart/items/{item.id}/remove")
    assert "购物车还是空的" in client.get("/cart").get_data(as_text=True)


def test_someone_elses_cart_line_is_404_and_unchanged(client, make_user, login, make_product):
    owner, other = make_user(), make_user()
    sku = make_product(stocks=(9,)).skus[0]
    db.session.add(CartItem(user_id=owner.id, sku_id=sku.id, quantity=2, selected=True))
    db.session.commit()
    item = db.session.scalar(sa.select(CartItem).where(CartItem.user_id == owner.id))
    login(other)
    assert client.post(f"/cart/items/{item.id}/quantity", data={"quantity": "5"}).status_code == 404
    assert client.post(f"/cart/items/{item.id}/select", data={"selected": "0"}).status_code == 404
    assert client.post(f"/cart/items/{item.id}/remove").status_code == 404
    response = client.post(f"/cart/items/{item.id}/remove", headers=HX)
    assert "购物车中没有该商品" in response.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert client.post("/cart/items/abc/remove").status_code == 404
    assert _lines(owner) == {sku.id: (2, True)}


def test_warnings_for_off_sale_sold_out_and_above_stock(client, make_user, login, make_product):
    user = make_user()
    login(user)
    gone, empty, short, fine = (make_product(title=t, stocks=(5,)) for t in ("下架商品", "售罄商品", "库存紧张", "正常商品"))
    _fill(client, (gone.skus[0], 1), (empty.skus[0], 2), (short.skus[0], 4), (fine.skus[0], 1))
    gone.status = "off_sale"
    db.session.execute(sa.update(Sku).where(Sku.id == empty.skus[0].id).values(stock=0))
    db.session.execute(sa.update(Sku).where(Sku.id == short.skus[0].id).values(stock=2))
    db.session.commit()
    html = client.get("/cart").get_data(as_text=True)
    assert "商品已下架" in html and "已售罄" in html and "库存仅剩 2 件" in html
    assert "有 3 件商品当前无法购买" in html
    assert "已选 1 件" in html  # only the buyable line counts


def test_cart_page_query_count_does_not_grow_with_lines(client, make_user, login, make_product, count_queries):
    user = make_user()
    login(user)
    _fill(client, (make_product().skus[0], 1))
    with count_queries() as one:
        assert client.get("/cart").status_code == 200
    for _i in range(4):
        _fill(client, (make_product().skus[0], 1))
    with count_queries() as five:
        html = client.get("/cart").get_data(as_text=True)
    assert html.count("cart-line") >= 5
    assert len(five) == len(one), (len(one), len(five))
