"""The sales counts shown on product cards and used to sort by 销量: a paid order adds its
quantities to its SKUs and products (a receiver of `order_paid`, see app/receivers.py).

Counts are raised with `SET sales = sales + n` in the database, so two orders paid at
the same moment both count; a later refund does not lower them (销量 counts what sold)."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.extensions import db


def add_sold(lines: Iterable[tuple[int, int, int]]) -> None:
    """Add each `(product_id, sku_id, quantity)` to the SKU's and the product's sales."""
    for product_id, sku_id, quantity in lines:
        db.session.execute(sa.update(Sku).where(Sku.id == sku_id).values(sales=Sku.sales + quantity)
                           .execution_options(synchronize_session=False))
        db.session.execute(sa.update(Product).where(Product.id == product_id)
                           .values(sales=Product.sales + quantity).execution_options(synchronize_session=False))
