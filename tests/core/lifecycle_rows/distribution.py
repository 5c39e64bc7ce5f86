"""Rows for the distribution lifecycles."""
from __future__ import annotations

import sqlalchemy as sa

from app.distribution.models import Commission, DistributionRules, Distributor, Withdrawal
from app.extensions import db
from app.orders.models import Order
from tests.core.lifecycle_rows import row_maker


def distributor_row(request, status: str = "active") -> Distributor:
    user = request.getfixturevalue("make_user")()
    distributor = Distributor(user_id=user.id, status=status, code=f"W{user.id:08d}")
    db.session.add(distributor)
    db.session.flush()
    return distributor


@row_maker("distributor")
def _distributor(request):
    return Distributor, distributor_row(request, "pending").id


@row_maker("commission")
def _commission(request):
    buyer = request.getfixturevalue("make_user")()
    product = request.getfixturevalue("make_product")()
    payment = request.getfixturevalue("place_order")(buyer, [(product.skus[0].id, 1)])
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    item = order.items[0]
    rules = DistributionRules(qualification="everyone", binding_mode="permanent", withdrawal_methods=["alipay"])
    db.session.add(rules)
    db.session.flush()
    row = Commission(order_id=order.id, order_item_id=item.id, buyer_id=buyer.id, level=1,
                     distributor_id=distributor_row(request).id, rules_version=rules.id, base_fen=item.paid_fen,
                     rate_bp=1000, amount_fen=item.paid_fen // 10)
    db.session.add(row)
    db.session.flush()
    return Commission, row.id


@row_maker("withdrawal")
def _withdrawal(request):
    distributor = distributor_row(request)
    row = Withdrawal(distributor_id=distributor.id, amount_fen=10_000, fee_fen=0,
                     method="alipay", account={"name": "张三", "account": "zs@example.com"})
    db.session.add(row)
    db.session.flush()
    return Withdrawal, row.id
