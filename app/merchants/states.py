"""Statuses and transitions of merchant applications and shops."""
from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


# Which statuses an application may leave for each target (guarded UPDATEs use these).
APPLICATION_TRANSITIONS: dict[ApplicationStatus, tuple[ApplicationStatus, ...]] = {
    ApplicationStatus.SUBMITTED: (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED),
    ApplicationStatus.APPROVED: (ApplicationStatus.SUBMITTED,),
    ApplicationStatus.REJECTED: (ApplicationStatus.SUBMITTED,),
}
OPEN_APPLICATION_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.REJECTED)
EDITABLE_APPLICATION_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)


class BusinessType(StrEnum):
    INDIVIDUAL = "individual"  # 个体工商户
    ENTERPRISE = "enterprise"  # 企业


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


MERCHANT_TRANSITIONS: dict[MerchantStatus, tuple[MerchantStatus, ...]] = {
    MerchantStatus.SUSPENDED: (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED),  # a new suspension replaces the old
    MerchantStatus.CLOSED: (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED),
    MerchantStatus.ACTIVE: (MerchantStatus.SUSPENDED, MerchantStatus.CLOSED),  # lifting or reopening
}


class MemberRole(StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class PenaltyKind(StrEnum):
    WARNING = "warning"
    SUSPENSION = "suspension"
    CLOSURE = "closure"
    REOPENING = "reopening"  # kept in the same history so the timeline reads whole


class AlertChannel(StrEnum):
    INSITE = "insite"
    SMS = "sms"
    EMAIL = "email"


# The fields of an application, in form order; rejection reasons are keyed by these.
APPLICATION_FIELDS = (
    "shop_name", "business_type", "company_name", "credit_code", "legal_representative",
    "contact_name", "contact_phone", "main_categories", "licence", "id_front", "id_back",
)

# Main categories a shop declares when applying (the catalog issue brings the real tree).
MAIN_CATEGORIES = (
    "服饰鞋包", "美妆个护", "食品生鲜", "家居家装", "数码家电", "母婴玩具", "运动户外", "图书文具", "医药健康", "其他",
)
