"""Signing in (and binding) with WeChat website QR login and Alipay.

Flow: `/login/<provider>` (signing in: only with the login page's consent box
ticked, `agree_terms`, since the first sign-in creates an account) keeps a
random `state` in the session and sends the
browser to the provider; `/login/<provider>/callback` checks that `state`
(single use, 10 minutes), trades the code for the provider's user, then signs
in (creating the user on first use) or, when a signed-in user started the
flow from 账号与安全, binds the account to that user.

`require_phone_for_third_party`: see `identities.needs_phone` for who is
asked; such a user is sent to 绑定手机号 after signing in, and every shop page
sends them back there until a phone is bound (`phone_gate` below).
"""
from __future__ import annotations

import hmac
import secrets
import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts import bindings, identities
from app.accounts.oauth import alipay, wechat_web
from app.accounts.states import IdentityProvider
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.htmx import is_htmx, redirect_htmx
from app.core.urls import external_url
from app.web.redirects import safe_next
from app.web.shop.blueprint import bp
from app.web.shop.forms import BindPhoneForm
from app.web.shop.views_auth import landing_for, sign_in

SESSION_KEY = "oauth_pending"
STATE_TTL_SECONDS = 600
PROVIDERS = {
    "wechat": {"adapter": wechat_web, "identity": IdentityProvider.WECHAT_WEB, "code_param": "code",
               "label": lambda: _("微信登录"), "name": lambda: _("微信"), "icon": "wechat"},
    "alipay": {"adapter": alipay, "identity": IdentityProvider.ALIPAY, "code_param": "auth_code",
               "label": lambda: _("支付宝登录"), "name": lambda: _("支付宝"), "icon": "alipay"},
}
# Pages a user who must bind a phone can still reach.
PHONE_GATE_OPEN = {"shop.oauth_bind_phone", "shop.send_sms_code", "shop.logout", "shop.set_language", "shop.avatar",
                   "shop.favicon"}


def _configured(provider: str) -> bool:
    return provider in PROVIDERS and PROVIDERS[provider]["adapter"].is_configured()


@bp.context_processor
def third_party_context():
    def third_party_logins() -> list[dict]:
        return [
            {"provider": name, "label": spec["label"](), "icon": spec["icon"],
             "url": url_for("shop.oauth_start", provider=name)}
            for name, spec in PROVIDERS.items() if _configured(name)
        ]

    def third_party_bind_url(method: str) -> str | None:
        return url_for("shop.oauth_start", provider=method) if _configured(method) else None

    return {"third_party_logins": third_party_logins, "third_party_bind_url": third_party_bind_url}


@bp.get("/login/<any(wechat, alipay):provider>")
def oauth_start(provider: str):
    """Start signing in, or binding when someone is signed in."""
    binding = current_user.is_authenticated
    back = url_for("shop.security") if binding else url_for("shop.login")
    if not _configured(provider):
        flash(_("%(name)s登录暂未开通", name=PROVIDERS[provider]["name"]()), "warning")
        return redirect(back)
    if not binding and request.args.get("agree_terms") not in ("y", "1", "on", "true"):
        # Signing in with WeChat or Alipay may create an account: the login page's box must be ticked.
        flash(_("请阅读并同意《用户协议》和《隐私政策》"), "warning")
        return redirect(url_for("shop.login", next=safe_next("") or None))
    state = secrets.token_urlsafe(24)
    session[SESSION_KEY] = {
        "provider": provider,
        "state": state,
        "at": int(time.time()),
        "next": None if binding else (safe_next("") or None),
        "bind_user_id": current_user.id if binding else None,
    }
    callback = external_url("shop.oauth_callback", provider=provider)
    return redirect(PROVIDERS[provider]["adapter"].authorize_url(callback, state))


def _take_pending(provider: str) -> dict | None:
    """The pending flow when the callback's `state` matches it (used up either way)."""
    pending = session.pop(SESSION_KEY, None)
    state = request.args.get("state") or ""
    if not isinstance(pending, dict) or pending.get("provider") != provider or not state:
        return None
    if not hmac.compare_digest(str(pending.get("state", "")), state):
        return None
    if time.time() - int(pending.get("at", 0)) > STATE_TTL_SECONDS:
        return None
    return pending


@bp.get("/login/<any(wechat, alipay):provider>/callback")
def oauth_callback(provider: str):
    spec = PROVIDERS[provider]
    pending = _take_pending(provider)
    if pending is None:
        flash(_("登录请求已失效或来源不明，请重新发起"), "danger")
        return redirect(url_for("shop.security") if current_user.is_authenticated else url_for("shop.login"))
    bind_user_id = pending.get("bind_user_id")
    if bind_user_id is not None and (not current_user.is_authenticated or current_user.id != bind_user_id):
        flash(_("登录状态已变化，请重新发起绑定"), "danger")
        return redirect(url_for("shop.login"))
    back = url_for("shop.security") if bind_user_id else url_for("shop.login")
    code = request.args.get(spec["code_param"]) or ""
    if not code:
        flash(_("你已取消%(name)s授权", name=spec["name"]()), "warning")
        return redirect(back)
    try:
        profile = spec["adapter"].fetch_user(code)
        subject = profile.openid if provider == "wechat" else profile.user_id
        unionid = profile.unionid if provider == "wechat" else None
        if bind_user_id:
            with transaction():
                identities.bind_identity(current_user._get_current_object(), spec["identity"], subject,
                                         profile.nickname, unionid=unionid)
            flash(_("%(name)s已绑定", name=spec["name"]()), "success")
            return redirect(url_for("shop.security"))
        with transaction():
            user, is_new = identities.sign_in_with_identity(spec["identity"], subject, profile.nickname,
                                                            unionid=unionid, agreed_terms=True)  # ticked at start
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(back)
    sign_in(user, spec["identity"], is_new_user=is_new)
    target = pending.get("next") or landing_for(user)
    if identities.needs_phone(user):
        flash(_("请先绑定手机号"), "info")
        return redirect(url_for("shop.oauth_bind_phone", next=target))
    flash(_("欢迎加入商城") if is_new else _("登录成功"), "success")
    return redirect(target)


@bp.route("/login/bind-phone", methods=["GET", "POST"])
def oauth_bind_phone():
    """绑定手机号, required by `require_phone_for_third_party`."""
    if not current_user.is_authenticated:
        return redirect(url_for("shop.login"))
    user = current_user._get_current_object()
    target = safe_next(url_for("shop.me"))
    if user.phone:
        return redirect(target)
    form = BindPhoneForm(prefix="")
    if form.validate_on_submit():
        try:
            with transaction():
                bindings.bind_phone(user, form.phone.data, form.code.data)
            flash(_("手机号已绑定"), "success")
            return redirect(target)
        except DomainError as exc:
            if exc.fields.get("code"):
                form.code.errors = [*(form.code.errors or []), exc.fields["code"]]
            else:
                flash(exc.message, "danger")
    return render_template("shop/auth/bind_phone.html", form=form, next=target)


@bp.before_request
def phone_gate():
    """Keep a user who must bind a phone on 绑定手机号 (cheap for everyone else:
    only users without a phone get past the first test)."""
    if request.endpoint in PHONE_GATE_OPEN or not current_user.is_authenticated or current_user.phone:
        return None
    user = current_user._get_current_object()
    if not identities.needs_phone(user):
        return None
    url = url_for("shop.oauth_bind_phone", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    return redirect_htmx(url) if is_htmx() else redirect(url)
