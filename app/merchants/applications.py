"""商家入驻: applying to open a shop, and the platform's review.

Guarantees:
- One open application (draft, submitted or rejected) per user; a unique
  partial index backs this up under a race.
- Documents are images checked by `app.core.storage` and stored under
  server-generated names; only the applicant and admins can open them.
- Every transition (submit, approve, reject) is a `move` of `APPLICATION_LIFECYCLE`
  (a guarded UPDATE), so of two admins deciding at once exactly one wins and the
  other gets `StaleState`; who may do which is `policies.actions_for`.
- Each transition writes an `ApplicationEvent` (the timeline) in the same
  transaction and notifies the applicant; rejection keeps per-field reasons for
  the applicant to fix.
- Approval creates the `Merchant` with the applicant as owner in the same transaction.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.validation import normalise_phone
from app.core import audit, page_cache, storage
from app.core.clock import utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.lifecycle import move
from app.extensions import db
from app.merchants import policies
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantApplication, MerchantMember
from app.merchants.states import (
    APPLICATION_FIELDS,
    APPLICATION_LIFECYCLE,
    MAIN_CATEGORIES,
    OPEN_APPLICATION_STATUSES,
    ApplicationStatus,
    BusinessType,
    MemberRole,
)
from app.merchants.validation import is_valid_credit_code
from app.notifications import services as notifications

DOCUMENT_KINDS = ("licence", "id_front", "id_back")
TEXT_FIELDS = ("shop_name", "business_type", "company_name", "credit_code", "legal_representative",
               "contact_name", "contact_phone")


def open_application_for(user_id: int) -> MerchantApplication | None:
    return db.session.scalar(
        sa.select(MerchantApplication).where(
            MerchantApplication.applicant_id == user_id, MerchantApplication.status.in_(OPEN_APPLICATION_STATUSES)
        )
    )


def applications_of(user_id: int) -> list[MerchantApplication]:
    return list(db.session.scalars(
        sa.select(MerchantApplication).where(MerchantApplication.applicant_id == user_id)
        .order_by(MerchantApplication.id.desc())
    ))


def get_own(user_id: int, application_id: int) -> MerchantApplication:
    """The user's own application; anyone else's id is NotFound."""
    application = db.session.scalar(sa.select(MerchantApplication).where(
        MerchantApplication.id == application_id, MerchantApplication.applicant_id == user_id))
    if application is None:
        raise NotFound(_("申请不存在"), code=MerchantError.APPLICATION_NOT_FOUND)
    return application


def get_for_review(application_id: int) -> MerchantApplication:
    application = db.session.get(MerchantApplication, application_id)
    if application is None:
        raise NotFound(_("申请不存在"), code=MerchantError.APPLICATION_NOT_FOUND)
    return application


def _clean_fields(data: dict) -> tuple[dict, dict[str, str]]:
    """Normalise what was typed; return (values, errors). Empty fields are allowed in a draft."""
    values: dict = {}
    errors: dict[str, str] = {}
    for field in TEXT_FIELDS:
        if field in data and data[field] is not None:
            values[field] = str(data[field]).strip()
    if values.get("shop_name") and not 2 <= len(values["shop_name"]) <= 30:
        errors["shop_name"] = _("店铺名称为 2 到 30 个字")
    if values.get("business_type") and values["business_type"] not in tuple(BusinessType):
        errors["business_type"] = _("请选择主体类型")
    if values.get("credit_code"):
        values["credit_code"] = values["credit_code"].upper()
        if not is_valid_credit_code(values["credit_code"]):
            errors["credit_code"] = _("统一社会信用代码无效，请核对 18 位代码")
    if values.get("contact_phone"):
        try:
            values["contact_phone"] = normalise_phone(values["contact_phone"])
        except ValidationError as exc:
            errors["contact_phone"] = exc.message
    for field, limit in (("company_name", 100), ("legal_representative", 40), ("contact_name", 40)):
        if len(values.get(field, "")) > limit:
            errors[field] = _("最多 %(n)d 个字", n=limit)
    if "main_categories" in data and data["main_categories"] is not None:
        chosen = [c for c in data["main_categories"] if c]
        unknown = [c for c in chosen if c not in MAIN_CATEGORIES]
        if unknown or len(chosen) > 3:
            errors["main_categories"] = _("请选择 1 到 3 个主营类目")
        values["main_categories"] = list(dict.fromkeys(chosen))
    return values, errors


def save_draft(user: User, data: dict, documents: dict[str, bytes] | None = None) -> MerchantApplication:
    """Create the user's open application or update it while it is a draft or rejected.

    Fields may be incomplete; what is given must be valid. Document images are
    checked before anything is stored, so a bad file changes nothing.
    """
    application = open_application_for(user.id)
    if application is not None and "edit" not in policies.actions_for(application, user):
        raise Conflict(_("申请正在审核中，审核结束前不能修改"), code=MerchantError.APPLICATION_IN_REVIEW)
    values, errors = _clean_fields(data)
    stored: dict[str, storage.StoredFile] = {}
    for kind, content in (documents or {}).items():
        if kind not in DOCUMENT_KINDS or not content:
            continue
        try:
            storage.check_image(content)
        except ValidationError as exc:
            errors[kind] = exc.message
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    if application is None:
        application = MerchantApplication(applicant_id=user.id, status=ApplicationStatus.DRAFT)
        add_unique(application, Conflict(_("你已经有一份进行中的入驻申请"), code=MerchantError.APPLICATION_EXISTS))
        # The timeline's first row: no move made it, the application was born a draft.
        db.session.add(MerchantApplication.timeline_row(application.id, None, ApplicationStatus.DRAFT, user.id, None))
    for kind, content in (documents or {}).items():
        if kind in DOCUMENT_KINDS and content:
            stored[kind] = storage.save_image(content, f"merchant-documents/{application.id}")
    for field, value in values.items():
        setattr(application, field, value)
    for kind, file in stored.items():
        old = application.document_key(kind)
        setattr(application, f"{kind}_key", file.key)
        if old:
            storage.delete_stored(old)
    if stored:
        application.documents_erased_at = None  # new images: kept for their own time (document_retention)
    db.session.flush()
    return application


def missing_fields(application: MerchantApplication) -> dict[str, str]:
    """What still has to be filled before submitting (field -> message)."""
    missing: dict[str, str] = {}
    required = _("必填")
    for field in TEXT_FIELDS:
        if not getattr(application, field):
            missing[field] = required
    if application.business_type == BusinessType.INDIVIDUAL:
        missing.pop("company_name", None)  # 个体工商户 may have no registered company name
    if not application.main_categories:
        missing["main_categories"] = _("请选择 1 到 3 个主营类目")
    for kind in DOCUMENT_KINDS:
        if not application.document_key(kind):
            missing[kind] = _("请上传图片")
    return missing


def _shop_name_taken(name: str) -> bool:
    return db.session.scalar(sa.select(sa.func.count(Merchant.id)).where(Merchant.name == name)) > 0


def submit(user: User, application_id: int) -> MerchantApplication:
    """Send the user's complete draft (or fixed rejection) for review."""
    application = get_own(user.id, application_id)
    policies.require(application, user, "submit")
    missing = missing_fields(application)
    if missing:
        raise ValidationError(_("请先填写完整再提交"), code=MerchantError.APPLICATION_INCOMPLETE, fields=missing)
    if _shop_name_taken(application.shop_name):
        message = _("店铺名称已被使用")
        raise ValidationError(message, code=MerchantError.SHOP_NAME_TAKEN, fields={"shop_name": message})
    move(APPLICATION_LIFECYCLE, MerchantApplication, application.id, "submit", actor_id=user.id,
         values={"submitted_at": utcnow()})
    return application


