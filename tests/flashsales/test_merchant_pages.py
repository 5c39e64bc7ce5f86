"""The shop's 秒杀 pages: a request made of its own SKUs and submitted; another shop
cannot see or act on it; staff without the manager role are refused."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.clock import SHANGHAI, utcnow
from app.extensions import db
from app.flashsales.models import FlashSale
from app.merchants.models import MerchantMember


def local(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def form(sku_id: int) -> dict:
    return {"title": "店庆秒杀", "starts_at": local(timedelta(hours=1)), "ends_at": local(timedelta(hours=2)),
            "sku_id": [str(sku_id)], "price": ["19.90"], "stock": ["3"], "per_buyer_limit": ["1"]}


def test_a_shop_requests_an_event_of_its_own_skus_and_submits_it(client, login, make_user, make_merchant,
                                                                 make_product):
    owner = make_user()
    shop = make_merchant(owner=owner)
    mine = make_product(merchant=shop, stocks=(10,), price_fen=9900, title="店内好物").skus[0].id
    theirs = make_product(stocks=(10,), price_fen=9900, title="别家好物").skus[0].id
    login(owner)
    found = client.get("/merchant/flash-sales/skus?q=好物").get_data(as_text=True)
    assert "店内好物" in found and "别家好物" not in found
    assert client.get(f"/merchant/flash-sales/row?sku_id={theirs}").status_code == 404
    refused = client.post("/merchant/flash-sales/new", data=form(theirs))
    assert refused.status_code == 422 and "请选择在售的商品规格" in refused.get_data(as_text=True)
    assert client.post("/merchant/flash-sales/new", data=form(mine)).status_code == 302
    sale = db.session.scalar(sa.select(FlashSale))
    assert (sale.merchant_id, sale.status) == (shop.id, "draft")
    client.post(f"/merchant/flash-sales/{sale.id}/submit")
    db.session.expire_all()
    assert db.session.get(FlashSale, sale.id).status == "pending_review"
    assert "待审核" in client.get("/merchant/flash-sales").get_data(as_text=True)


def test_another_shop_gets_404_and_staff_get_403(app, client, login, make_user, make_merchant, make_product):
    owner, intruder, clerk = make_user(), make_user(), make_user()
    shop = make_merchant(owner=owner)
    make_merchant(owner=intruder)
    db.session.add(MerchantMember(merchant_id=shop.id, user_id=clerk.id, role="staff"))
    db.session.commit()
    sku_id = make_product(merchant=shop, stocks=(10,), price_fen=9900).skus[0].id
    login(owner)
    client.post("/merchant/flash-sales/new", data=form(sku_id))
    sale_id = db.session.scalar(sa.select(FlashSale.id))
    login(intruder)
    for answer in (client.get(f"/merchant/flash-sales/{sale_id}"), client.post(f"/merchant/flash-sales/{sale_id}/submit"),
                   client.post(f"/merchant/flash-sales/{sale_id}/edit", data=form(sku_id)),
                   client.post(f"/merchant/flash-sales/{sale_id}/cancel")):
        assert answer.status_code == 404
    staff = login(clerk, on=app.test_client())
    assert staff.get("/merchant/flash-sales").status_code == 403
    assert staff.post(f"/merchant/flash-sales/{sale_id}/submit").status_code == 403
    db.session.expire_all()
    assert db.session.get(FlashSale, sale_id).status == "draft"
