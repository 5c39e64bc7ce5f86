"""Each binding mode through `referrals.bind` with the app clock moved by `travel`,
and the refusals: oneself, one's own downline, unknown codes, inactive distributors,
"new users only" and distribution switched off."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.clock import travel, utcnow
from app.core.db import transaction
from app.core.errors import Conflict, NotFound
from app.distribution import distributors, referrals
from app.distribution.models import ReferralBinding
from app.extensions import db


def bind(user, code, source="link", is_new_user=False):
    with transaction():
        binding = referrals.bind(user, code, source, is_new_user=is_new_user)
        return binding.distributor_id if binding is not None else None


def bound_to(user) -> int | None:
    db.session.expire_all()
    binding = referrals.current_binding(user.id)
    return binding.distributor_id if binding is not None else None


def rows(user) -> int:
    return db.session.scalar(sa.select(sa.func.count(ReferralBinding.id)).where(ReferralBinding.buyer_id == user.id))


def earns_from(user) -> int | None:
    """Level 1 of the chain an order placed now would keep."""
    chain = referrals.snapshot_for(user.id).get("chain") or [None]
    return chain[0]


def test_permanent_first_touch_wins_for_good(set_rules, make_distributor, make_user):
    set_rules(binding_mode="permanent")
    first, second = make_distributor(), make_distributor()
    buyer = make_user()
    assert bind(buyer, first.code, "qr") == first.id
    assert bind(buyer, second.code) == first.id
    with travel(timedelta(days=400)):
        assert bind(buyer, second.code) == first.id
        assert earns_from(buyer) == first.id
    assert bound_to(buyer) == first.id and rows(buyer) == 1
    assert referrals.current_binding(buyer.id).expires_at is None


def test_days_mode_holds_for_n_days_then_a_new_link_rebinds(set_rules, make_distributor, make_user):
    set_rules(binding_mode="days", binding_days="30")
    first, second = make_distributor(), make_distributor()
    buyer = make_user()
    start = utcnow()
    assert bind(buyer, first.code) == first.id
    binding = referrals.current_binding(buyer.id)
    assert abs((binding.expires_at - start) - timedelta(days=30)) < timedelta(minutes=1)
    with travel(timedelta(days=29)):
        assert bind(buyer, second.code) == first.id  # still valid: the new link changes nothing
        assert earns_from(buyer) == first.id
    with travel(timedelta(days=31)):
        assert earns_from(buyer) is None  # expired: an order now earns nobody
        assert bind(buyer, second.code) == second.id
        assert earns_from(buyer) == second.id
    assert bound_to(buyer) == second.id and rows(buyer) == 2
    ended = db.session.scalar(sa.select(ReferralBinding).where(ReferralBinding.buyer_id == buyer.id,
                                                               ReferralBinding.distributor_id == first.id))
    assert ended.ended_at is not None


def test_days_mode_the_same_link_after_expiry_binds_again(set_rules, make_distributor, make_user):
    """Bug fixed: the same distributor's link after expiry returned the expired binding,
    so the buyer stayed unbound (and earned nobody) for good."""
    set_rules(binding_mode="days", binding_days="30")
    first = make_distributor()
    buyer = make_user()
    bind(buyer, first.code)
    with travel(timedelta(days=31)):
        assert bind(buyer, first.code) == first.id
        assert earns_from(buyer) == first.id
        assert referrals.current_binding(buyer.id).expires_at > utcnow() + timedelta(days=29)
    assert rows(buyer) == 2


def test_last_touch_the_latest_link_wins(set_rules, make_distributor, make_user):
    set_rules(binding_mode="last_touch")
    first, second = make_distributor(), make_distributor()
    buyer = make_user()
    assert bind(buyer, first.code) == first.id
    with travel(timedelta(hours=1)):
        assert bind(buyer, second.code) == second.id
    assert bind(buyer, second.code) == second.id  # the same code again adds nothing
    assert bind(buyer, first.code) == first.id
    assert bound_to(buyer) == first.id and rows(buyer) == 3
    assert db.session.scalar(sa.select(sa.func.count(ReferralBinding.id)).where(
        ReferralBinding.buyer_id == buyer.id, ReferralBinding.ended_at.is_(None))) == 1


@pytest.mark.parametrize("mode", ["permanent", "days", "last_touch"])
def test_no_self_binding(mode, set_rules, make_distributor):
    set_rules(binding_mode=mode)
    me = make_distributor()
    with pytest.raises(Conflict) as refused, transaction():
        referrals.bind(me.user, me.code, "link", is_new_user=True)
    assert refused.value.code == "cannot_bind_self" and rows(me.user) == 0


@pytest.mark.parametrize("mode", ["permanent", "days", "last_touch"])
def test_no_binding_to_ones_own_downline(mode, set_rules, make_distributor):
    set_rules(binding_mode=mode)
    top = make_distributor()
    child = make_distributor(parent=top)
    grandchild = make_distributor(parent=child)
    for below in (child, grandchild):
        with pytest.raises(Conflict) as refused, transaction():
            referrals.bind(top.user, below.code, "link", is_new_user=True)
        assert refused.value.code == "cannot_bind_downline"
    with pytest.raises(Conflict), transaction():
        referrals.bind(child.user, grandchild.code, "link")
    assert rows(top.user) == 0 and bound_to(child.user) == top.id


def age(user, days: int = 1) -> None:
    user.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_new_users_only(set_rules, make_distributor, make_user):
    set_rules(bind_new_users_only=True)
    me = make_distributor()
    old, new = make_user(), make_user()
    age(old)
    assert bind(old, me.code, is_new_user=False) is None and rows(old) == 0
    assert bind(new, me.code, is_new_user=True) == me.id


def test_who_counts_as_new_is_one_rule(set_rules, make_user, make_product, place_order):
    """A registration is new; otherwise an account is new for NEW_USER_MINUTES after it was
    made and until its first order (the shop and the API both ask `counts_as_new`)."""
    set_rules()
    fresh, ordered, old = make_user(), make_user(), make_user()
    age(old)
    place_order(ordered, [(make_product().skus[0].id, 1)])
    assert referrals.counts_as_new(fresh) and referrals.counts_as_new(old, registering=True)
    assert not referrals.counts_as_new(ordered) and not referrals.counts_as_new(old)
    with travel(timedelta(minutes=referrals.NEW_USER_MINUTES + 1)):
        assert not referrals.counts_as_new(fresh)


def test_unknown_code(set_rules, make_user):
    set_rules()
    for code in ("ZZZZZZ", "", "X" * 40):
        with pytest.raises(NotFound) as refused, transaction():
            referrals.bind(make_user(), code, "link", is_new_user=True)
        assert refused.value.code == "invalid_code"


def test_inactive_distributor_binds_no_one(set_rules, make_distributor, make_user):
    set_rules()
    frozen = make_distributor()
    with transaction():
        distributors.freeze(make_user(admin_role="super"), frozen.id, "违规")
    set_rules(qualification="application")
    applicant = make_user()
    with transaction():
        pending = distributors.apply(applicant, {"real_name": "李四", "phone": "13800002222", "reason": ""})
    buyer = make_user()
    for code in (frozen.code, pending.code):
        with pytest.raises(Conflict) as refused, transaction():
            referrals.bind(buyer, code, "link", is_new_user=True)
        assert refused.value.code == "distributor_inactive"
    assert rows(buyer) == 0


def test_distribution_off_binds_nothing(set_rules, make_distributor, make_user):
    set_rules()
    me = make_distributor()
    set_rules(enabled=False)
    buyer = make_user()
    assert bind(buyer, me.code, is_new_user=True) is None and rows(buyer) == 0


def test_new_users_only_never_moves_an_existing_users_binding(set_rules, make_distributor, make_user):
    """Under "bind new users only", last_touch does not move a user who signs in with another link."""
    from app.core.db import transaction
    from app.distribution import referrals

    set_rules(binding_mode="last_touch", bind_new_users_only=True)
    first, second = make_distributor(), make_distributor()
    buyer = make_user()
    with transaction():
        referrals.bind(buyer, first.code, "link", is_new_user=True)
    with transaction():
        kept = referrals.bind(buyer, second.code, "link", is_new_user=False)
    assert kept.distributor_id == first.id
    assert referrals.current_binding(buyer.id).distributor_id == first.id
