"""我的: the shopper's own pages: overview, profile, security, addresses."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.accounts import addresses, bindings, deletion, profile, regions
from app.accounts import services as accounts
from app.accounts.validation import format_phone
from app.aftersales import queries as aftersale_queries
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx
from app.core.urls import external_url
from app.orders import queries as order_queries
from app.web.forms import attach_errors, client_ip
from app.web.redirects import safe_next
from app.web.shop.blueprint import bp
from app.web.shop.forms import (
    AddressForm,
    BindPhoneForm,
    ChangePasswordForm,
    DeleteAccountForm,
    EmailStartForm,
    ProfileForm,
)
from app.web.shop.views_auth import sign_in


def me_user():
    return current_user._get_current_object()


@bp.get("/me")
@login_required
def me():
    aftersale_counts = aftersale_queries.tab_counts(buyer_id=current_user.id)
    return render_template("shop/account/me.html", order_counts=order_queries.buyer_counts(current_user.id),
                           aftersales_open=sum(aftersale_counts[tab] for tab in aftersale_queries.BUYER_OPEN_TABS))


@bp.route("/me/profile", methods=["GET", "POST"])
@login_required
def profile_edit():
    form = ProfileForm(prefix="", nickname=current_user.nickname, accepts_marketing=not current_user.marketing_opt_out)
    if form.validate_on_submit():
        upload = request.files.get("avatar")
        data = upload.read() if upload and upload.filename else None
        try:
            with transaction():
                profile.update_profile(me_user(), form.nickname.data, data)
                profile.set_marketing(me_user(), form.accepts_marketing.data)
            flash(_("资料已保存"), "success")
            return redirect(url_for("shop.profile_edit"))
        except DomainError as exc:
            if not attach_errors(form, exc, "avatar"):
                flash(exc.message, "danger")
    return render_template("shop/account/profile.html", form=form)


@bp.route("/me/security", methods=["GET", "POST"])
@login_required
def security():
    form = ChangePasswordForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                accounts.change_password(me_user(), form.current_password.data, form.new_password.data)
            sign_in(me_user(), "password_change")
            flash(_("密码已修改，其他设备已退出登录"), "success")
            return redirect(url_for("shop.security"))
        except DomainError as exc:
            if not attach_errors(form, exc, "new_password"):
                flash(exc.message, "danger")
    return render_template("shop/account/security.html", form=form, methods=bindings.sign_in_methods(me_user()),
                           bind_phone_form=BindPhoneForm(prefix=""), bind_email_form=EmailStartForm(prefix=""))


@bp.route("/me/security/delete", methods=["GET", "POST"])
@login_required
def security_delete():
    """注销账号: what it means, what still stands in the way, and the confirmation.
    It always acts on the signed-in user, never on an id from the request."""
    user = me_user()
    form = DeleteAccountForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                deletion.delete_account(user, password=form.password.data, code=form.code.data)
        except DomainError as exc:
            if not attach_errors(form, exc, "code" if deletion.confirmation_method(user) == "sms" else None):
                flash(exc.message, "danger")
        else:
            logout_user()
            session.clear()
            flash(_("账号已注销。你的手机号和邮箱可以重新注册。"), "info")
            return redirect(url_for("shop.home"))
    return render_template("shop/account/delete.html", form=form, blockers=deletion.blockers(user),
                           method=deletion.confirmation_method(user))


@bp.post("/me/security/delete/code")
@login_required
def security_delete_code():
    """An SMS code to the account's own phone (accounts without a password confirm with it)."""
    try:
        with transaction():
            deletion.send_code(me_user(), client_ip())
        flash(_("验证码已发送至 %(phone)s", phone=format_phone(current_user.phone, masked=True)), "success")
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(url_for("shop.security_delete"))


@bp.post("/me/security/phone")
@login_required
def bind_phone():
    form = BindPhoneForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                bindings.bind_phone(me_user(), form.phone.data, form.code.data)
            flash(_("手机号已绑定"), "success")
        except DomainError as exc:
            flash(exc.message, "danger")
    else:
        flash(_("请填写手机号和验证码"), "danger")
    return redirect(safe_next(url_for("shop.security")))


@bp.post("/me/security/email")
@login_required
def bind_email():
    form = EmailStartForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                bindings.start_bind_email(
                    me_user(), form.email.data,
                    lambda token: external_url("shop.bind_email_confirm", token=token), ip=client_ip(),
                )
            flash(_("验证邮件已发送，请在 24 小时内打开邮件中的链接"), "success")
        except DomainError as exc:
            flash(exc.message, "danger")
    return redirect(url_for("shop.security"))


@bp.get("/me/security/email/<token>")
@login_required
def bind_email_confirm(token: str):
    try:
        with transaction():
            bindings.confirm_bind_email(me_user(), token)
        flash(_("邮箱已绑定"), "success")
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(url_for("shop.security"))


@bp.post("/me/security/unbind/<method>")
@login_required
def unbind(method: str):
    try:
        with transaction():
            bindings.unbind(me_user(), method)
        flash(_("已解除绑定"), "success")
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(url_for("shop.security"))


# --- addresses -------------------------------------------------------------------

@bp.get("/me/addresses")
@login_required
def address_list():
    return render_template("shop/account/addresses.html", addresses=addresses.list_for(current_user.id))


def _address_form_page(form, address=None):
    return render_template("shop/account/address_form.html", form=form, address=address,
                           provinces=regions.provinces(),
                           cities=regions.children(form.province_code.data or ""),
                           districts=regions.children(form.city_code.data or ""))


@bp.route("/me/addresses/new", methods=["GET", "POST"])
@login_required
def address_new():
    form = AddressForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                addresses.add(current_user.id, form.data)
            flash(_("地址已保存"), "success")
            return redirect(url_for("shop.address_list"))
        except DomainError as exc:
            if not attach_errors(form, exc):
                flash(exc.message, "danger")
    return _address_form_page(form)


@bp.route("/me/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
def address_edit(address_id: int):
    address = addresses.get_own(current_user.id, address_id)
    form = AddressForm(prefix="", obj=address)
    if form.validate_on_submit():
        try:
            with transaction():
                addresses.update(current_user.id, address_id, form.data)
            flash(_("地址已保存"), "success")
            return redirect(url_for("shop.address_list"))
        except DomainError as exc:
            if not attach_errors(form, exc):
                flash(exc.message, "danger")
    return _address_form_page(form, address)


@bp.post("/me/addresses/<int:address_id>/delete")
@login_required
def address_delete(address_id: int):
    with transaction():
        addresses.delete(current_user.id, address_id)
    flash(_("地址已删除"), "success")
    return redirect(url_for("shop.address_list"))


@bp.post("/me/addresses/<int:address_id>/default")
@login_required
def address_default(address_id: int):
    with transaction():
        addresses.set_default(current_user.id, address_id)
    if is_htmx():
        return render_template("shop/account/_address_list.html", addresses=addresses.list_for(current_user.id))
    return redirect(url_for("shop.address_list"))


@bp.get("/regions/children")
def region_children():
    """Cities of a province or districts of a city, for the address picker.
    HTMX gets <option>s (and a province change empties the district list);
    anything else gets JSON. `?code=` or the picker's own field names work."""
    province = request.args.get("province_code")
    code = request.args.get("code") or province or request.args.get("city_code") or ""
    items = regions.children(code)
    if is_htmx():
        return render_template("shop/account/_region_options.html", items=items, reset_districts=bool(province))
    return jsonify(items=items)


@bp.get("/regions")
def region_provinces():
    return jsonify(items=regions.provinces())
