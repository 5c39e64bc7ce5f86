"""Checkout pages: the quote from the cart or 立即购买, submitting into orders and
the sandbox pay page, idempotent double submits, refusals that create nothing,
the sandbox page and the payment result."""
import re

import sqlalchemy as sa

from app.catalog.models import Sku
from app.extensions import db
from app.orders.models import CartItem, Order
from app.payments.models import Payment

HX = {"HX-Request": "true"}


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _form(html):
    """The checkout form's fields as the page rendered them (checked radios only)."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or ('type="radio"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    return data


def _shop_with_goods(make_merchant, make_product, **merchant_fields):
    shop = make_merchant(name="水果铺", shipping_flat_fen=800, free_shipping_threshold_fen=10000, **merchant_fields)
    return shop, make_product(merchant=shop, title="赣南脐橙", price_fen=3000, stocks=(5, 2))


def test_checkout_from_cart_shows_quote_and_submit_goes_to_sandbox(client, make_user, login, make_merchant,
                                                                  make_product, make_address):
    user = make_user()
    login(user)
    make_address(user, recipient="李四", is_default=False)
    home = make_address(user, recipient="王小明", is_default=True)
    shop, product = _shop_with_goods(make_merchant, make_product)
    other = make_product(title="机械键盘", price_fen=20000)
    for sku, quantity in ((product.skus[0], 2), (other.skus[0], 1)):
        client.post("/cart/add", data={"sku_id": sku.id, "quantity": quantity})
    page = client.get("/checkout")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "赣南脐橙" in html and "机械键盘" in html and "水果铺" in html
    assert "¥8.00" in html and "包邮" in html  # 60 yuan < 100 threshold: 8 yuan; the other shop ships free
    assert f'name="note_{shop.id}"' in html and "沙箱支付" in html
    form = _form(html)
    assert form["address_id"] == str(home.id) and form["provider"] == "sandbox" and re.fullmatch(r"[0-9a-f]{32}", form["key"])
    assert form["amount_fen"] == str(6000 + 800 + 20000)
    form[f"note_{shop.id}"] = "请挑大个的"
    response = client.post("/checkout", data=form)
    payment = db.session.scalar(sa.select(Payment).where(Payment.buyer_id == user.id))
    assert response.status_code == 302 and response.headers["Location"] == f"/payments/sandbox/{payment.out_trade_no}"
    assert payment.provider == "sandbox" and payment.amount_fen == 26800
    orders = db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id).order_by(Order.id)).all()
    assert len(orders) == 2 and {o.note for o in orders} == {"请挑大个的", ""}
    assert all(o.address["recipient"] == "王小明" for o in orders)
    assert _count(CartItem) == 0  # bought lines leave the cart
    # the same submit again (double click, reload): the same payment, nothing new
    again = client.post("/checkout", data=form)
    assert again.headers["Location"] == f"/payments/sandbox/{payment.out_trade_no}"
    assert _count(Payment) == 1 and _count(Order) == 2


def test_buy_now_checkout_is_just_that_sku_and_leaves_the_cart(client, make_user, login, make_merchant,
                                                               make_product, make_address):
    user = make_user()
    login(user)
    make_address(user)
    _shop, product = _shop_with_goods(make_merchant, make_product)
    in_cart = make_product(title="购物车里的东西").skus[0]
    client.post("/cart/add", data={"sku_id": in_cart.id, "quantity": 1})
    html = client.get(f"/checkout?sku_id={product.skus[1].id}&quantity=2").get_data(as_text=True)
    assert "赣南脐橙" in html and "购物车里的东西" not in html and "×2" in html
    form = _form(html)
    assert form["sku_id"] == str(product.skus[1].id) and form["quantity"] == "2"
    response = client.post("/checkout", data=form)
    assert response.status_code == 302 and "/payments/sandbox/" in response.headers["Location"]
    assert _count(CartItem) == 1  # buy-now never touches the cart
    assert db.session.scalar(sa.select(Sku.stock).where(Sku.id == product.skus[1].id)) == 0  # reserved on order


def test_out_of_stock_rerenders_naming_the_sku_and_creates_nothing(client, make_user, login, make_merchant,
                                                                   make_product, make_address):
    user = make_user()
    login(user)
    make_address(user)
    _shop, product = _shop_with_goods(make_merchant, make_product)
    sku = product.skus[0]
    form = _form(client.get(f"/checkout?sku_id={sku.id}&quantity=3").get_data(as_text=True))
    db.session.execute(sa.update(Sku).where(Sku.id == sku.id).values(stock=1))  # someone else bought them
    db.session.commit()
    response = client.post("/checkout", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "库存不足" in html and "赣南脐橙（款0）" in html and "仅剩 1 件" in html
    assert _form(html)["key"] == form["key"]  # the same key: a retry still dedupes
    assert _count(Payment) == 0 and _count(Order) == 0
    assert db.session.scalar(sa.select(Sku.stock).where(Sku.id == sku.id)) == 1


def test_off_sale_meanwhile_is_named_and_nothing_created(client, make_user, login, make_product, make_address):
    user = make_user()
    login(user)
    make_address(user)
    product = make_product(title="突然下架的商品", price_fen=1000)
    form = _form(client.get(f"/checkout?sku_id={product.skus[0].id}&quantity=1").get_data(as_text=True))
    product.status = "off_sale"
    db.session.commit()
    response = client.post("/checkout", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "已下架" in html and "突然下架的商品" in html
    assert _count(Payment) == 0


def test_someone_elses_address_and_bad_fields_are_refused(client, make_user, login, make_product, make_address):
    user, stranger = make_user(), make_user()
    login(user)
    make_address(user)
    theirs = make_address(stranger, recipient="陌生人")
    sku = make_product().skus[0]
    form = _form(client.get(f"/checkout?sku_id={sku.id}&quantity=1").get_data(as_text=True))
    response = client.post("/checkout", data={**form, "address_id": theirs.id})
    assert response.status_code == 422 and "请选择收货地址" in response.get_data(as_text=True)
    assert "陌生人" not in response.get_data(as_text=True)
    response = client.post("/checkout", data={**form, "provider": "bitcoin"})
    assert response.status_code == 422 and "请选择支付方式" in response.get_data(as_text=True)
    response = client.post("/checkout", data={**form, "key": "短"})
    assert response.status_code == 422 and "提交标识无效" in response.get_data(as_text=True)
    response = client.post("/checkout", data={**form, "quantity": "0"})
    assert response.status_code == 302  # back to the cart with the reason
    assert _count(Payment) == 0 and _count(Order) == 0


def test_price_change_between_page_and_submit_asks_again(client, make_user, login, make_product, make_address):
    user = make_user()
    login(user)
    make_address(user)
    product = make_product(price_fen=1000)
    form = _form(client.get(f"/checkout?sku_id={product.skus[0].id}&quantity=1").get_data(as_text=True))
    db.session.execute(sa.update(Sku).where(Sku.id == product.skus[0].id).values(price_fen=1500))
    db.session.commit()
    response = client.post("/checkout", data=form)
    assert response.status_code == 409 and "价格或运费有变化" in response.get_data(as_text=True)
    assert _form(response.get_data(as_text=True))["amount_fen"] == "1500"
    assert _count(Payment) == 0


def test_checkout_needs_items_login_and_an_address(client, make_user, login, make_product):
    sku = make_product().skus[0]
    assert client.get(f"/checkout?sku_id={sku.id}&quantity=1").status_code == 302  # to login
    user = make_user()
    login(user)
    assert client.get("/checkout").headers["Location"] == "/cart"  # nothing selected
    html = client.get(f"/checkout?sku_id={sku.id}&quantity=1").get_data(as_text=True)
    assert "还没有收货地址" in html and "/checkout/address/new?next=" in html
    # adding one from checkout comes back with it chosen
    response = client.post(f"/checkout/address/new?next=/checkout?sku_id%3D{sku.id}%26quantity%3D1", data={
        "recipient": "赵六", "phone": "13900002222", "province_code": "350000", "city_code": "350100",
        "district_code": "350102", "detail": "五四路 1 号"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/checkout?sku_id={sku.id}&quantity=1&address_id=")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "赵六" in html and _form(html)["address_id"]
    # an outside next is ignored
    response = client.post("/checkout/address/new?next=https://evil.example/", data={
        "recipient": "赵六", "phone": "13900002222", "province_code": "350000", "city_code": "350100",
        "district_code": "350102", "detail": "五四路 2 号"})
    assert response.headers["Location"].startswith("/checkout?address_id=")


def _placed(client, user, make_product, make_address):
    make_address(user)
    sku = make_product(price_fen=4200).skus[0]
    form = _form(client.get(f"/checkout?sku_id={sku.id}&quantity=1").get_data(as_text=True))
    client.post("/checkout", data=form)
    return db.session.scalar(sa.select(Payment).where(Payment.buyer_id == user.id))


def test_sandbox_pay_page_is_the_buyers_own(client, make_user, login, make_product, make_address):
    user, other = make_user(), make_user()
    login(user)
    payment = _placed(client, user, make_product, make_address)
    html = client.get(f"/payments/sandbox/{payment.out_trade_no}").get_data(as_text=True)
    assert "模拟支付网关" in html and "¥</small><span class=\"price-yuan\">42</span>" in html
    assert payment.out_trade_no in html and 'name="result" value="pay"' in html and 'value="fail"' in html
    assert payment.orders[0].order_no in html
    login(other)
    assert client.get(f"/payments/sandbox/{payment.out_trade_no}").status_code == 404
    assert client.get(f"/pay/result/{payment.out_trade_no}").status_code == 404


def test_payment_result_waits_then_shows_paid(client, make_user, login, make_product, make_address, pay_sandbox):
    user = make_user()
    login(user)
    payment = _placed(client, user, make_product, make_address)
    url = f"/pay/result/{payment.out_trade_no}"
    html = client.get(url).get_data(as_text=True)
    assert "正在确认支付结果" in html and 'hx-trigger="every 2s"' in html and "spinner-border" in html
    failed = client.get(url + "?failed=1").get_data(as_text=True)
    assert "支付失败" in failed and "重新支付" in failed and f"/orders/{payment.orders[0].order_no}/pay" in failed
    assert pay_sandbox(payment).status_code == 200
    partial = client.get(url, headers=HX).get_data(as_text=True)
    assert "支付成功" in partial and "<html" not in partial and "every 2s" not in partial
    assert "支付成功" in client.get(url + "?failed=1").get_data(as_text=True)  # paid wins over a stale failure


def test_submit_with_nothing_selected_goes_back_to_the_cart(client, make_user, login, make_address):
    user = make_user()
    login(user)
    address = make_address(user)
    response = client.post("/checkout", data={"key": "a" * 32, "address_id": address.id, "provider": "sandbox"})
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    assert "请选择要购买的商品" in client.get("/cart").get_data(as_text=True)
    assert _count(Payment) == 0
