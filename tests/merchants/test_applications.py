"""Applying to open a shop and the platform's decision (services)."""

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.core.db import transaction
from app.core.errors import Conflict, Forbidden, StaleState, ValidationError
from app.extensions import db
from app.merchants import applications
from app.merchants.models import ApplicationEvent, Merchant, MerchantApplication, MerchantMember
from app.notifications.models import Message
from tests.factories import application_data, png_bytes
from tests.race import at_once

DOCS = {"licence": png_bytes(), "id_front": png_bytes(), "id_back": png_bytes()}


def test_draft_then_submit(make_user):
    user = make_user()
    with transaction():
        draft = applications.save_draft(user, {"shop_name": "半成品"})
    assert draft.status == "draft"
    with pytest.raises(ValidationError) as err, transaction():
        applications.submit(user, draft.id)
    assert {"credit_code", "licence", "main_categories"} <= set(err.value.fields)
    with transaction():
        applications.save_draft(user, application_data(), DOCS)
        applications.submit(user, draft.id)
    db.session.expire_all()
    application = db.session.get(MerchantApplication, draft.id)
    assert application.status == "submitted" and application.submitted_at is not None
    assert application.licence_key.startswith(f"merchant-documents/{draft.id}/")
    assert [e.to_status for e in application.events] == ["draft", "submitted"]


@pytest.mark.parametrize("field,value", [
    ("credit_code", "91350100M000100Y44"), ("contact_phone", "12345"), ("business_type", "alien"),
    ("main_categories", ["不存在的类目"]), ("shop_name", "x"),
])
def test_invalid_fields_change_nothing(make_user, field, value):
    user = make_user()
    with pytest.raises(ValidationError) as err, transaction():
        applications.save_draft(user, application_data(**{field: value}))
    assert field in err.value.fields
    assert db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))) == 0


def test_bad_document_is_refused_before_anything_is_stored(make_user, app):
    user = make_user()
    with pytest.raises(ValidationError) as err, transaction():
        applications.save_draft(user, application_data(), {**DOCS, "id_back": b"<svg></svg>"})
    assert "id_back" in err.value.fields
    assert db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))) == 0


def test_one_open_application_per_user(make_application):
    application = make_application(status="submitted")
    with pytest.raises(Conflict), transaction():
        applications.save_draft(application.applicant, {"shop_name": "第二家"})


def test_approve_opens_the_shop_with_the_applicant_as_owner(make_application, make_user):
    application = make_application()
    admin = make_user(admin_role="operator")
    with transaction():
        merchant = applications.approve(admin, application.id)
    member = db.session.scalar(sa.select(MerchantMember).where(MerchantMember.merchant_id == merchant.id))
    assert member.user_id == application.applicant_id and member.role == "owner"
    assert db.session.get(MerchantApplication, application.id).merchant_id == merchant.id
    assert db.session.scalar(sa.select(Message.title).where(Message.recipient_id == application.applicant_id)) == "入驻申请已通过"


def test_reject_with_reasons_then_resubmit(make_application, make_user):
    application = make_application()
    admin = make_user(admin_role="operator")
    with transaction():
        applications.reject(admin, application.id, {"credit_code": "与执照不一致", "bogus": "x"}, "请核对")
    db.session.expire_all()
    rejected = db.session.get(MerchantApplication, application.id)
    assert rejected.status == "rejected" and rejected.rejection_reasons == {"credit_code": "与执照不一致"}
    with transaction():
        applications.save_draft(rejected.applicant, {"credit_code": "91110000600037341L"})
        applications.submit(rejected.applicant, application.id)
    events = db.session.scalars(sa.select(ApplicationEvent.to_status).where(ApplicationEvent.application_id == application.id)).all()
    assert events == ["draft", "submitted", "rejected", "submitted"]


def test_reject_needs_a_reason_and_reviewers_need_the_role(make_application, make_user):
    application = make_application()
    with pytest.raises(ValidationError), transaction():
        applications.reject(make_user(admin_role="operator"), application.id, {}, "")
    with pytest.raises(Forbidden), transaction():
        applications.approve(make_user(admin_role="finance"), application.id)
    with pytest.raises(Forbidden), transaction():
        applications.approve(make_user(), application.id)
    assert db.session.get(MerchantApplication, application.id).status == "submitted"


def test_a_decided_application_cannot_be_decided_again(make_application, make_user):
    application = make_application()
    admin = make_user(admin_role="operator")
    with transaction():
        applications.approve(admin, application.id)
    with pytest.raises(StaleState), transaction():
        applications.reject(admin, application.id, {}, "晚了")


def test_another_users_application_is_not_found(make_application, make_user):
    from app.core.errors import NotFound

    application = make_application(status="draft")
    with pytest.raises(NotFound):
        applications.get_own(make_user().id, application.id)
    with pytest.raises(NotFound), transaction():
        applications.submit(make_user(), application.id)


@pytest.mark.live_db
def test_two_admins_deciding_at_once_one_wins(app, make_application, make_user):
    application = make_application()
    admin_ids = [make_user(admin_role="operator").id, make_user(admin_role="operator").id]
    application_id = application.id
    db.session.remove()

    def decide(i):
        actor = db.session.get(User, admin_ids[i])
        try:
            with transaction():
                if i == 0:
                    applications.approve(actor, application_id)
                else:
                    applications.reject(actor, application_id, {"shop_name": "重名"}, None)
            return "won"
        except StaleState:
            return "stale"

    outcomes = at_once(2, decide, app=app)
    assert sorted(outcomes) == ["stale", "won"]
    merchants = db.session.scalar(sa.select(sa.func.count(Merchant.id)))
    status = db.session.get(MerchantApplication, application_id).status
    assert (status, merchants) in {("approved", 1), ("rejected", 0)}
