"""The console's inventory pages: the SKU list with filters, inline set/adjust
(HTMX and plain posts), history, stale stock, alerts, and other shops' SKUs."""
import pytest

from app.catalog.models import Sku
from app.extensions import db
from app.inventory import services
from app.merchants.models import MerchantMember


@pytest.fixture
def shop(app, make_user, make_merchant, make_product, login):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    product = make_product(merchant=merchant, title="库存测试商品", stocks=(10, 0, 2))
    client = login(owner, on=app.test_client())
    return client, owner, merchant, product


def stock_of(sku_id):
    db.session.expire_all()
    return db.session.get(Sku, sku_id).stock


def test_list_and_filters(shop):
    client, owner, merchant, product = shop
    html = client.get("/merchant/inventory").get_data(as_text=True)
    assert html.count("库存测试商品") >= 3 and "款0" in html and "款2" in html
    html = client.get("/merchant/inventory?filter=low").get_data(as_text=True)
    assert "款1" in html and "款2" in html and "款0" not in html
    html = client.get("/merchant/inventory?filter=soldout").get_data(as_text=True)
    assert "款1" in html and "款2" not in html and "款0" not in html


def test_set_and_adjust_inline_with_history(shop):
    client, owner, merchant, product = shop
    sku = product.skus[0]
    response = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                           data={"mode": "set", "quantity": "25", "note": "盘点", "expected_stock": "10"})
    assert response.status_code == 200 and f'id="sku-{sku.id}"' in response.get_data(as_text=True)
    assert "HX-Trigger" in response.headers and stock_of(sku.id) == 25
    response = client.post(f"/merchant/inventory/{sku.id}/stock", data={"mode": "adjust", "quantity": "-5", "note": "损坏"})
    assert response.status_code == 302 and stock_of(sku.id) == 20
    # adjusting needs a reason; going below zero is refused
    html = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                       data={"mode": "adjust", "quantity": "-3"}).get_data(as_text=True)
    assert "请填写调整原因" in html and stock_of(sku.id) == 20
    html = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                       data={"mode": "adjust", "quantity": "-99", "note": "出库"}).get_data(as_text=True)
    assert "库存不足" in html and stock_of(sku.id) == 20
    html = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                       data={"mode": "set", "quantity": "abc"}).get_data(as_text=True)
    assert "请输入整数" in html and stock_of(sku.id) == 20
    for typed in ("１０", "1_0"):  # other scripts' digits and underscores, which int() would read as 10
        html = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                           data={"mode": "set", "quantity": typed}).get_data(as_text=True)
        assert "请输入整数" in html and stock_of(sku.id) == 20
    html = client.get(f"/merchant/inventory/{sku.id}/history", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "损坏" in html and "盘点" in html and "-5" in html and "+15" in html
    assert client.get(f"/merchant/inventory/{sku.id}/history").status_code == 200


def test_stale_expected_stock_is_refused_with_a_clear_message(shop):
    client, owner, merchant, product = shop
    sku = product.skus[0]
    services.take([(sku.id, 4)], "order_reserve")
    db.session.commit()
    html = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"},
                       data={"mode": "set", "quantity": "30", "expected_stock": "10"}).get_data(as_text=True)
    assert "库存已变化" in html and stock_of(sku.id) == 6
    assert 'name="expected_stock" value="6"' in html  # the row now shows the new stock


def test_another_shops_skus_are_404(app, shop, make_user, make_product, login):
    client, owner, merchant, product = shop
    staff = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=staff.id, role="staff"))
    db.session.commit()
    staff_client = login(staff, on=app.test_client())
    other = make_product(stocks=(8,))
    other_sku = other.skus[0].id
    assert staff_client.get("/merchant/inventory").status_code == 200
    assert staff_client.post(f"/merchant/inventory/{product.skus[0].id}/stock",
                             data={"mode": "set", "quantity": "3"}).status_code == 302
    assert staff_client.post(f"/merchant/inventory/{other_sku}/stock", data={"mode": "set", "quantity": "0"}).status_code == 404
    assert staff_client.post(f"/merchant/inventory/{other_sku}/stock",
                             data={"mode": "adjust", "quantity": "-1", "note": "x"}).status_code == 404
    assert staff_client.get(f"/merchant/inventory/{other_sku}/history").status_code == 404
    assert stock_of(other_sku) == 8
    assert "库存测试商品" in staff_client.get("/merchant/inventory").get_data(as_text=True)
    assert other.title not in staff_client.get("/merchant/inventory").get_data(as_text=True)


def test_alerts_page_after_a_dip(shop, run_jobs):
    client, owner, merchant, product = shop
    assert "暂无库存提醒" in client.get("/merchant/inventory/alerts").get_data(as_text=True)
    sku = product.skus[0]
    from app.core.db import transaction

    with transaction():
        services.take([(sku.id, 7)], "order_reserve")  # 10 -> 3, below the threshold of 5
    run_jobs()
    html = client.get("/merchant/inventory/alerts").get_data(as_text=True)
    assert "库存测试商品" in html and "款0" in html and "已通知" in html


def test_stock_past_the_column_is_a_form_error(shop):
    """2147483648 does not fit the stock column: the row says so, nothing changes (was a 500)."""
    client, owner, merchant, product = shop
    sku = product.skus[0]
    for data in ({"mode": "set", "quantity": "2147483648"}, {"mode": "adjust", "quantity": "2147483647", "note": "入库"},
                 {"mode": "set", "quantity": "1", "expected_stock": "99999999999999999999"}):
        response = client.post(f"/merchant/inventory/{sku.id}/stock", headers={"HX-Request": "true"}, data=data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "库存不能超过 2147483647" in html or "库存已变化" in html
        assert stock_of(sku.id) == 10
