"""Registering, signing in and out, and resetting a password (HTML)."""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import policies
from app.accounts import services as accounts
from app.analytics import tracking
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx
from app.core.urls import external_url
from app.merchants import queries as merchant_queries
from app.web.errors import with_retry_after
from app.web.forms import attach_errors, client_ip
from app.web.i18n import LANG_COOKIE
from app.web.redirects import safe_next, safe_referrer
from app.web.shop.blueprint import bp
from app.web.shop.forms import (
    EmailRegisterForm,
    EmailStartForm,
    PasswordLoginForm,
    PhoneRegisterForm,
    SetPasswordForm,
    SmsLoginForm,
    SmsResetForm,
)
from app.web.shop.views_cart import add_pending_line, take_pending_line
from app.web.shop.views_referral import bind_remembered, take_remembered
from app.web.shop.views_tracking import ANON_COOKIE


def sign_in(user, method: str, remember: bool = False, is_new_user: bool | None = None):
    """Start a fresh session for `user` (nothing from the old session survives).
    A referral code remembered from a `/r/` link binds them in the same
    transaction; `is_new_user` defaults to whether this is a registration. A cart
    line chosen while signed out is added right after. What the browser did before
    signing in (its `aid` cookie's events) becomes the user's."""
    anon = request.cookies.get(ANON_COOKIE)
    referral = take_remembered()
    pending_line = take_pending_line()
    session.clear()
    with transaction():
        accounts.record_sign_in(user, method, client_ip(), request.user_agent.string)
        bind_remembered(user, referral, is_new_user=method == "register" if is_new_user is None else is_new_user)
        tracking.merge_anonymous(anon, user.id)
    login_user(user, remember=remember)
    add_pending_line(user.id, pending_line)


def landing_for(user) -> str:
    """Where signing in leads when no `next` was asked for: platform admins to the
    admin console, merchant owners and staff to the merchant console, shoppers to 我的."""
    if policies.has_admin_role(user):
        return url_for("admin.dashboard")
    if merchant_queries.memberships_of(user.id):
        return url_for("merchant.home")
    return url_for("shop.me")


def fail(form, exc: DomainError, default_field: str | None = None) -> None:
    if not attach_errors(form, exc, default_field):
        flash(exc.message, "danger")


def mail_link(form, start, endpoint: str, reset: bool = False):
    """Mail a signed link (registration or reset) and show "check your mail", or put
    the error under the field and return None so the page renders again."""
    if not form.validate_on_submit():
        return None
    try:
        with transaction():
            start(form.email.data, lambda token: external_url(endpoint, token=token), ip=client_ip())
    except DomainError as exc:
        fail(form, exc, "email")
        return None
    return render_template("shop/auth/email_sent.html", email=form.email.data.strip(), reset=reset)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(landing_for(current_user)))
    mode = request.args.get("mode", "password")
    password_form = PasswordLoginForm(prefix="")
    sms_form = SmsLoginForm(prefix="")
    if request.method == "POST":
        mode = request.form.get("mode", "password")
        form = sms_form if mode == "sms" else password_form
        if form.validate_on_submit():
            try:
                with transaction():
                    if mode == "sms":
                        user = accounts.authenticate_sms(form.phone.data, form.code.data)
                    else:
                        user = accounts.authenticate_password(form.account.data, form.password.data, client_ip())
                sign_in(user, mode, remember=mode == "password" and password_form.remember.data)
                flash(_("登录成功"), "success")
                return redirect(safe_next(landing_for(user)))
            except DomainError as exc:
                fail(form, exc, "code" if mode == "sms" else "password")
    return render_template("shop/auth/login.html", mode=mode, password_form=password_form, sms_form=sms_form)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("shop.me"))
    mode = request.values.get("mode", "phone")
    phone_form = PhoneRegisterForm(prefix="")
    email_form = EmailStartForm(prefix="")
    if request.method == "POST":
        if mode == "email":
            sent = mail_link(email_form, accounts.start_email_registration, "shop.register_email_finish")
            if sent:
                return sent
        elif phone_form.validate_on_submit():
            try:
                with transaction():
                    user = accounts.register_with_phone(phone_form.phone.data, phone_form.code.data,
                                                        phone_form.password.data,
                                                        agreed_terms=phone_form.agree_terms.data)
                sign_in(user, "register")
                flash(_("注册成功，欢迎来到商城"), "success")
                return redirect(safe_next(url_for("shop.me")))
            except DomainError as exc:
                fail(phone_form, exc, "code")
    return render_template("shop/auth/register.html", mode=mode, phone_form=phone_form, email_form=email_form)


