"""Rows for the catalog lifecycles."""
from __future__ import annotations

from app.catalog.models import Product
from tests.core.lifecycle_rows import row_maker


@row_maker("product")
def _product(request):
    product = request.getfixturevalue("make_product")(status="draft")
    return Product, product.id
