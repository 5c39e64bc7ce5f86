"""Binding and unbinding sign-in methods: phone, email, WeChat, Alipay.

Guarantees: a phone or email belongs to one user only; the last way to sign
in can never be removed; unbinding WeChat removes every WeChat identity
(mini-program, website, unionid) together.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import codes
from app.accounts.errors import AccountError
from app.accounts.models import Identity, User
from app.accounts.services import find_by_email, find_by_phone
from app.accounts.states import CodePurpose, IdentityProvider
from app.accounts.validation import normalise_email, normalise_phone
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationError
from app.extensions import db
from app.notifications import services as notifications

WECHAT_PROVIDERS = (IdentityProvider.WECHAT_MP, IdentityProvider.WECHAT_WEB, IdentityProvider.WECHAT)
METHODS = ("phone", "email", "wechat", "alipay")


def sign_in_methods(user: User) -> dict[str, str | None]:
    """method -> what it is bound to (None when not bound)."""
    providers = {i.provider: i for i in user.identities}
    wechat = next((providers[p] for p in WECHAT_PROVIDERS if p in providers), None)
    alipay = providers.get(IdentityProvider.ALIPAY)
    return {
        "phone": user.local_phone,
        "email": user.email,
        "wechat": (wechat.display_name or _("已绑定")) if wechat else None,
        "alipay": (alipay.display_name or _("已绑定")) if alipay else None,
    }


def _usable_methods(user: User) -> set[str]:
    methods = {m for m, v in sign_in_methods(user).items() if v}
    if "email" in methods and not user.password_hash:
        methods.discard("email")  # an email without a password cannot sign in
    return methods


def bind_phone(user: User, phone_text: str, code: str) -> None:
    phone = normalise_phone(phone_text)
    owner = find_by_phone(phone)
    if owner is not None and owner.id != user.id:
        raise Conflict(_("该手机号已绑定其他账号"), code=AccountError.PHONE_TAKEN)
    codes.consume_sms_code(phone, CodePurpose.BIND, code)
    user.phone = phone
    db.session.flush()


def start_bind_email(user: User, email_text: str, link_for, ip: str | None = None) -> None:
    """Mail a link that binds `email` to `user`; limited like every link (codes.limit_mail)."""
    email = normalise_email(email_text)
    codes.limit_mail(email, ip)
    owner = find_by_email(email)
    if owner is not None and owner.id != user.id:
        raise Conflict(_("该邮箱已绑定其他账号"), code=AccountError.EMAIL_TAKEN)
    token = codes.create_email_link_token(f"{user.id}:{email}", CodePurpose.BIND)
    notifications.send_mail(email, "bind_email", {"email": email, "link": link_for(token)})


def confirm_bind_email(user: User, token: str) -> None:
    target = codes.read_email_link_token(token, CodePurpose.BIND, consume=False)
    user_id, _sep, email = target.partition(":")
    if user_id != str(user.id):
        raise ValidationError(_("链接无效，请重新获取"), code=AccountError.INVALID_TOKEN)
    owner = find_by_email(email)
    if owner is not None and owner.id != user.id:
        raise Conflict(_("该邮箱已绑定其他账号"), code=AccountError.EMAIL_TAKEN)
    codes.read_email_link_token(token, CodePurpose.BIND, consume=True)
    user.email = email
    user.email_verified_at = utcnow()
    db.session.flush()


def unbind(user: User, method: str) -> None:
    if method not in METHODS:
        raise ValidationError(_("不支持的登录方式"), code=AccountError.INVALID_METHOD)
    if method not in {m for m, v in sign_in_methods(user).items() if v}:
        raise ValidationError(_("尚未绑定"), code=AccountError.NOT_BOUND)
    if _usable_methods(user) - {method} == set():
        raise Conflict(_("这是你唯一的登录方式，不能解除绑定"), code=AccountError.LAST_SIGN_IN_METHOD)
    if method == "phone":
        user.phone = None
    elif method == "email":
        user.email = None
        user.email_verified_at = None
    else:
        providers = WECHAT_PROVIDERS if method == "wechat" else (IdentityProvider.ALIPAY,)
        db.session.execute(sa.delete(Identity).where(Identity.user_id == user.id, Identity.provider.in_(providers)))
        db.session.expire(user, ["identities"])
    db.session.flush()
