"""Account use cases: registering, signing in, passwords, API tokens and sessions.

Guarantees:
- Phone numbers and emails are unique; a duplicate registration is a Conflict
  (and the database's unique index backs it up under a race).
- Sign-in failures say only "account or password wrong", never whether the
  account exists, and are throttled per account and per IP.
- Bumping `session_version` (ban, password change, sign out everywhere) kills
  every browser session and every API token issued before it.
- Services flush; the caller commits.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts import codes, consent, token_cache
from app.accounts.errors import AccountError
from app.accounts.models import ApiToken, SignInEvent, User
from app.accounts.states import CodePurpose
from app.accounts.validation import (
    check_password,
    looks_like_email,
    normalise_email,
    normalise_phone,
)
from app.core import ratelimit
from app.core.clock import utcnow
from app.core.db import add_unique
from app.core.errors import Conflict, Forbidden, RateLimited, Unauthorized, ValidationError
from app.extensions import db
from app.notifications import services as notifications

FAILED_LOGIN_LIMIT_ACCOUNT = "5/15minute"
FAILED_LOGIN_LIMIT_IP = "30/15minute"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _bad_credentials() -> Unauthorized:
    message = _("账号或密码错误")
    return Unauthorized(message, code=AccountError.INVALID_CREDENTIALS)


def find_by_phone(phone: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.phone == phone))


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _add_user(user: User) -> User:
    return add_unique(user, Conflict(_("该账号已注册，请直接登录"), code=AccountError.ALREADY_REGISTERED))


def _ensure_can_sign_in(user: User) -> None:
    if user.is_banned:
        raise Forbidden(_("账号已被封禁，如有疑问请联系客服"), code=AccountError.ACCOUNT_BANNED)


# --- registration ----------------------------------------------------------

def request_sms_code(phone_text: str, purpose: str, ip: str | None) -> None:
    """Send a code to a phone. For `register` an existing number is refused; for
    `login`/`reset` an unknown number gets the same 202 (nothing is sent), so the
    answer does not reveal which numbers have accounts."""
    phone = normalise_phone(phone_text)
    try:
        purpose = CodePurpose(purpose)
        if purpose == CodePurpose.CLOSE_ACCOUNT:  # only ever sent to the signed-in user's own phone (deletion)
            raise ValueError(purpose)
    except ValueError:
        raise ValidationError(_("用途无效"), code=AccountError.INVALID_PURPOSE, fields={"purpose": _("用途无效")}) from None
    exists = find_by_phone(phone) is not None
    if purpose == CodePurpose.REGISTER and exists:
        raise Conflict(_("该手机号已注册，请直接登录"), code=AccountError.ALREADY_REGISTERED)
    if purpose == CodePurpose.BIND and exists:
        raise Conflict(_("该手机号已绑定其他账号"), code=AccountError.PHONE_TAKEN)
    if purpose in (CodePurpose.LOGIN, CodePurpose.RESET) and not exists:
        ratelimit.hit("sms-code-phone", "10/day", phone, _("这个手机号今天获取验证码次数过多，请明天再试"))
        return
    codes.send_sms_code(phone, purpose, ip)


def register_with_phone(phone_text: str, code: str, password: str, nickname: str | None = None, *,
                        agreed_terms: bool = False) -> User:
    """Create an account; refused (before the code is used up) unless the person
    agreed to the user agreement and privacy policy, which the account records."""
    phone = normalise_phone(phone_text)
    check_password(password)
    consent.require_agreement(agreed_terms)
    if find_by_phone(phone) is not None:
        raise Conflict(_("该手机号已注册，请直接登录"), code=AccountError.ALREADY_REGISTERED)
    codes.consume_sms_code(phone, CodePurpose.REGISTER, code)
    user = User(phone=phone, password_hash=hash_password(password), nickname=(nickname or "").strip()[:20])
    consent.record_agreement(user)
    return _add_user(user)


def start_email_registration(email_text: str, link_for, ip: str | None = None) -> None:
    """Mail a signed single-use link (24 h) to finish registering.

    `link_for(token)` builds the absolute URL. An address that already has an
    account gets a mail saying so instead, so the reply reveals nothing. Limited
    per address and per `ip` (codes.limit_mail).
    """
    email = normalise_email(email_text)
    codes.limit_mail(email, ip)
    if find_by_email(email) is not None:
        notifications.send_mail(email, "account_exists", {"email": email})
        return
    token = codes.create_email_link_token(email, CodePurpose.REGISTER)
    notifications.send_mail(email, "register_link", {"email": email, "link": link_for(token)})


def email_for_registration_token(token: str) -> str:
    return codes.read_email_link_token(token, CodePurpose.REGISTER, consume=False)


def complete_email_registration(token: str, password: str, *, agreed_terms: bool = False) -> User:
    """Create the account of a registration link (used up), with the person's consent."""
    check_password(password)
    consent.require_agreement(agreed_terms)
    email = codes.read_email_link_token(token, CodePurpose.REGISTER, consume=False)
    if find_by_email(email) is not None:
        raise Conflict(_("该邮箱已注册，请直接登录"), code=AccountError.ALREADY_REGISTERED)
    codes.read_email_link_token(token, CodePurpose.REGISTER, consume=True)
    user = User(email=email, email_verified_at=utcnow(), password_hash=hash_password(password))
    consent.record_agreement(user)
    return _add_user(user)


# --- signing in ----------------------------------------------------------------

