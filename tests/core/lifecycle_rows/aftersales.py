"""Rows for the after-sale lifecycle: a request on a paid order (the walk sets its status)."""
from __future__ import annotations

from app.aftersales.models import AfterSale, AfterSaleLine
from app.extensions import db
from tests.core.lifecycle_rows import row_maker
from tests.core.lifecycle_rows.orders import order_row


@row_maker("aftersale")
def _aftersale(request):
    order = order_row(request)
    aftersale = AfterSale(aftersale_no=f"SW{order.order_no}", order_id=order.id, buyer_id=order.buyer_id,
                          merchant_id=order.merchant_id, kind="return_refund", reason="quality",
                          lines=[AfterSaleLine(order_item_id=order.items[0].id, quantity=1)])
    db.session.add(aftersale)
    db.session.flush()
    return AfterSale, aftersale.id
