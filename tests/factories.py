"""Factories as fixtures that return a callable (`make_user(...)`)."""
from __future__ import annotations

import itertools

import pytest

from app.accounts.models import User
from app.accounts.services import hash_password
from app.extensions import db

PASSWORD = "secret123"
_numbers = itertools.count(1)


@pytest.fixture
def make_user():
    def make(phone: str | None = None, email: str | None = None, password: str | None = PASSWORD,
             nickname: str = "", admin_role: str = "none", **fields) -> User:
        n = next(_numbers)
        if phone is None and email is None:
            phone = f"1370000{n:04d}"
        user = User(
            phone=("+86" + phone) if phone else None, email=email, nickname=nickname or f"用户{n}",
            password_hash=hash_password(password) if password else None, admin_role=admin_role, **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign a user in on the test client without going through the form."""

    def sign_in(user: User, on=None):
        target = on or client
        with target.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return target

    return sign_in


@pytest.fixture
def api_token():
    from app.accounts.services import issue_api_token

    def issue(user: User) -> dict:
        token = issue_api_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return issue


def png_bytes(size=(64, 48), color=(255, 77, 46), fmt="PNG") -> bytes:
    """A small real image for upload tests."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


VALID_CREDIT_CODE = "91350100M000100Y43"


def application_data(**overrides) -> dict:
    data = {
        "shop_name": "小张的杂货铺", "business_type": "enterprise", "company_name": "福州小张贸易有限公司",
        "credit_code": VALID_CREDIT_CODE, "legal_representative": "张三", "contact_name": "张三",
        "contact_phone": "13900001111", "main_categories": ["食品生鲜", "家居家装"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_application(make_user):
    """An application in the state asked for: draft, submitted or rejected (committed)."""

    def make(applicant=None, status="submitted", **overrides):
        from app.merchants import applications

        applicant = applicant or make_user()
        docs = {kind: png_bytes() for kind in ("licence", "id_front", "id_back")}
        application = applications.save_draft(applicant, application_data(**overrides), docs)
        if status in ("submitted", "rejected"):
            applications.submit(applicant, application.id)
        if status == "rejected":
            reviewer = User(phone=None, email=f"reviewer{next(_numbers)}@example.com", admin_role="super")
            db.session.add(reviewer)
            db.session.flush()
            applications.reject(reviewer, application.id, {"credit_code": "与营业执照不一致"}, "请核对信用代码")
        db.session.commit()
        return application

    return make


@pytest.fixture
def make_merchant(make_user):
    """An open shop with its owner (committed)."""

    def make(owner=None, name=None, **fields):
        from app.merchants.models import Merchant, MerchantMember

        owner = owner or make_user()
        n = next(_numbers)
        merchant = Merchant(name=name or f"测试店铺{n}", business_type="enterprise", company_name="测试公司",
                            credit_code=VALID_CREDIT_CODE, contact_name="店主", contact_phone="+8613900000000", **fields)
        db.session.add(merchant)
        db.session.flush()
        db.session.add(MerchantMember(merchant_id=merchant.id, user_id=owner.id, role="owner"))
        db.session.commit()
        return merchant

    return make
