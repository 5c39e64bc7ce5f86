"""商家入驻: the applicant's pages (form, status and timeline, history) and the
access-checked route that serves the application's document images."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectMultipleField, StringField

from app.accounts import policies as account_policies
from app.core import storage
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound
from app.merchants import applications, policies, queries
from app.merchants.labels import BUSINESS_TYPE_LABELS
from app.merchants.models import MerchantApplication
from app.merchants.states import MAIN_CATEGORIES
from app.web.forms import attach_errors
from app.web.merchant.blueprint import bp

# Labels of the application's fields (APPLICATION_FIELDS), shared with the admin review pages.
FIELD_LABELS = {
    "shop_name": _l("店铺名称"),
    "business_type": _l("主体类型"),
    "company_name": _l("企业名称"),
    "credit_code": _l("统一社会信用代码"),
    "legal_representative": _l("法定代表人 / 经营者"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "main_categories": _l("主营类目"),
    "licence": _l("营业执照"),
    "id_front": _l("身份证人像面"),
    "id_back": _l("身份证国徽面"),
}
DOCUMENT_PERMISSIONS = ("merchants.review", "merchants.view")


class ApplicationForm(FlaskForm):
    """What the applicant types. The domain (`applications.save_draft`) validates;
    the form only carries the values back when something is refused."""

    shop_name = StringField(FIELD_LABELS["shop_name"])
    business_type = RadioField(FIELD_LABELS["business_type"], choices=list(BUSINESS_TYPE_LABELS.items()),
                               validate_choice=False)
    company_name = StringField(FIELD_LABELS["company_name"])
    credit_code = StringField(FIELD_LABELS["credit_code"])
    legal_representative = StringField(FIELD_LABELS["legal_representative"])
    contact_name = StringField(FIELD_LABELS["contact_name"])
    contact_phone = StringField(FIELD_LABELS["contact_phone"])
    main_categories = SelectMultipleField(FIELD_LABELS["main_categories"], choices=[(c, c) for c in MAIN_CATEGORIES],
                                          validate_choice=False)
    licence = FileField(FIELD_LABELS["licence"])
    id_front = FileField(FIELD_LABELS["id_front"])
    id_back = FileField(FIELD_LABELS["id_back"])


@bp.app_context_processor
def application_labels():
    return {"application_field_labels": FIELD_LABELS, "business_type_labels": BUSINESS_TYPE_LABELS}


def _me():
    return current_user._get_current_object()


def _form_data(application: MerchantApplication | None) -> dict:
    if application is None:
        return {}
    phone = application.contact_phone or ""
    return {
        **{field: getattr(application, field) or "" for field in applications.TEXT_FIELDS},
        "contact_phone": phone[3:] if phone.startswith("+86") else phone,
        "main_categories": list(application.main_categories or []),
    }


def _history(user_id: int, current: MerchantApplication | None) -> list[MerchantApplication]:
    return [a for a in applications.applications_of(user_id) if current is None or a.id != current.id]


def _form_page(form: ApplicationForm, application: MerchantApplication | None, status: int = 200, **context):
    return render_template(
        "merchant/apply/form.html", form=form, application=application,
        history=_history(current_user.id, application), categories=MAIN_CATEGORIES,
        document_kinds=applications.DOCUMENT_KINDS, **context,
    ), status


@bp.get("/apply")
@login_required
def apply():
    """The open application: its form while it can be edited, its status while
    in review; without one, a start page (with past applications, if any)."""
    application = applications.open_application_for(current_user.id)
    if application is None and not request.args.get("new"):
        history = _history(current_user.id, None)
        # Just approved: the outcome and its timeline lead the page until the user applies again.
        latest = history[0] if history and history[0].is_approved else None
        return render_template("merchant/apply/start.html", latest=latest, history=history[1:] if latest else history,
                               memberships=queries.memberships_of(current_user.id))
    if application is not None and "edit" not in policies.actions_for(application, current_user):
        return render_template("merchant/apply/status.html", application=application,
                               history=_history(current_user.id, application))
    return _form_page(ApplicationForm(prefix="", data=_form_data(application)), application)


@bp.post("/apply")
@login_required
def apply_save():
    """`action=save` keeps a draft; `action=submit` saves, then submits for review.
    A bad field or file changes nothing; an incomplete submission keeps the draft."""
    user = _me()
    form = ApplicationForm(prefix="")
    current = applications.open_application_for(user.id)
    if not form.validate_on_submit():
        return _form_page(form, current, 400)
    data = {field: request.form.get(field, "") for field in applications.TEXT_FIELDS}
    data["main_categories"] = request.form.getlist("main_categories")
    documents = {}
    for kind in applications.DOCUMENT_KINDS:
        upload = request.files.get(kind)
        if upload is not None and upload.filename:
            documents[kind] = upload.read()
    try:
        with transaction():
            application = applications.save_draft(user, data, documents)
    except Conflict as exc:
        flash(exc.message, "danger")
        return redirect(url_for("merchant.apply"))
    except DomainError as exc:
        if not attach_errors(form, exc):
            flash(exc.message, "danger")
        # Nothing was stored, the chosen files included: say so next to the uploads.
        return _form_page(form, current, 422, uploads_dropped=bool(documents))
    if request.form.get("action") != "submit":
        flash(_("草稿已保存"), "success")
        return redirect(url_for("merchant.apply"))
    try:
        with transaction():
            applications.submit(user, application.id)
    except DomainError as exc:
        if not attach_errors(form, exc):
            flash(exc.message, "danger")
        return _form_page(form, applications.get_own(user.id, application.id), 422, saved_but_incomplete=True)
    flash(_("已提交审核，结果会通过站内消息和短信通知你"), "success")
    return redirect(url_for("merchant.apply"))


@bp.get("/applications/<int:application_id>/documents/<kind>")
@login_required
def application_document(application_id: int, kind: str):
    """A document image, for its applicant and for admins who review or view
    merchants; anyone else gets a 404 (the application's existence is not revealed)."""
    if kind not in applications.DOCUMENT_KINDS:
        abort(404)
    user = _me()
    try:
        if any(account_policies.can(user, p) for p in DOCUMENT_PERMISSIONS):
            application = applications.get_for_review(application_id)
        else:
            application = applications.get_own(user.id, application_id)
    except NotFound:
        abort(404)
    key = application.document_key(kind)
    if not key:
        abort(404)
    try:
        path, content_type = storage.open_stored(key)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype=content_type, conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
