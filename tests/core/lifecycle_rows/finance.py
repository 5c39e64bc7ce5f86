"""Rows for the finance lifecycles."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.finance.models import MerchantWithdrawal
from app.merchants.models import MerchantMember
from tests.core.lifecycle_rows import row_maker


@row_maker("merchant_withdrawal")
def _merchant_withdrawal(request):
    merchant = request.getfixturevalue("make_merchant")()
    owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(MerchantMember.merchant_id == merchant.id))
    row = MerchantWithdrawal(merchant_id=merchant.id, requested_by_id=owner_id, amount_fen=10_000, fee_fen=0,
                             method="alipay", account={"name": "鲜果铺", "account": "shop@example.com"})
    db.session.add(row)
    db.session.flush()
    return MerchantWithdrawal, row.id
