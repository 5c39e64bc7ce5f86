"""The cart API: adding, reading grouped by shop with problem codes, changing and
removing lines; every refusal is clean and touches only the caller's own cart."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders.models import CartItem

BASE = "/api/v1/cart/items"


@pytest.fixture
def shopper(make_user, api_token):
    def make():
        user = make_user()
        return user, api_token(user)

    return make


def lines(user_id: int) -> list[tuple]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(
        sa.select(CartItem.id, CartItem.sku_id, CartItem.quantity, CartItem.selected)
        .where(CartItem.user_id == user_id).order_by(CartItem.id))]


def test_add_merge_read_change_and_remove(shopper, make_product, client):
    user, headers = shopper()
    a = make_product(stocks=(5, 2), price_fen=1000)
    b = make_product(stocks=(4,), price_fen=2500)
    response = client.post(BASE, json={"sku_id": a.skus[0].id, "quantity": 2}, headers=headers)
    assert response.status_code == 201 and response.json["quantity"] == 2
    line_id = response.json["id"]
    response = client.post(BASE, json={"sku_id": a.skus[0].id, "quantity": 1}, headers=headers)
    assert response.status_code == 201 and response.json == {"id": line_id, "sku_id": a.skus[0].id,
                                                             "quantity": 3, "selected": True}
    client.post(BASE, json={"sku_id": a.skus[1].id, "quantity": 2}, headers=headers)
    client.post(BASE, json={"sku_id": b.skus[0].id, "quantity": 1}, headers=headers)

    # a SKU sells down below the cart's quantity: flagged, left out of the totals
    a.skus[1].stock = 1
    db.session.commit()
    cart = client.get(BASE, headers=headers).json
    assert [s["merchant"]["id"] for s in cart["shops"]] == [b.merchant_id, a.merchant_id]
    shop_a = cart["shops"][1]
    problems = {line["sku_id"]: line["problem"] for line in shop_a["items"]}
    assert problems == {a.skus[0].id: None, a.skus[1].id: "above_stock"}
    flagged = next(line for line in shop_a["items"] if line["problem"])
    assert flagged["problem_text"] and flagged["stock"] == 1
    assert shop_a["items_fen"] == 3000 and cart["items_fen"] == 3000 + 2500
    assert cart["selected_count"] == 4 and cart["problem_count"] == 1

    response = client.patch(f"{BASE}/{line_id}", json={"quantity": 1, "selected": False}, headers=headers)
    assert response.status_code == 200 and response.json["quantity"] == 1 and response.json["selected"] is False
    assert client.get(BASE, headers=headers).json["items_fen"] == 2500

    assert client.delete(f"{BASE}/{line_id}", headers=headers).status_code == 204
    assert line_id not in [row[0] for row in lines(user.id)]
    assert client.delete(f"{BASE}/{line_id}", headers=headers).status_code == 404


@pytest.mark.parametrize("quantity, status, code", [
    (0, 422, "invalid_quantity"), (-3, 422, "invalid_quantity"), (6, 409, "insufficient_stock"),
    (1000, 422, "invalid_quantity"), ("2", 422, "invalid"), (None, 422, "invalid"),
])
def test_bad_quantities_add_nothing(shopper, make_product, client, quantity, status, code):
    user, headers = shopper()
    product = make_product(stocks=(5,))
    response = client.post(BASE, json={"sku_id": product.skus[0].id, "quantity": quantity}, headers=headers)
    assert response.status_code == status and response.json["error"]["code"] == code
    assert lines(user.id) == []


def test_unbuyable_skus_are_refused(shopper, make_product, client):
    user, headers = shopper()
    off = make_product(status="off_sale")
    closed = make_product()
    closed.merchant.status = "suspended"
    db.session.commit()
    for product in (off, closed):
        response = client.post(BASE, json={"sku_id": product.skus[0].id, "quantity": 1}, headers=headers)
        assert response.status_code == 409 and response.json["error"]["code"] == "product_unavailable"
    response = client.post(BASE, json={"sku_id": 987654, "quantity": 1}, headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "sku_not_found"
    assert lines(user.id) == []


def test_change_refusals_leave_the_line_as_it_was(shopper, make_product, client):
    user, headers = shopper()
    product = make_product(stocks=(5,))
    line_id = client.post(BASE, json={"sku_id": product.skus[0].id, "quantity": 2}, headers=headers).json["id"]
    before = lines(user.id)
    for body, status in [({"quantity": 0}, 422), ({"quantity": 6}, 409), ({}, 422), ({"selected": "yes"}, 422),
                         ({"quantity": 1, "bogus": 1}, 422)]:
        response = client.patch(f"{BASE}/{line_id}", json=body, headers=headers)
        assert response.status_code == status, (body, response.json)
    response = client.patch(f"{BASE}/{line_id}", data="{nope", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert lines(user.id) == before


def test_another_users_line_is_404_and_unchanged(shopper, make_product, client):
    owner, owner_headers = shopper()
    _other, other_headers = shopper()
    product = make_product(stocks=(5,))
    line_id = client.post(BASE, json={"sku_id": product.skus[0].id, "quantity": 2}, headers=owner_headers).json["id"]
    before = lines(owner.id)
    for response in (client.patch(f"{BASE}/{line_id}", json={"quantity": 1}, headers=other_headers),
                     client.patch(f"{BASE}/{line_id}", json={"selected": False}, headers=other_headers),
                     client.delete(f"{BASE}/{line_id}", headers=other_headers)):
        assert response.status_code == 404 and response.json["error"]["code"] == "cart_item_not_found"
    assert lines(owner.id) == before
    assert client.get(BASE, headers=other_headers).json["shops"] == []
    assert client.get(BASE).status_code == 401


def test_reading_the_cart_takes_a_fixed_number_of_queries(shopper, make_product, client, count_queries):
    _user, headers = shopper()
    client.post(BASE, json={"sku_id": make_product().skus[0].id, "quantity": 1}, headers=headers)
    with count_queries() as one:
        client.get(BASE, headers=headers)
    for _ in range(4):
        client.post(BASE, json={"sku_id": make_product().skus[0].id, "quantity": 1}, headers=headers)
    with count_queries() as five:
        assert len(client.get(BASE, headers=headers).json["shops"]) == 5
    assert len(five) == len(one), five
