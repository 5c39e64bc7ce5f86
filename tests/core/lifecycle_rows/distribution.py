"""Rows for the distribution lifecycles."""
from __future__ import annotations

from app.distribution.models import Distributor, Withdrawal
from app.extensions import db
from tests.core.lifecycle_rows import row_maker


def distributor_row(request, status: str = "active") -> Distributor:
    user = request.getfixturevalue("make_user")()
    distributor = Distributor(user_id=user.id, status=status, code=f"W{user.id:08d}")
    db.session.add(distributor)
    db.session.flush()
    return distributor


@row_maker("withdrawal")
def _withdrawal(request):
    distributor = distributor_row(request)
    row = Withdrawal(distributor_id=distributor.id, amount_fen=10_000, fee_fen=0,
                     method="alipay", account={"name": "张三", "account": "zs@example.com"})
    db.session.add(row)
    db.session.flush()
    return Withdrawal, row.id
