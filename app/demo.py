"""Demo data for the embedded default and for trying the product (`flask seed-demo`).

Idempotent: accounts are found by phone and left as they are when present.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts import addresses
from app.accounts.models import Address, User
from app.accounts.services import find_by_phone, hash_password
from app.accounts.states import AdminRole
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db
from app.notifications import services as notifications

DEMO_PASSWORD = "demo1234"

DEMO_USERS = [
    # (role label, phone, email, nickname, admin role)
    ("super", "13800000001", "admin@demo.shop", "平台管理员", AdminRole.SUPER),
    ("operator", "13800000002", "ops@demo.shop", "运营小王", AdminRole.OPERATOR),
    ("finance", "13800000003", "finance@demo.shop", "财务小李", AdminRole.FINANCE),
    ("shopper", "13900000001", "buyer@demo.shop", "爱逛街的小张", AdminRole.NONE),
    ("shopper", "13900000002", None, "数码控老陈", AdminRole.NONE),
    ("merchant", "13700000001", "shop@demo.shop", "鲜果铺掌柜", AdminRole.NONE),
    ("applicant", "13700000002", None, "想开店的小周", AdminRole.NONE),
]


def seed_demo() -> list[tuple[str, str, str]]:
    logins = []
    with transaction():
        for label, phone, email, nickname, role in DEMO_USERS:
            e164 = "+86" + phone
            user = find_by_phone(e164)
            if user is None:
                user = User(phone=e164, email=email, nickname=nickname, admin_role=role,
                            password_hash=hash_password(DEMO_PASSWORD))
                db.session.add(user)
                db.session.flush()
                notifications.notify(user.id, "欢迎来到多用户商城", "这是一个演示账号，可以随意体验。", kind="system")
            logins.append((label, phone, DEMO_PASSWORD))
        shopper = find_by_phone("+8613900000001")
        has_address = db.session.scalar(sa.select(sa.func.count(Address.id)).where(Address.user_id == shopper.id))
        if not has_address:
            addresses.add(shopper.id, {
                "recipient": "张小姐", "phone": "13900000001", "province_code": "310000",
                "city_code": "310100", "district_code": "310104", "detail": "漕溪北路 88 号 12 楼", "is_default": True,
            })
        _seed_merchants()
    return logins


def _seed_merchants() -> None:
    """One open shop (owner 13700000001) and one application waiting for review."""
    from app.core.storage import save_image
    from app.merchants.models import Merchant, MerchantApplication, MerchantMember
    from app.merchants.states import ApplicationStatus

    owner = find_by_phone("+8613700000001")
    if not db.session.scalar(sa.select(sa.func.count(MerchantMember.id)).where(MerchantMember.user_id == owner.id)):
        merchant = Merchant(
            name="鲜果铺", business_type="enterprise", company_name="上海鲜果贸易有限公司",
            credit_code="91350100M000100Y43", contact_name="王掌柜", contact_phone="+8613700000001",
            main_categories=["食品生鲜"], description="产地直采的当季水果，次日达。",
            return_recipient="王掌柜", return_phone="+8613700000001", return_address="上海市浦东新区张江路 100 号",
            shipping_flat_fen=800, free_shipping_threshold_fen=9900,
        )
        db.session.add(merchant)
        db.session.flush()
        db.session.add(MerchantMember(merchant_id=merchant.id, user_id=owner.id, role="owner"))
    applicant = find_by_phone("+8613700000002")
    if not db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))
                             .where(MerchantApplication.applicant_id == applicant.id)):
        application = MerchantApplication(
            applicant_id=applicant.id, status=ApplicationStatus.SUBMITTED, shop_name="小周数码",
            business_type="individual", company_name="", credit_code="91110000600037341L",
            legal_representative="周小明", contact_name="周小明", contact_phone="+8613700000002",
            main_categories=["数码家电"], submitted_at=utcnow(),
        )
        db.session.add(application)
        db.session.flush()
        for kind, color in (("licence", (230, 240, 255)), ("id_front", (255, 240, 230)), ("id_back", (240, 255, 235))):
            key = save_image(_demo_document(color), f"merchant-documents/{application.id}").key
            setattr(application, f"{kind}_key", key)
        from app.merchants.models import ApplicationEvent

        db.session.add_all([
            ApplicationEvent(application_id=application.id, actor_id=applicant.id, to_status="draft"),
            ApplicationEvent(application_id=application.id, actor_id=applicant.id, from_status="draft",
                             to_status="submitted"),
        ])
    db.session.flush()


def _demo_document(color: tuple[int, int, int]) -> bytes:
    """A plain placeholder image standing in for a scanned document."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 420), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 400), outline=(100, 100, 100), width=4)
    draw.text((40, 40), "DEMO", fill=(80, 80, 80))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
