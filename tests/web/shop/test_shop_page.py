"""The storefront shop page: an open shop, a suspended one, a closed one, an unknown id."""
from datetime import datetime, time, timedelta

from app.core.clock import SHANGHAI, to_local, utcnow
from app.extensions import db
from app.merchants import penalties


def test_open_shop_shows_its_face_and_the_products_to_come(client, make_merchant):
    merchant = make_merchant(name="山里人家", description="自家果园直发\n坏果包赔", main_categories=["食品生鲜", "其他"],
                             logo_key="logos/abc123.png", shipping_flat_fen=600, free_shipping_threshold_fen=5900)
    resp = client.get(f"/shops/{merchant.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for text in ("山里人家", "自家果园直发\n坏果包赔", "食品生鲜", "商品即将上架", "满 ¥59.00 包邮", 'src="/media/logos/abc123.png"'):
        assert text in html, text
    assert "店铺暂停营业" not in html and "店铺已关闭" not in html


def test_shop_without_logo_or_description(client, make_merchant):
    merchant = make_merchant(name="无名小店")
    html = client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    assert "无名小店" in html and "全场包邮" in html and "店铺简介" not in html and "/media/logos/" not in html


def test_suspended_shop_says_so_with_the_date(client, make_user, make_merchant):
    admin = make_user(admin_role="operator")
    merchant = make_merchant(name="暂停的店")
    day = to_local(utcnow()).date() + timedelta(days=5)
    penalties.suspend(admin, merchant.id, "内部原因：虚假发货", datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI))
    db.session.commit()
    resp = client.get(f"/shops/{merchant.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "店铺暂停营业" in html and f"暂停营业至 {day.isoformat()}" in html and "暂停的店" in html
    assert "内部原因" not in html  # the penalty reason is for the merchant, not shoppers
    assert "商品即将上架" not in html


def test_suspended_until_lifted_has_no_date(client, make_user, make_merchant):
    merchant = make_merchant()
    penalties.suspend(make_user(admin_role="operator"), merchant.id, "配合调查", None)
    db.session.commit()
    html = client.get(f"/shops/{merchant.id}").get_data(as_text=True)
    assert "店铺暂停营业" in html and "恢复营业的时间待定" in html


def test_closed_shop_says_so(client, make_user, make_merchant):
    merchant = make_merchant(name="关门的店")
    penalties.close(make_user(admin_role="operator"), merchant.id, "售假")
    db.session.commit()
    resp = client.get(f"/shops/{merchant.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "店铺已关闭" in html and "关门的店" in html and "售假" not in html


def test_unknown_shop_is_the_branded_404(client):
    resp = client.get("/shops/999999")
    assert resp.status_code == 404 and "店铺不存在" in resp.get_data(as_text=True) and "返回首页" in resp.get_data(as_text=True)
    assert client.get("/shops/abc").status_code == 404


def test_home_lists_open_shops_only(client, make_merchant):
    open_shop = make_merchant(name="营业中的店")
    make_merchant(name="关掉的店", status="closed")
    html = client.get("/").get_data(as_text=True)
    assert "营业中的店" in html and f"/shops/{open_shop.id}" in html
    assert "关掉的店" not in html
