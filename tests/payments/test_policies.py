"""Who may do what to a refund (app.payments.policies): only finance and super admins
settle a refund offline, and only while it is abnormal; gateways move the rest."""
from __future__ import annotations

import pytest

from app.core.errors import Forbidden, StaleState
from app.payments.models import Refund
from app.payments.policies import actions_for, require
from app.payments.states import RefundStatus


@pytest.fixture
def people(make_user):
    return {role: make_user(admin_role=role) for role in ("finance", "super", "operator", "none")}


def test_finance_and_super_settle_abnormal_refunds_offline_and_nobody_acts_otherwise(people):
    for status in RefundStatus:
        refund = Refund(status=status)
        expected = ("settle_offline",) if status == RefundStatus.ABNORMAL else ()
        for role in ("finance", "super"):
            assert actions_for(refund, people[role]) == expected, (status, role)
        for role in ("operator", "none"):
            assert actions_for(refund, people[role]) == (), (status, role)
    assert actions_for(Refund(status=RefundStatus.ABNORMAL), None) == ()


def test_require_says_forbidden_to_others_and_stale_out_of_state(people):
    require(Refund(status=RefundStatus.ABNORMAL), people["finance"], "settle_offline")
    with pytest.raises(Forbidden):
        require(Refund(status=RefundStatus.ABNORMAL), people["operator"], "settle_offline")
    with pytest.raises(StaleState) as stale:
        require(Refund(status=RefundStatus.PENDING), people["finance"], "settle_offline")
    assert (stale.value.act, stale.value.found) == ("settle_offline", "pending")
    with pytest.raises(Forbidden):  # gateway acts are no person's
        require(Refund(status=RefundStatus.PENDING), people["super"], "succeed")