def authenticate_password(account: str, password: str, ip: str | None) -> User:
    """Phone or email plus password. Throttled per account and per IP."""
    account = (account or "").strip()
    key = account.lower()
    too_many = _("尝试次数过多，请 15 分钟后再试")
    if not ratelimit.test("login-fail-account", FAILED_LOGIN_LIMIT_ACCOUNT, key) or (
        ip and not ratelimit.test("login-fail-ip", FAILED_LOGIN_LIMIT_IP, ip)
    ):
        raise RateLimited(too_many)
    user = None
    try:
        if looks_like_email(account):
            user = find_by_email(normalise_email(account))
        else:
            user = find_by_phone(normalise_phone(account))
    except ValidationError:
        user = None
    if user is None or not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        ratelimit.hit("login-fail-account", FAILED_LOGIN_LIMIT_ACCOUNT, key, too_many)
        if ip:
            ratelimit.hit("login-fail-ip", FAILED_LOGIN_LIMIT_IP, ip, too_many)
        raise _bad_credentials()
    _ensure_can_sign_in(user)
    ratelimit.clear("login-fail-account", FAILED_LOGIN_LIMIT_ACCOUNT, key)
    return user


def authenticate_sms(phone_text: str, code: str) -> User:
    phone = normalise_phone(phone_text)
    user = find_by_phone(phone)
    if user is None:
        raise _code_or_account_error()
    codes.consume_sms_code(phone, CodePurpose.LOGIN, code)
    _ensure_can_sign_in(user)
    return user


def _code_or_account_error() -> ValidationError:
    message = _("验证码不正确或已过期")
    return ValidationError(message, code=AccountError.INVALID_CODE, fields={"code": message})


def record_sign_in(user: User, method: str, ip: str | None, user_agent: str | None) -> None:
    user.last_login_at = utcnow()
    db.session.add(SignInEvent(user_id=user.id, method=method, ip=ip, user_agent=(user_agent or "")[:255]))
    db.session.flush()


# --- passwords -------------------------------------------------------------------

def reset_password_by_sms(phone_text: str, code: str, password: str) -> User:
    phone = normalise_phone(phone_text)
    check_password(password)
    user = find_by_phone(phone)
    if user is None:
        raise _code_or_account_error()
    codes.consume_sms_code(phone, CodePurpose.RESET, code)
    _set_password(user, password)
    return user


def start_email_reset(email_text: str, link_for, ip: str | None = None) -> None:
    """Mail a reset link when the address has an account; say nothing either way.
    Limited per address and per `ip` whether or not it has one (codes.limit_mail)."""
    email = normalise_email(email_text)
    codes.limit_mail(email, ip)
    if find_by_email(email) is None:
        return
    token = codes.create_email_link_token(email, CodePurpose.RESET)
    notifications.send_mail(email, "reset_link", {"email": email, "link": link_for(token)})


def email_for_reset_token(token: str) -> str:
    """The address a reset link was sent to, or raise when it is used, expired or forged."""
    return codes.read_email_link_token(token, CodePurpose.RESET, consume=False)


def reset_password_by_email(token: str, password: str) -> User:
    check_password(password)
    email = codes.read_email_link_token(token, CodePurpose.RESET, consume=True)
    user = find_by_email(email)
    if user is None:
        raise ValidationError(_("链接无效，请重新获取"), code=AccountError.INVALID_TOKEN)
    _set_password(user, password)
    return user


def change_password(user: User, current: str | None, new: str) -> None:
    """Change the password; the current one is required when one is set."""
    if user.password_hash and not check_password_hash(user.password_hash, current or ""):
        message = _("当前密码不正确")
        raise ValidationError(message, code=AccountError.WRONG_PASSWORD, fields={"current_password": message})
    check_password(new, "new_password")
    _set_password(user, new)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    bump_session_version(user)


# --- sessions and tokens --------------------------------------------------------

def bump_session_version(user: User) -> None:
    """Sign the user out everywhere: every session and API token dies."""
    db.session.execute(
        sa.update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    revoked = db.session.scalars(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()).returning(ApiToken.token_hash)
    ).all()
    token_cache.forget(revoked)
    db.session.refresh(user)


def _token_digest(raw: str) -> str:
    return token_cache.digest(raw)


def issue_api_token(user: User) -> str:
    """A new opaque bearer token (returned once; only its hash is stored)."""
    _ensure_can_sign_in(user)
    raw = secrets.token_urlsafe(32)
    days = current_app.config.get("API_TOKEN_DAYS", 30)
    token = ApiToken(user_id=user.id, token_hash=_token_digest(raw), session_version=user.session_version,
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    # Mirrored for the flash-sale endpoint (app/accounts/token_cache.py). Written before the
    # commit: if it rolls back, nobody ever holds this token.
    token_cache.remember(token.token_hash, user.id, token.expires_at)
    return raw


def user_for_api_token(raw: str, *, remember: bool = False) -> User | None:
    """The user a live token belongs to, or None (unknown, expired, revoked,
    older than the user's session version, or the user is banned). With `remember`,
    a live token is mirrored in the token cache (app/accounts/token_cache.py)."""
    if not raw:
        return None
    # One statement: the token with its user (whose identities load only if asked for).
    found = db.session.execute(
        sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_digest(raw)).options(lazyload(User.identities))
    ).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    if user.session_version != token.session_version or user.is_banned or user.is_deleted:
        return None
    if remember:
        token_cache.remember(token.token_hash, user.id, token.expires_at)
    return user


def cached_user_id_for_api_token(raw: str) -> int | None:
    """The user id the token cache vouches for, or None (ask `user_for_api_token`).
    Only good enough to refuse: see token_cache's guarantees."""
    return token_cache.user_id(_token_digest(raw)) if raw else None


def forget_api_token(raw: str) -> None:
    """The token cache stops vouching for this token (PostgreSQL found it dead)."""
    token_cache.forget([_token_digest(raw)])


def revoke_api_token(raw: str) -> None:
    digest = _token_digest(raw)
    db.session.execute(
        sa.update(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    token_cache.forget([digest])
