"""Who may do what with a shop. Staff do everything but staff and settings;
only the owner manages those. Admin permissions for reviews and penalties."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.merchants.models import MerchantMember
from app.merchants.states import MemberRole


def membership(user_id: int, merchant_id: int) -> MerchantMember | None:
    return db.session.scalar(
        sa.select(MerchantMember).where(MerchantMember.user_id == user_id, MerchantMember.merchant_id == merchant_id)
    )


def is_owner(member: MerchantMember | None) -> bool:
    return member is not None and member.role == MemberRole.OWNER


def may_manage_shop(member: MerchantMember | None) -> bool:
    """Settings, staff and API keys: the owner only."""
    return is_owner(member)
