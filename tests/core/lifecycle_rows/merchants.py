"""Rows for the merchant lifecycles: an application and a shop's status."""
from __future__ import annotations

from app.extensions import db
from app.merchants.models import Merchant, MerchantApplication
from tests.core.lifecycle_rows import row_maker


@row_maker("merchant_application")
def _application(request):
    user = request.getfixturevalue("make_user")()
    row = MerchantApplication(applicant_id=user.id, shop_name="走查小店")
    db.session.add(row)
    db.session.flush()
    return MerchantApplication, row.id


@row_maker("merchant")
def _merchant(request):
    return Merchant, request.getfixturevalue("make_merchant")().id
