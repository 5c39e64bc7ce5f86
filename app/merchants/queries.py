"""Reads worth naming: the review queue and the merchant list, each a fixed number of queries."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.clock import SHANGHAI
from app.core.pagination import Page, paginate
from app.extensions import db
from app.merchants.models import Merchant, MerchantApplication, MerchantMember
from app.merchants.states import ApplicationStatus, MemberRole, MerchantStatus


def pending_review_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(MerchantApplication.id))
                             .where(MerchantApplication.status == ApplicationStatus.SUBMITTED)) or 0


def review_queue(status: str | None, business_type: str | None, since: date | None, until: date | None,
                 page, per_page=20) -> Page:
    """Applications for review, oldest submitted first (first come, first served)."""
    stmt = sa.select(MerchantApplication).options(selectinload(MerchantApplication.applicant))
    status = status or ApplicationStatus.SUBMITTED
    if status != "all":
        stmt = stmt.where(MerchantApplication.status == status)
    else:
        stmt = stmt.where(MerchantApplication.status != ApplicationStatus.DRAFT)
    if business_type:
        stmt = stmt.where(MerchantApplication.business_type == business_type)
    if since:
        stmt = stmt.where(MerchantApplication.submitted_at >= datetime.combine(since, time(), SHANGHAI))
    if until:
        stmt = stmt.where(MerchantApplication.submitted_at < datetime.combine(until + timedelta(days=1), time(), SHANGHAI))
    stmt = stmt.order_by(MerchantApplication.submitted_at.asc().nulls_last(), MerchantApplication.id.asc())
    return paginate(stmt, page, per_page)


def merchant_list(query: str | None, status: str | None, page, per_page=20) -> Page:
    """Search by shop name, owner phone or id."""
    stmt = sa.select(Merchant).order_by(Merchant.id.desc())
    q = (query or "").strip()
    if q.isdigit() and len(q) < 7:
        stmt = stmt.where(Merchant.id == int(q))
    elif q.lstrip("+").isdigit():
        owners = (sa.select(MerchantMember.merchant_id).join(User, User.id == MerchantMember.user_id)
                  .where(MerchantMember.role == MemberRole.OWNER, User.phone.contains(q.lstrip("+"), autoescape=True)))
        stmt = stmt.where(Merchant.id.in_(owners))
    elif q:
        stmt = stmt.where(Merchant.name.icontains(q, autoescape=True))
    if status:
        stmt = stmt.where(Merchant.status == status)
    return paginate(stmt, page, per_page)


def owners_of(merchant_ids: list[int]) -> dict[int, User]:
    """merchant id -> owner, in one query (for list pages)."""
    if not merchant_ids:
        return {}
    rows = db.session.execute(
        sa.select(MerchantMember.merchant_id, User).join(User, User.id == MerchantMember.user_id)
        .where(MerchantMember.merchant_id.in_(merchant_ids), MerchantMember.role == MemberRole.OWNER)
    ).all()
    return {merchant_id: user for merchant_id, user in rows}


def owned_open_shops(user_id: int) -> list[Merchant]:
    """Shops the user owns that are not closed (an owner cannot delete their account while one is)."""
    return list(db.session.scalars(
        sa.select(Merchant).join(MerchantMember, MerchantMember.merchant_id == Merchant.id)
        .where(MerchantMember.user_id == user_id, MerchantMember.role == MemberRole.OWNER,
               Merchant.status != MerchantStatus.CLOSED).order_by(Merchant.id)
    ))


def has_application_in_review(user_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count(MerchantApplication.id)).where(
        MerchantApplication.applicant_id == user_id,
        MerchantApplication.status == ApplicationStatus.SUBMITTED)) > 0


def memberships_of(user_id: int) -> list[MerchantMember]:
    return list(db.session.scalars(
        sa.select(MerchantMember).options(selectinload(MerchantMember.merchant))
        .where(MerchantMember.user_id == user_id).order_by(MerchantMember.id)
    ))


def open_shops(limit: int = 8) -> list[Merchant]:
    """The newest shops open for business, for the storefront's home page."""
    return list(db.session.scalars(
        sa.select(Merchant).where(Merchant.status == MerchantStatus.ACTIVE).order_by(Merchant.id.desc()).limit(limit)
    ))