def approve(actor, application_id: int, note: str | None = None) -> Merchant:
    """Approve a submitted application and open the shop with the applicant as owner."""
    application = get_for_review(application_id)
    policies.require(application, actor, "approve")
    move(APPLICATION_LIFECYCLE, MerchantApplication, application.id, "approve", actor_id=actor.id, note=note,
         values={"decided_at": utcnow(), "decided_by_id": actor.id, "rejection_reasons": {}, "rejection_note": None})
    if _shop_name_taken(application.shop_name):
        raise Conflict(_("店铺名称已被其他店铺使用，请驳回并让申请人修改"), code=MerchantError.SHOP_NAME_TAKEN)
    merchant = Merchant(
        name=application.shop_name, business_type=application.business_type,
        company_name=application.company_name or application.legal_representative,
        credit_code=application.credit_code, contact_name=application.contact_name,
        contact_phone=application.contact_phone, main_categories=list(application.main_categories),
    )
    db.session.add(merchant)
    db.session.flush()
    db.session.add(MerchantMember(merchant_id=merchant.id, user_id=application.applicant_id, role=MemberRole.OWNER))
    application.merchant_id = merchant.id
    audit.record(actor, "merchant_application.approve", application, {"status": ["submitted", "approved"]}, note)
    db.session.flush()
    page_cache.listing_changed()  # the home page's 入驻店铺
    _notify_applicant(application, _("入驻申请已通过"),
                      _("恭喜，店铺「%(name)s」已开通，现在就可以进入商家中心。", name=application.shop_name),
                      "/merchant/")
    return merchant


def reject(actor, application_id: int, reasons: dict[str, str], note: str | None) -> MerchantApplication:
    """Reject with reasons for the fields at fault (at least one field or a note)."""
    application = get_for_review(application_id)
    policies.require(application, actor, "reject")
    reasons = {f: (r or "").strip()[:200] for f, r in (reasons or {}).items() if f in APPLICATION_FIELDS}
    reasons = {f: r or _("请修改") for f, r in reasons.items()}
    note = (note or "").strip()[:500] or None
    if not reasons and not note:
        message = _("请选择有问题的字段或填写驳回说明")
        raise ValidationError(message, code=MerchantError.REASONS_REQUIRED, fields={"note": message})
    # The event row copies the reasons and the note from the row this UPDATE writes.
    move(APPLICATION_LIFECYCLE, MerchantApplication, application.id, "reject", actor_id=actor.id, note=note,
         values={"decided_at": utcnow(), "decided_by_id": actor.id, "rejection_reasons": reasons,
                 "rejection_note": note})
    audit.record(actor, "merchant_application.reject", application, {"status": ["submitted", "rejected"]}, note)
    db.session.flush()
    _notify_applicant(application, _("入驻申请未通过"),
                      _("请根据驳回原因修改后重新提交：%(note)s", note=note or "、".join(reasons.values())),
                      "/merchant/apply")
    return application


def _notify_applicant(application: MerchantApplication, title: str, body: str, link: str) -> None:
    """In-site message plus SMS (or mail when the applicant has no phone)."""
    applicant = db.session.get(User, application.applicant_id)
    notifications.notify(applicant.id, title, body, link=link, kind="merchant_application")
    if applicant.phone:
        notifications.send_sms(applicant.phone, "notice", {"text": f"{title}：{body}"})
    elif applicant.email:
        notifications.send_mail(applicant.email, "notice", {"text": body}, subject=title)
