"""Shop applications' identity documents are erased when their keeping time is over: three
years after the shop was closed (not while it is open, suspended or reopened), 180 days
after an application that never became a shop last changed; the images leave the disk,
the application says when, the admin page and the applicant's form say so, an applicant
who uploads again is kept anew, and nothing is erased twice."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.clock import travel
from app.core.db import transaction
from app.core.models import AuditLog
from app.core.storage import upload_root
from app.extensions import db
from app.merchants import applications, penalties
from app.merchants.document_retention import (
    KEEP_AFTER_CLOSURE,
    KEEP_UNUSED,
    due_ids,
    erase,
    sweep_expired_documents,
)
from app.merchants.models import MerchantApplication
from tests.factories import png_bytes
from tests.web.helpers import text

DAY = timedelta(days=1)


def fresh(application_id: int) -> MerchantApplication:
    db.session.expire_all()
    return db.session.get(MerchantApplication, application_id)


def stored(application: MerchantApplication) -> list:
    return [upload_root() / key for key in (application.licence_key, application.id_front_key,
                                            application.id_back_key)]


def opened_shop(make_application, make_user):
    """An approved application, its shop open: (application id, merchant id, operator)."""
    application = make_application()
    operator = make_user(admin_role="operator")
    with transaction():
        merchant = applications.approve(operator, application.id)
    return application.id, merchant.id, operator


def test_a_closed_shops_documents_go_three_years_after_the_closure(app, make_application, make_user, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    application_id, merchant_id, operator = opened_shop(make_application, make_user)
    files = stored(fresh(application_id))
    assert all(f.is_file() for f in files)
    with travel(KEEP_AFTER_CLOSURE * 2):
        assert due_ids() == []  # open: kept however long
    with transaction():
        penalties.close(operator, merchant_id, "长期违规经营")
    with travel(KEEP_AFTER_CLOSURE - DAY):
        assert due_ids() == [] and sweep_expired_documents() == 0
    with travel(KEEP_AFTER_CLOSURE + DAY):
        assert sweep_expired_documents() == 1
        assert sweep_expired_documents() == 0  # nothing twice
    erased = fresh(application_id)
    assert (erased.licence_key, erased.id_front_key, erased.id_back_key) == (None, None, None)
    assert erased.documents_erased_at is not None and erased.credit_code  # the text stays
    assert not any(f.exists() for f in files)
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id)).where(
        AuditLog.action == "merchant_application.documents_erased", AuditLog.target_id == str(application_id))) == 1


def test_a_shop_reopened_keeps_its_documents(make_application, make_user):
    application_id, merchant_id, operator = opened_shop(make_application, make_user)
    with transaction():
        penalties.close(operator, merchant_id, "暂时关闭")
    with transaction():
        penalties.reopen(operator, merchant_id, "整改完成")
    with travel(KEEP_AFTER_CLOSURE + DAY):
        assert due_ids() == [] and erase(application_id) is False
    assert fresh(application_id).licence_key is not None


def test_an_application_left_alone_is_erased_and_asks_again(app, client, make_application, make_user, login):
    rejected = make_application(status="rejected")
    draft = make_application(status="draft")
    waiting = make_application(status="submitted")  # in review: the platform still has to decide
    with travel(KEEP_UNUSED - DAY):
        assert due_ids() == []
    with travel(KEEP_UNUSED + DAY):
        assert due_ids() == [rejected.id, draft.id]
        assert sweep_expired_documents() == 2
    assert fresh(waiting.id).licence_key is not None

    # the applicant sees why the form asks for the images again; the reviewer sees why they are gone
    login(rejected.applicant)
    form = text(client.get("/merchant/apply"))
    assert 'id="documents-erased"' in form and "证件照片已过保存期限并被删除" in form
    reviewer = app.test_client()
    login(make_user(admin_role="operator"), on=reviewer)
    page = text(reviewer.get(f"/admin/merchant-applications/{rejected.id}"))
    assert 'id="documents-erased"' in page and "保存期满后删除" in page

    # new images are kept for their own time, then erased again like any others
    with transaction():
        applications.save_draft(rejected.applicant, {}, {"licence": png_bytes(), "id_front": png_bytes(),
                                                         "id_back": png_bytes()})
    again = fresh(rejected.id)
    assert again.documents_erased_at is None and again.licence_key
    assert due_ids() == []
    with travel(KEEP_UNUSED + DAY):
        assert rejected.id in due_ids()
