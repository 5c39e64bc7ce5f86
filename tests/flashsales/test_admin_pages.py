"""The admin 秒杀 pages: make and publish a platform event through the form, review a
shop's request, clear errors for bad input, and nobody without the permission gets in."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.catalog.models import Sku
from app.core.clock import SHANGHAI, utcnow
from app.core.db import transaction
from app.extensions import db
from app.flashsales import policies, services
from app.flashsales.models import FlashSale


def local(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def form(sku_id: int, price: str = "9.90", stock: str = "5", limit: str = "1", **over) -> dict:
    return {"title": "平台整点秒杀", "starts_at": local(timedelta(hours=1)), "ends_at": local(timedelta(hours=2)),
            "sku_id": [str(sku_id)], "price": [price], "stock": [stock], "per_buyer_limit": [limit], **over}


def test_an_operator_makes_and_publishes_a_platform_event(client, login, operator, make_product):
    product = make_product(stocks=(20,), price_fen=9900, title="智能手环")
    sku_id = product.skus[0].id
    login(operator)
    found = client.get("/admin/flash-sales/skus?q=手环", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "智能手环" in found and f"sku_id={sku_id}" in found
    row = client.get(f"/admin/flash-sales/row?sku_id={sku_id}", headers={"HX-Request": "true"})
    assert row.status_code == 200 and f'value="{sku_id}"' in row.get_data(as_text=True)
    saved = client.post("/admin/flash-sales/new", data=form(sku_id))
    assert saved.status_code == 302
    sale = db.session.scalar(sa.select(FlashSale))
    assert (sale.status, sale.merchant_id, sale.items[0].price_fen) == ("draft", None, 990)
    published = client.post(f"/admin/flash-sales/{sale.id}/publish", follow_redirects=True)
    assert "活动已发布" in published.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FlashSale, sale.id).status == "scheduled" and db.session.get(Sku, sku_id).stock == 15
    listed = client.get("/admin/flash-sales").get_data(as_text=True)
    assert "平台整点秒杀" in listed and "0 / 5" in listed


def test_bad_input_is_shown_next_to_its_field(client, login, operator, make_product):
    sku_id = make_product(stocks=(3,), price_fen=9900).skus[0].id
    login(operator)
    page = client.post("/admin/flash-sales/new", data=form(sku_id, price="120", stock="9", limit="0",
                                                          ends_at=local(timedelta(minutes=30))))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    for text in ("结束时间必须晚于开始时间", "秒杀价必须低于原价", "不能超过现有库存 3", "1 到 99"):
        assert text in html, text
    assert "built-in method" not in html and "¥¥" not in html
    bad_money = client.post("/admin/flash-sales/new", data=form(sku_id, price="9.999"))
    assert bad_money.status_code == 422 and "请输入正确的金额" in bad_money.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(FlashSale.id))) == 0


def test_the_platform_reviews_a_shops_request(client, login, operator, make_merchant, make_product, make_user):
    owner = make_user()
    shop = make_merchant(owner=owner)
    sku_id = make_product(merchant=shop, stocks=(10,), price_fen=9900).skus[0].id
    mine = policies.shop(owner.id, shop.id)
    now = utcnow()
    with transaction():
        sale_id = services.create(mine, {"title": "店铺秒杀", "starts_at": now + timedelta(hours=1),
                                         "ends_at": now + timedelta(hours=2), "items": [
                                             {"sku_id": sku_id, "price_fen": 500, "stock": 4, "per_buyer_limit": 1}]}).id
        services.submit(mine, sale_id)
    login(operator)
    detail = client.get(f"/admin/flash-sales/{sale_id}").get_data(as_text=True)
    assert "审核通过" in detail and "驳回" in detail
    no_reason = client.post(f"/admin/flash-sales/{sale_id}/reject", data={"reason": ""}, follow_redirects=True)
    assert "请填写驳回原因" in no_reason.get_data(as_text=True)
    client.post(f"/admin/flash-sales/{sale_id}/approve")
    db.session.expire_all()
    assert db.session.get(FlashSale, sale_id).status == "scheduled" and db.session.get(Sku, sku_id).stock == 6


def test_admins_without_the_permission_and_shoppers_are_refused(client, login, make_user, make_flash_sale):
    sale, _item = make_flash_sale(stock=2)
    for user in (make_user(admin_role="finance"), make_user()):
        login(user)
        assert client.get("/admin/flash-sales").status_code == 403
        assert client.post(f"/admin/flash-sales/{sale.id}/cancel").status_code == 403
    db.session.expire_all()
    assert db.session.get(FlashSale, sale.id).status == "scheduled"


def test_the_list_runs_a_fixed_number_of_queries(client, login, operator, make_flash_sale, count_queries):
    login(operator)
    make_flash_sale(stock=2)
    client.get("/admin/flash-sales")
    with count_queries() as few:
        client.get("/admin/flash-sales")
    for _ in range(3):
        make_flash_sale(stock=2)
    with count_queries() as more:
        client.get("/admin/flash-sales")
    assert len(more) == len(few)