@bp.route("/register/email/<token>", methods=["GET", "POST"])
def register_email_finish(token: str):
    form = EmailRegisterForm(prefix="")
    try:
        email = accounts.email_for_registration_token(token)
    except DomainError as exc:
        return render_template("shop/auth/link_invalid.html", message=exc.message), 400
    if form.validate_on_submit():
        try:
            with transaction():
                user = accounts.complete_email_registration(token, form.password.data,
                                                            agreed_terms=form.agree_terms.data)
            sign_in(user, "register")
            flash(_("注册成功，欢迎来到商城"), "success")
            return redirect(url_for("shop.me"))
        except DomainError as exc:
            fail(form, exc, "password")
    return render_template("shop/auth/set_password.html", form=form, email=email,
                           title=_("设置密码，完成注册"), action=url_for("shop.register_email_finish", token=token))


@bp.post("/auth/sms-code")
def send_sms_code():
    """Send a verification code. HTMX gets the button back with a countdown;
    a plain post goes back to the page with a flash."""
    purpose = request.form.get("purpose", "")
    phone = request.form.get("phone", "")
    if purpose == "bind" and not current_user.is_authenticated:
        purpose = "register"
    retry_after = None
    try:
        with transaction():
            accounts.request_sms_code(phone, purpose, client_ip())
        ok, message = True, _("验证码已发送")
    except DomainError as exc:
        ok, message, retry_after = False, exc.message, getattr(exc, "retry_after", None)
    if is_htmx():
        # 200 so HTMX swaps the message in; a limit also counts the button down and says when.
        html = render_template("shop/auth/_sms_button.html", ok=ok, message=message, purpose=purpose,
                               retry_after=retry_after)
        return with_retry_after(make_response(html), retry_after)
    flash(message, "success" if ok else "danger")
    return redirect(safe_next(safe_referrer(url_for("shop.login"))))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    mode = request.values.get("mode", "sms")
    sms_form = SmsResetForm(prefix="")
    email_form = EmailStartForm(prefix="")
    if request.method == "POST":
        if mode == "email":
            sent = mail_link(email_form, accounts.start_email_reset, "shop.reset_password_email", reset=True)
            if sent:
                return sent
        elif sms_form.validate_on_submit():
            try:
                with transaction():
                    accounts.reset_password_by_sms(sms_form.phone.data, sms_form.code.data, sms_form.password.data)
                flash(_("密码已重置，请用新密码登录"), "success")
                return redirect(url_for("shop.login"))
            except DomainError as exc:
                fail(sms_form, exc, "code")
    return render_template("shop/auth/forgot.html", mode=mode, sms_form=sms_form, email_form=email_form)


LINK_ERRORS = ("invalid_token", "token_expired", "token_used")


def reset_link_invalid(exc: DomainError):
    """A used, expired or forged reset link: say so, and offer a new link, never a form."""
    return render_template("shop/auth/link_invalid.html", message=exc.message,
                           retry_url=url_for("shop.forgot_password", mode="email"),
                           retry_label=_("重新获取重置链接")), 400


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password_email(token: str):
    form = SetPasswordForm(prefix="")
    try:
        accounts.email_for_reset_token(token)
    except DomainError as exc:
        return reset_link_invalid(exc)
    if form.validate_on_submit():
        try:
            with transaction():
                accounts.reset_password_by_email(token, form.password.data)
            flash(_("密码已重置，请用新密码登录"), "success")
            return redirect(url_for("shop.login"))
        except DomainError as exc:
            if exc.code in LINK_ERRORS:
                return reset_link_invalid(exc)
            fail(form, exc, "password")
    return render_template("shop/auth/set_password.html", form=form, email=None, title=_("设置新密码"),
                           action=url_for("shop.reset_password_email", token=token))


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash(_("已退出登录"), "info")
    return redirect(url_for("shop.home"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    with transaction():
        accounts.bump_session_version(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("已在所有设备上退出登录"), "info")
    return redirect(url_for("shop.login"))


@bp.get("/lang/<code>")
def set_language(code: str):
    response = redirect(safe_next(safe_referrer(url_for("shop.home"))))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
