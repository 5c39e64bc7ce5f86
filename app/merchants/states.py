"""Statuses and transitions of merchant applications and shops (DOMAIN.md, Merchants)."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


# The applicant submits a draft (or, after fixing what was rejected, submits again);
# a reviewer approves (the shop opens) or rejects with reasons. The timeline is the
# application's own `merchant_application_events`; creating the draft is its first row.
APPLICATION_LIFECYCLE = Lifecycle("merchant_application", ApplicationStatus, (
    act("submit", (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED), ApplicationStatus.SUBMITTED),
    act("approve", ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED),
    act("reject", ApplicationStatus.SUBMITTED, ApplicationStatus.REJECTED),
))
OPEN_APPLICATION_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.REJECTED)
EDITABLE_APPLICATION_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)


class BusinessType(StrEnum):
    INDIVIDUAL = "individual"  # 个体工商户
    ENTERPRISE = "enterprise"  # 企业


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


# The platform's actions on a shop. A new suspension replaces the old one; reopening
# lifts a suspension or reopens a closed shop; `lift` is the job ending a suspension
# whose date has passed. The timeline is the shop's penalty history (`MerchantPenalty`),
# a warning being the one entry there that moves no status.
MERCHANT_LIFECYCLE = Lifecycle("merchant", MerchantStatus, (
    act("suspend", (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED), MerchantStatus.SUSPENDED),
    act("close", (MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED), MerchantStatus.CLOSED),
    act("reopen", (MerchantStatus.SUSPENDED, MerchantStatus.CLOSED), MerchantStatus.ACTIVE),
    act("lift", MerchantStatus.SUSPENDED, MerchantStatus.ACTIVE),
))


class MemberRole(StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class PenaltyKind(StrEnum):
    WARNING = "warning"
    SUSPENSION = "suspension"
    CLOSURE = "closure"
    REOPENING = "reopening"  # kept in the same history so the timeline reads whole


# The history entry a status move writes (a warning is the one entry that moves nothing).
PENALTY_OF_STATUS = {
    MerchantStatus.SUSPENDED: PenaltyKind.SUSPENSION,
    MerchantStatus.CLOSED: PenaltyKind.CLOSURE,
    MerchantStatus.ACTIVE: PenaltyKind.REOPENING,
}


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
