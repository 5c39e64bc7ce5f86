"""Signing in and binding through third-party identities (WeChat, Alipay).

An `Identity` is (provider, subject) -> user, unique per (provider, subject):
`wechat_mp` openid, `wechat_web` openid, `wechat` unionid, `alipay` user id.

Guarantees:
- The same third-party account always reaches the same user.
- WeChat: when the provider tells us the unionid, it is stored as a `wechat`
  identity next to the app's openid, so the mini-program and the website
  (different openids, same unionid) reach the same user.
- A third-party account belongs to one user only: binding one that another
  user owns is a Conflict; a user has at most one account per provider.
- Banned users are refused (Forbidden) before anything is written.
- Two racing first sign-ins with the same identity end on one user (the
  unique constraint decides, the loser reads the winner's row).
- Services flush; the caller commits. Unbinding is `bindings.unbind`.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.accounts import consent
from app.accounts.errors import AccountError
from app.accounts.models import Identity, User
from app.accounts.states import IdentityProvider
from app.core import settings as platform_settings
from app.core.errors import Conflict, Forbidden, ValidationError
from app.extensions import db

WECHAT_APPS = (IdentityProvider.WECHAT_MP, IdentityProvider.WECHAT_WEB)
SIGN_IN_PROVIDERS = (*WECHAT_APPS, IdentityProvider.ALIPAY)


def _provider(provider: str, unionid: str | None) -> IdentityProvider:
    provider = IdentityProvider(provider)
    if provider not in SIGN_IN_PROVIDERS:
        raise ValueError(f"cannot sign in with provider {provider!r}")
    if unionid and provider not in WECHAT_APPS:
        raise ValueError("only WeChat identities carry a unionid")
    return provider


def _subject(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 128:  # longer than any provider's ids: refuse rather than cut
        raise ValidationError(_("第三方账号信息有误，请重新登录"), code=AccountError.INVALID_IDENTITY)
    return value


def _name(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value[:80] or None


def _label(provider: str) -> str:
    return _("支付宝账号") if provider == IdentityProvider.ALIPAY else _("微信")


def find_identity(provider: str, subject: str) -> Identity | None:
    return db.session.scalar(sa.select(Identity).where(Identity.provider == provider, Identity.subject == subject))


def _ensure_can_sign_in(user: User) -> None:
    if user.is_banned:
        raise Forbidden(_("账号已被封禁，如有疑问请联系客服"), code=AccountError.ACCOUNT_BANNED)


def _link(user: User, provider: str, subject: str, display_name: str | None) -> None:
    """Add an identity to `user`; Conflict when someone else got it first."""
    try:
        with db.session.begin_nested():
            db.session.add(Identity(user_id=user.id, provider=provider, subject=subject, display_name=display_name))
            db.session.flush()
    except IntegrityError:
        existing = find_identity(provider, subject)
        if existing is None or existing.user_id != user.id:
            raise Conflict(_("该%(what)s已绑定其他账号", what=_label(provider)), code=AccountError.IDENTITY_TAKEN) from None


def sign_in_with_identity(provider: str, subject: str, display_name: str | None = None,
                          unionid: str | None = None, *, agreed_terms: bool = False) -> tuple[User, bool]:
    """The user behind a third-party account, created on first sign-in.

    Returns `(user, is_new)`. Found by (provider, subject), else by the WeChat
    unionid (then this app's openid is linked to that user), else a new user
    is created with the identity (and the unionid identity) attached: only when
    the person agreed to the user agreement and privacy policy (`agreed_terms`,
    recorded on the account); signing in to an existing account needs no new consent.
    """
    provider = _provider(provider, unionid)
    subject = _subject(subject)
    if subject is None:
        raise ValueError("identity subject is required")
    unionid = _subject(unionid)
    display_name = _name(display_name)

    identity = find_identity(provider, subject)
    union = find_identity(IdentityProvider.WECHAT, unionid) if unionid else None
    user = identity.user if identity is not None else union.user if union is not None else None
    if user is not None:
        _ensure_can_sign_in(user)
        if identity is None:
            _link(user, provider, subject, display_name)
        elif display_name and identity.display_name != display_name:
            identity.display_name = display_name
        if unionid and union is None:
            _link(user, IdentityProvider.WECHAT, unionid, display_name)
        elif union is not None and union.user_id == user.id and display_name and union.display_name != display_name:
            union.display_name = display_name
        db.session.flush()
        db.session.expire(user, ["identities"])
        return user, False

    consent.require_agreement(agreed_terms)
    try:
        with db.session.begin_nested():
            user = User(nickname=(display_name or "")[:20])
            consent.record_agreement(user)
            db.session.add(user)
            db.session.flush()
            db.session.add(Identity(user_id=user.id, provider=provider, subject=subject, display_name=display_name))
            if unionid:
                db.session.add(Identity(user_id=user.id, provider=IdentityProvider.WECHAT, subject=unionid,
                                        display_name=display_name))
            db.session.flush()
    except IntegrityError:
        # A racing request created the same identity first: use its user.
        existing = find_identity(provider, subject) or (
            find_identity(IdentityProvider.WECHAT, unionid) if unionid else None)
        if existing is None:
            raise
        return sign_in_with_identity(provider, subject, display_name, unionid, agreed_terms=agreed_terms)
    return user, True


def bind_identity(user: User, provider: str, subject: str, display_name: str | None = None,
                  unionid: str | None = None) -> None:
    """Link a third-party account to a signed-in user.

    Binding the same account again is harmless (the display name is
    refreshed). Conflict when the account belongs to another user, or when
    the user already has a different account of that provider.
    """
    provider = _provider(provider, unionid)
    subject = _subject(subject)
    if subject is None:
        raise ValueError("identity subject is required")
    unionid = _subject(unionid)
    display_name = _name(display_name)
    wanted = [(provider, subject)] + ([(IdentityProvider.WECHAT, unionid)] if unionid else [])

    taken = _("该%(what)s已绑定其他账号", what=_label(provider))
    existing = {}
    for p, s in wanted:
        row = find_identity(p, s)
        if row is not None and row.user_id != user.id:
            raise Conflict(taken, code=AccountError.IDENTITY_TAKEN)
        existing[p] = row
    for own in user.identities:
        for p, s in wanted:
            if own.provider == p and own.subject != s:
                raise Conflict(_("你已绑定另一个%(what)s，请先解除绑定", what=_label(provider)),
                               code=AccountError.ALREADY_BOUND)
    for p, s in wanted:
        row = existing[p]
        if row is None:
            _link(user, p, s, display_name)
        elif display_name:
            row.display_name = display_name
    db.session.flush()
    db.session.expire(user, ["identities"])


def needs_phone(user: User) -> bool:
    """The `require_phone_for_third_party` rule.

    True when the setting is on and the account can only be signed in to
    through WeChat or Alipay: it has third-party identities, no phone, and no
    email with a password. Accounts that registered by phone or email are
    never asked, even after linking WeChat or Alipay.
    """
    if user.phone or (user.email and user.password_hash):
        return False
    if not user.identities:
        return False
    return bool(platform_settings.get("require_phone_for_third_party"))


def refuse_without_phone(user: User) -> None:
    """Forbidden (`phone_required`) while `needs_phone(user)`: what the web's phone gate
    does for the shop's pages, for the API's calls (all but seeing one's account, binding
    the phone and signing out)."""
    if needs_phone(user):
        raise Forbidden(_("请先绑定手机号"), code=AccountError.PHONE_REQUIRED)
