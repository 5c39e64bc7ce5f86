"""Who may do what to a distributor or a withdrawal (app.distribution.policies): the
lifecycle's acts from the current state, narrowed by who asks; the services refuse
through the same rule."""
from __future__ import annotations

import pytest

from app.core.db import transaction
from app.core.errors import Forbidden
from app.distribution import distributors, withdrawals
from app.distribution.models import Distributor, Withdrawal
from app.distribution.policies import actions_for
from app.extensions import db


@pytest.fixture
def people(make_user):
    return {"finance": make_user(admin_role="finance"), "operator": make_user(admin_role="operator"),
            "super": make_user(admin_role="super"), "self": make_user(), "shopper": make_user()}


def test_finance_reviews_withdrawals_and_nobody_else_acts_on_them(people):
    expected = {"requested": ("approve", "reject"), "approved": ("mark_paid", "reject"), "paid": (), "rejected": ()}
    for status, acts in expected.items():
        withdrawal = Withdrawal(status=status)
        assert actions_for(withdrawal, people["finance"]) == acts, status
        assert actions_for(withdrawal, people["super"]) == acts, status
        for who in ("operator", "self", "shopper"):
            assert actions_for(withdrawal, people[who]) == (), (status, who)


def test_operators_review_and_freeze_distributors_who_withdraw_and_share_while_active(people):
    def acts(status, who):
        return actions_for(Distributor(user_id=people["self"].id, status=status), people[who])

    assert acts("pending", "operator") == ("approve", "reject", "grant")
    assert acts("active", "operator") == ("freeze",)
    assert acts("frozen", "operator") == ("unfreeze",)
    assert acts("rejected", "operator") == ("grant",)
    assert acts("active", "self") == ("withdraw", "share")
    assert acts("rejected", "self") == ("reapply",)
    for status in ("pending", "frozen"):
        assert acts(status, "self") == ()
    for status in ("pending", "active", "frozen", "rejected"):
        assert acts(status, "finance") == () and acts(status, "shopper") == ()


@pytest.mark.books_unchecked("a withdrawal row made by hand")
def test_services_refuse_who_may_not(people, set_rules, make_distributor):
    set_rules()
    distributor = make_distributor()
    with pytest.raises(Forbidden), transaction():
        distributors.freeze(people["finance"], distributor.id, "越权")
    with transaction():
        row = Withdrawal(distributor_id=distributor.id, amount_fen=1000, fee_fen=0, method="alipay",
                         account={"name": "张三", "account": "zs@example.com"})
        db.session.add(row)
    with pytest.raises(Forbidden), transaction():
        withdrawals.approve(people["operator"], row.id)
