"""Demo data for the embedded default and for trying the product (`flask seed-demo`).

Idempotent: accounts are found by phone and left as they are when present.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.accounts import addresses
from app.accounts.models import Address, User
from app.accounts.services import find_by_phone, hash_password
from app.accounts.states import AdminRole
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
    return logins
