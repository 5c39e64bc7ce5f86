"""The order keyword search takes what was typed as text, not a LIKE pattern."""
from __future__ import annotations

from app.orders import queries
from app.orders.queries import OrderFilters


def _order_of(make_user, make_product, place_order, title: str):
    buyer = make_user()
    return place_order(buyer, [(make_product(title=title).skus[0].id, 1)]).orders[0]


def test_a_percent_sign_matches_only_itself(make_user, make_product, place_order):
    plain = _order_of(make_user, make_product, place_order, "纯棉T恤")
    percent = _order_of(make_user, make_product, place_order, "100%纯棉T恤")
    underscore = _order_of(make_user, make_product, place_order, "纯棉_T恤")

    def found(q: str) -> set[int]:
        return {o.id for o in queries.for_admin(OrderFilters(q=q)).items}

    assert found("%") == {percent.id}  # used to list every order
    assert found("_") == {underscore.id}
    assert found("纯棉") >= {plain.id, percent.id, underscore.id}
