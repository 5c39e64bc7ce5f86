"""The return address book's own rules (app/merchants/return_addresses.py): one default
whatever happens, the limit of 10 held under concurrent adds (real threads on
PostgreSQL), the owner only. (Approved requests keep their address: tests/web/merchant/
test_return_addresses.py.)"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.merchants import return_addresses
from app.merchants.models import MerchantAddress, MerchantMember
from tests.race import at_once

GOOD = {"recipient": "售后部", "phone": "13800138000", "address": "浙江省杭州市余杭区仓前街道 1 号"}


def defaults(merchant_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(MerchantAddress.id)).where(
        MerchantAddress.merchant_id == merchant_id, MerchantAddress.is_default)) or 0


def test_exactly_one_default_through_adds_defaults_and_deletes(make_user, make_merchant):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    with transaction():
        first = return_addresses.add(owner, merchant.id, GOOD)
        second = return_addresses.add(owner, merchant.id, {**GOOD, "recipient": "二号仓"})
        third = return_addresses.add(owner, merchant.id, {**GOOD, "recipient": "三号仓"}, make_default=True)
    assert defaults(merchant.id) == 1 and return_addresses.of_merchant(merchant.id)[0].id == third.id
    with transaction():
        return_addresses.set_default(owner, merchant.id, second.id)
        return_addresses.set_default(owner, merchant.id, second.id)  # again: nothing more
        return_addresses.delete(owner, merchant.id, second.id)
    assert defaults(merchant.id) == 1 and return_addresses.of_merchant(merchant.id)[0].id == first.id
    with transaction():
        return_addresses.delete(owner, merchant.id, first.id)
        return_addresses.delete(owner, merchant.id, third.id)
    assert return_addresses.of_merchant(merchant.id) == []


def test_only_the_owner_writes_and_only_their_shops_addresses(make_user, make_merchant):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    clerk = make_user()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=clerk.id, role="staff"))
    db.session.commit()
    with pytest.raises(Forbidden), transaction():
        return_addresses.add(clerk, merchant.id, GOOD)
    with pytest.raises(NotFound), transaction():
        return_addresses.add(make_user(), merchant.id, GOOD)
    other_owner = make_user()
    other = make_merchant(owner=other_owner)
    with transaction():
        theirs = return_addresses.add(other_owner, other.id, GOOD)
    for write in (lambda: return_addresses.update(owner, merchant.id, theirs.id, GOOD),
                  lambda: return_addresses.delete(owner, merchant.id, theirs.id),
                  lambda: return_addresses.set_default(owner, merchant.id, theirs.id)):
        with pytest.raises(NotFound), transaction():
            write()
    assert [a.recipient for a in return_addresses.of_merchant(other.id)] == ["售后部"]


@pytest.mark.live_db
def test_concurrent_adds_stop_at_ten_with_one_default(app, make_user, make_merchant):
    owner = make_user()
    merchant = make_merchant(owner=owner)
    owner_id, merchant_id = owner.id, merchant.id

    def add(i: int):
        with transaction():
            return return_addresses.add(db.session.get(User, owner_id), merchant_id,
                                        {**GOOD, "label": f"仓{i}"}, make_default=i % 3 == 0).id

    results = at_once(12, add, app=app)
    added = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(added) == 10 and len(refused) == 2, results
    assert {r.code for r in refused} == {"too_many_return_addresses"}
    db.session.expire_all()
    assert len(return_addresses.of_merchant(merchant_id)) == 10 and defaults(merchant_id) == 1
