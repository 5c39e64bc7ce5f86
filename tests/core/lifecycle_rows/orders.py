"""Rows for the order lifecycles (status and stock state): one real order placed
through checkout."""
from __future__ import annotations

from app.orders.models import Order
from tests.core.lifecycle_rows import row_maker


def order_row(request) -> Order:
    buyer = request.getfixturevalue("make_user")()
    product = request.getfixturevalue("make_product")(stocks=(10,))
    payment = request.getfixturevalue("place_order")(buyer, [(product.skus[0].id, 1)])
    return payment.orders[0]


@row_maker("order")
def _order(request):
    return Order, order_row(request).id


@row_maker("order_stock")
def _order_stock(request):
    return Order, order_row(request).id
