"""Who may do what to an application or a shop now (merchants.policies), and the
timeline each move leaves."""
import pytest

from app.core.db import transaction
from app.core.errors import Forbidden, StaleState
from app.extensions import db
from app.merchants import applications, penalties, policies
from app.merchants.models import Merchant, MerchantApplication


def test_application_actions_by_state_and_actor(make_application, make_user):
    reviewer, finance = make_user(admin_role="operator"), make_user(admin_role="finance")
    draft = make_application(status="draft")
    submitted = make_application(status="submitted")
    rejected = make_application(status="rejected")
    assert policies.actions_for(draft, draft.applicant) == ("edit", "submit")
    assert policies.actions_for(rejected, rejected.applicant) == ("edit", "submit")
    assert policies.actions_for(submitted, submitted.applicant) == ()
    assert policies.actions_for(submitted, reviewer) == ("approve", "reject")
    assert policies.actions_for(draft, reviewer) == ()
    assert policies.actions_for(submitted, finance) == ()  # may look, not decide
    assert policies.actions_for(draft, make_user()) == ()  # someone else's draft
    with pytest.raises(Forbidden):
        policies.require(submitted, finance, "approve")
    with pytest.raises(StaleState) as stale:
        policies.require(draft, reviewer, "approve")
    assert (stale.value.act, stale.value.found) == ("approve", "draft")


@pytest.mark.parametrize("status,acts", [
    ("active", ("warn", "suspend", "close")),
    ("suspended", ("reopen", "warn", "suspend", "close")),
    ("closed", ("reopen",)),
])
def test_shop_actions_by_status(make_merchant, make_user, status, acts):
    merchant = make_merchant(status=status)
    assert policies.actions_for(merchant, make_user(admin_role="operator")) == acts
    assert policies.actions_for(merchant, make_user(admin_role="finance")) == ()
    assert policies.actions_for(merchant, make_user()) == ()


def test_a_rejection_keeps_its_reasons_and_whole_note_in_the_timeline(make_application, make_user):
    application = make_application(status="submitted")
    note = "请核对" * 150  # 450 characters: longer than a generic timeline note
    with transaction():
        applications.reject(make_user(admin_role="operator"), application.id, {"credit_code": "不一致"}, note)
    db.session.expire_all()
    event = db.session.get(MerchantApplication, application.id).events[-1]
    assert (event.from_status, event.to_status, event.reasons, event.note) == (
        "submitted", "rejected", {"credit_code": "不一致"}, note)
    assert event.step == "rejected" and event.by_reviewer


def test_each_status_move_is_one_history_entry(make_merchant, make_user):
    admin = make_user(admin_role="operator")
    merchant = make_merchant()
    with transaction():
        penalties.warn(admin, merchant.id, "请整改")
        penalties.suspend(admin, merchant.id, "暂停整改", None)
        penalties.reopen(admin, merchant.id, "整改完成")
    assert [(p.kind, p.reason, p.issued_by_id) for p in reversed(penalties.history(merchant.id))] == [
        ("warning", "请整改", admin.id), ("suspension", "暂停整改", admin.id), ("reopening", "整改完成", admin.id)]
    assert Merchant.timeline_count(merchant.id) == 3
