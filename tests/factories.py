"""Factories as fixtures that return a callable (`make_user(...)`)."""
from __future__ import annotations

import functools
import itertools

import pytest

from app.accounts.models import User
from app.accounts.services import hash_password
from app.extensions import db

PASSWORD = "secret123"
_numbers = itertools.count(1)


@functools.cache
def hashed(password: str) -> str:
    """A real scrypt hash of `password`, made once per run: scrypt is slow on purpose (about
    0.1 s here) and the suite makes thousands of users. Signing in still checks it for real."""
    return hash_password(password)


@pytest.fixture
def make_user():
    def make(phone: str | None = None, email: str | None = None, password: str | None = PASSWORD,
             nickname: str = "", admin_role: str = "none", **fields) -> User:
        n = next(_numbers)
        if phone is None and email is None:
            phone = f"1370000{n:04d}"
        user = User(
            phone=("+86" + phone) if phone else None, email=email, nickname=nickname or f"用户{n}",
            password_hash=hashed(password) if password else None, admin_role=admin_role, **fields,
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


@pytest.fixture
def make_category():
    """A leaf category under a two-level parent chain unless `parent` is given."""

    def make(name=None, parent=None, active=True):
        from app.catalog.models import Category

        n = next(_numbers)
        if parent is None:
            top = Category(name=f"大类{n}", depth=1)
            db.session.add(top)
            db.session.flush()
            parent = Category(name=f"中类{n}", depth=2, parent_id=top.id)
            db.session.add(parent)
            db.session.flush()
        leaf = Category(name=name or f"小类{n}", depth=parent.depth + 1, parent_id=parent.id, active=active)
        db.session.add(leaf)
        db.session.commit()
        return leaf

    return make


@pytest.fixture
def make_product(make_merchant, make_category):
    """An on-sale product with one SKU per stock given (committed), straight in the tables."""

    def make(merchant=None, category=None, title=None, stocks=(10,), price_fen=9900, status="on_sale",
             threshold=5, **fields):
        from app.catalog.models import Product, Sku

        merchant = merchant or make_merchant()
        category = category or make_category()
        n = next(_numbers)
        title = title or f"测试商品{n}"
        product = Product(merchant_id=merchant.id, category_id=category.id, title=title, status=status,
                          price_fen=price_fen, search_text=title,
                          specs=[{"name": "规格", "values": [f"款{i}" for i in range(len(stocks))]}], **fields)
        db.session.add(product)
        db.session.flush()
        for i, stock in enumerate(stocks):
            db.session.add(Sku(product_id=product.id, spec_values={"规格": f"款{i}"}, spec_key=f"规格:款{i}",
                               price_fen=price_fen, stock=stock, low_stock_threshold=threshold))
        db.session.commit()
        return product

    return make


@pytest.fixture
def make_address():
    """A shipping address for `user` (committed)."""

    def make(user, **fields):
        from app.accounts.models import Address

        values = {"recipient": "王小明", "phone": "13900001111", "province_code": "350000", "province": "福建省",
                  "city_code": "350100", "city": "福州市", "district_code": "350102", "district": "鼓楼区",
                  "detail": "五四路 100 号", "is_default": True, **fields}
        address = Address(user_id=user.id, **values)
        db.session.add(address)
        db.session.commit()
        return address

    return make


@pytest.fixture
def place_order(make_address):
    """Checkout through the real service: `place_order(buyer, [(sku_id, qty), ...])` -> Payment (committed)."""
    import uuid

    def place(buyer, items, address=None, notes=None, key=None):
        from app.core.db import transaction
        from app.orders import checkout

        address = address or make_address(buyer)
        with transaction():
            payment = checkout.submit(buyer, items, address.id, notes or {}, key or uuid.uuid4().hex)
        return payment

    return place


def sandbox_notification(out_trade_no: str, amount_fen: int, status: str = "SUCCESS",
                         transaction_id: str | None = None, notify_id: str | None = None,
                         secret: str = "sandbox-test-secret") -> tuple[bytes, dict]:
    """A signed sandbox notification (body, headers) as the sandbox gateway sends it."""
    import hashlib
    import hmac
    import json
    import uuid

    body = json.dumps({"out_trade_no": out_trade_no, "transaction_id": transaction_id or f"SB{uuid.uuid4().hex[:20]}",
                       "amount_fen": amount_fen, "status": status,
                       "notify_id": notify_id or uuid.uuid4().hex}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Sandbox-Signature": signature}


@pytest.fixture
def pay_sandbox(client):
    """Deliver a signed sandbox notification for `payment` through HTTP; returns the response."""

    def pay(payment, amount_fen=None, **kwargs):
        body, headers = sandbox_notification(payment.out_trade_no,
                                             payment.amount_fen if amount_fen is None else amount_fen, **kwargs)
        # End the test session's savepoint first, so a later rollback in the test
        # cannot undo what the request commits.
        db.session.commit()
        return client.post("/payments/notify/sandbox", data=body, headers=headers)

    return pay


@pytest.fixture
def make_distributor(make_user):
    """`make_distributor(parent=None)` -> an active Distributor bound under `parent` (committed)."""

    def make(parent=None, **user_fields):
        user = make_user(**user_fields)
        from app.core.db import transaction
        from app.distribution import distributors, referrals

        with transaction():
            if parent is not None:
                referrals.bind(user, parent.code, "link", is_new_user=True)
            distributor = distributors.open_centre(user)
        db.session.expire_all()
        return distributor

    return make


@pytest.fixture
def sold(make_merchant, make_product, place_order, pay_sandbox):
    """`sold(buyer, status="paid", quantity=2, ...)` -> the buyer's Order, paid (and
    shipped, or shipped and received) through the real services, from a shop with a
    default return address: what the after-sales pages and API start from."""
    import sqlalchemy as sa

    from app.core.db import transaction
    from app.merchants.models import MerchantAddress, MerchantMember
    from app.orders import services as order_services
    from app.orders.models import Order

    def make(buyer, status="paid", quantity=2, stocks=(10,), price_fen=9900, shipping_fen=0, auto_refund=True,
             title=None):
        merchant = make_merchant(shipping_flat_fen=shipping_fen, aftersale_auto_refund=auto_refund)
        db.session.add(MerchantAddress(merchant_id=merchant.id, label="仓库", recipient="售后部", phone="+8613800000000",
                                       address="浙江省杭州市余杭区仓前街道 1 号", is_default=True))
        db.session.commit()
        merchant_id, buyer_id = merchant.id, buyer.id  # (a live-server test's objects detach after a request)
        sku = make_product(merchant=merchant, stocks=stocks, price_fen=price_fen, title=title).skus[0]
        payment = place_order(buyer, [(sku.id, quantity)])
        payment_id = payment.id
        assert pay_sandbox(payment).status_code == 200
        db.session.expire_all()
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment_id))
        owner_id = db.session.scalar(sa.select(MerchantMember.user_id).where(
            MerchantMember.merchant_id == merchant_id, MerchantMember.role == "owner"))
        if status in ("shipped", "received"):
            with transaction():
                order_services.ship(owner_id, order.merchant_id, order.order_no, "shunfeng", "SF1234567890")
        if status == "received":
            with transaction():
                order_services.confirm_receipt(buyer_id, order.order_no)
        db.session.expire_all()
        return db.session.get(Order, order.id)

    return make
