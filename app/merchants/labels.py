"""Words and badge tones of merchant statuses, the same on every surface
(`status_label("merchant", shop.status)`, `status_badge(...)` in templates).

Applicants and reviewers word an application's status their own way: the reviewer's
待审核 / 已驳回 is the applicant's 审核中 / 未通过 (audience "applicant")."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.labels import StatusLabels, Tone
from app.merchants.states import ApplicationStatus, BusinessType, MerchantStatus, PenaltyKind

APPLICATION = StatusLabels("merchant_application", {
    ApplicationStatus.DRAFT: _l("草稿"),
    ApplicationStatus.SUBMITTED: {"default": _l("待审核"), "applicant": _l("审核中")},
    ApplicationStatus.APPROVED: _l("已通过"),
    ApplicationStatus.REJECTED: {"default": _l("已驳回"), "applicant": _l("未通过")},
}, {
    ApplicationStatus.DRAFT: Tone.PENDING,
    ApplicationStatus.SUBMITTED: Tone.REVIEW,
    ApplicationStatus.APPROVED: Tone.GOOD,
    ApplicationStatus.REJECTED: Tone.BAD,
})

# The steps of an application's timeline (`ApplicationEvent.step`), as each side reads them.
APPLICATION_STEP = StatusLabels("merchant_application_step", {
    "created": _l("创建申请"),
    "resubmitted": _l("修改后重新提交"),
    "submitted": _l("提交审核"),
    "approved": {"default": _l("审核通过"), "applicant": _l("审核通过，店铺已开通")},
    "rejected": {"default": _l("审核驳回"), "applicant": _l("审核未通过")},
}, {
    "created": Tone.PENDING, "resubmitted": Tone.REVIEW, "submitted": Tone.REVIEW,
    "approved": Tone.GOOD, "rejected": Tone.BAD,
})

MERCHANT = StatusLabels("merchant", {
    MerchantStatus.ACTIVE: _l("营业中"),
    MerchantStatus.SUSPENDED: _l("暂停营业"),
    MerchantStatus.CLOSED: _l("已关闭"),
}, {
    MerchantStatus.ACTIVE: Tone.GOOD,
    MerchantStatus.SUSPENDED: Tone.WARNING,
    MerchantStatus.CLOSED: Tone.BAD,
})

# A shop's history entries, coloured as the status each leads to.
PENALTY = StatusLabels("merchant_penalty", {
    PenaltyKind.WARNING: _l("警告"),
    PenaltyKind.SUSPENSION: _l("暂停营业"),
    PenaltyKind.CLOSURE: _l("关闭店铺"),
    PenaltyKind.REOPENING: _l("恢复营业"),
}, {
    PenaltyKind.WARNING: Tone.WARNING,
    PenaltyKind.SUSPENSION: Tone.WARNING,
    PenaltyKind.CLOSURE: Tone.BAD,
    PenaltyKind.REOPENING: Tone.GOOD,
})

# What kind of business a shop is (its application's 主体类型), on the apply pages and the admin's.
BUSINESS_TYPE_LABELS = {BusinessType.INDIVIDUAL: _l("个体工商户"), BusinessType.ENTERPRISE: _l("企业")}
