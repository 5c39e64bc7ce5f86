"""Verification codes (SMS) and signed links (email).

SMS codes guarantee: 6 digits from a CSPRNG; only an HMAC of the code is
stored; valid 5 minutes; single use (a guarded UPDATE consumes it, so two
racing requests cannot both use it); locked after 5 wrong tries; 60 s before
a resend to the same number; at most 10 a day per number and 30 an hour per
IP (Redis, through Flask-Limiter's storage). Every limit raises RateLimited
(429) with the seconds until it lifts (Retry-After).

Email links guarantee: signed (itsdangerous) and time-limited (24 h), and
single use through the same consumed row. Mail that anyone can ask for is
limited like codes (`limit_mail`): one a minute per address, 10 a day per
address, 30 an hour per IP.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts.errors import AccountError
from app.accounts.models import VerificationCode
from app.accounts.states import CodeChannel, CodePurpose
from app.core import ratelimit
from app.core import settings as platform_settings
from app.core.clock import utcnow
from app.core.errors import RateLimited, ValidationError
from app.extensions import db
from app.notifications import services as notifications

CODE_TTL = timedelta(minutes=5)
LINK_TTL_SECONDS = 24 * 3600
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
MAIL_RESEND_LIMIT = ("mail-address-resend", f"1 per {RESEND_SECONDS} seconds")  # (name, limit)
MAIL_DAILY_PER_ADDRESS = 10
MAIL_HOURLY_PER_IP = 30


class WrongCode(ValidationError):
    """A wrong code: the attempt is counted even though the request fails."""

    code = AccountError.INVALID_CODE
    keeps_changes = True


def _digest(secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def _code_error(message: str, code: str = AccountError.INVALID_CODE) -> ValidationError:
    return ValidationError(message, code=code, fields={"code": message})


def send_sms_code(phone: str, purpose: str, ip: str | None) -> VerificationCode:
    """Create a code for `phone` and queue the SMS. `phone` is already normalised."""
    purpose = CodePurpose(purpose)
    latest = _latest(CodeChannel.SMS, phone, purpose)
    if latest is not None and (utcnow() - latest.created_at).total_seconds() < RESEND_SECONDS:
        wait = max(1, RESEND_SECONDS - int((utcnow() - latest.created_at).total_seconds()))
        # A limit, not a conflict: 429 with Retry-After, like the daily and hourly counts.
        raise RateLimited(_("请 %(s)d 秒后再获取验证码", s=wait), code=AccountError.CODE_TOO_SOON, retry_after=wait)
    daily = platform_settings.get("sms_daily_limit_per_phone")
    hourly = platform_settings.get("sms_hourly_limit_per_ip")
    ratelimit.hit("sms-code-phone", f"{daily}/day", phone, _("这个手机号今天获取验证码次数过多，请明天再试"))
    if ip:
        ratelimit.hit("sms-code-ip", f"{hourly}/hour", ip, _("获取验证码过于频繁，请稍后再试"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = VerificationCode(
        channel=CodeChannel.SMS, target=phone, purpose=purpose, code_hash=_digest(code),
        expires_at=utcnow() + CODE_TTL, requested_ip=ip,
    )
    db.session.add(row)
    db.session.flush()
    notifications.send_sms(phone, "verification_code", {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)})
    return row


def _latest(channel: str, target: str, purpose: str) -> VerificationCode | None:
    return db.session.scalar(
        sa.select(VerificationCode)
        .where(VerificationCode.channel == channel, VerificationCode.target == target,
               VerificationCode.purpose == purpose)
        .order_by(VerificationCode.id.desc())
        .limit(1)
    )


def consume_sms_code(phone: str, purpose: str, code: str) -> None:
    """Check and use up the latest code sent to `phone` for `purpose`, or raise."""
    code = (code or "").strip()
    row = _latest(CodeChannel.SMS, phone, purpose)
    if row is None or row.consumed_at is not None:
        raise _code_error(_("请先获取验证码"), AccountError.CODE_MISSING)
    if row.expires_at <= utcnow():
        raise _code_error(_("验证码已过期，请重新获取"), AccountError.CODE_EXPIRED)
    if row.attempts >= MAX_ATTEMPTS:
        raise _code_error(_("验证码错误次数过多，请重新获取"), AccountError.CODE_LOCKED)
    if not (len(code) == 6 and code.isdigit() and hmac.compare_digest(row.code_hash, _digest(code))):
        # The count comes back from the UPDATE itself: the session also refreshes
        # `row.attempts` after an ORM update, so arithmetic on it counted the try twice.
        attempts = db.session.execute(
            sa.update(VerificationCode).where(VerificationCode.id == row.id)
            .values(attempts=VerificationCode.attempts + 1).returning(VerificationCode.attempts)
        ).scalar_one()
        left = MAX_ATTEMPTS - attempts
        message = _("验证码不正确，还可以再试 %(n)d 次", n=left) if left > 0 else _("验证码错误次数过多，请重新获取")
        raise WrongCode(message, fields={"code": message})
    _consume(row.id)


def _consume(row_id: int) -> None:
    used = db.session.execute(
        sa.update(VerificationCode)
        .where(VerificationCode.id == row_id, VerificationCode.consumed_at.is_(None))
        .values(consumed_at=utcnow())
    ).rowcount
    if used != 1:
        raise _code_error(_("验证码已使用，请重新获取"), AccountError.CODE_USED)


# --- email links ---------------------------------------------------------

def limit_mail(email: str, ip: str | None) -> None:
    """Count one mail someone asked for (a registration, reset or binding link) to the
    normalised `email` from `ip`, or raise RateLimited (429 with Retry-After) and send
    nothing and counts nothing: one per RESEND_SECONDS per address, MAIL_DAILY_PER_ADDRESS
    a day per address, MAIL_HOURLY_PER_IP an hour per IP. Callers count before deciding
    what to send, so an address with an account is limited exactly like one without."""
    limits = [(*MAIL_RESEND_LIMIT, email, _("邮件发送太频繁，请 1 分钟后再试"), "email_too_soon"),
              ("mail-address", f"{MAIL_DAILY_PER_ADDRESS}/day", email, _("这个邮箱今天收到的邮件过多，请明天再试"),
               "rate_limited")]
    if ip:
        limits.append(("mail-ip", f"{MAIL_HOURLY_PER_IP}/hour", ip, _("邮件发送太频繁，请稍后再试"), "rate_limited"))
    ratelimit.hit_all(limits)


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"email-link:{purpose}")


def create_email_link_token(email: str, purpose: str) -> str:
    """Record a single-use secret for `email` and return the signed token for the link."""
    purpose = CodePurpose(purpose)
    nonce = secrets.token_urlsafe(16)
    row = VerificationCode(
        channel=CodeChannel.EMAIL, target=email, purpose=purpose, code_hash=_digest(nonce),
        expires_at=utcnow() + timedelta(seconds=LINK_TTL_SECONDS),
    )
    db.session.add(row)
    db.session.flush()
    return _serializer(purpose).dumps({"id": row.id, "n": nonce})


def read_email_link_token(token: str, purpose: str, *, consume: bool) -> str:
    """Return the address a link token was made for; with `consume`, use it up."""
    invalid = ValidationError(_("链接无效，请重新获取"), code=AccountError.INVALID_TOKEN)
    try:
        data = _serializer(purpose).loads(token or "", max_age=LINK_TTL_SECONDS)
    except SignatureExpired:
        raise ValidationError(_("链接已过期，请重新获取"), code=AccountError.TOKEN_EXPIRED) from None
    except BadSignature:
        raise invalid from None
    if not isinstance(data, dict):
        raise invalid
    row = db.session.get(VerificationCode, data.get("id"))
    if row is None or row.purpose != purpose or not hmac.compare_digest(row.code_hash, _digest(str(data.get("n")))):
        raise invalid
    if row.consumed_at is not None:
        raise ValidationError(_("链接已使用过，请重新获取"), code=AccountError.TOKEN_USED)
    if consume:
        _consume(row.id)
    return row.target
