"""Normalising and checking what people type: phone numbers, email addresses,
passwords and nicknames. Messages are the ones shown next to the field. Also
the one way a phone number is shown (`format_phone`)."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.core.errors import ValidationError

# Mainland mobile numbers: 11 digits starting 13-19, optionally written with +86 / 86.
MAINLAND_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
PASSWORD_MIN, PASSWORD_MAX = 8, 64


def normalise_phone(text: str | None, field: str = "phone") -> str:
    """'138 0013 8000' / '+8613800138000' -> '+8613800138000' (E.164)."""
    cleaned = re.sub(r"[\s-]", "", text or "")
    match = MAINLAND_MOBILE.match(cleaned)
    if not match:
        message = _("请输入正确的 11 位手机号")
        raise ValidationError(message, code=AccountError.INVALID_PHONE, fields={field: message})
    return "+86" + match.group(1)


def format_phone(phone: str | None, masked: bool = False) -> str:
    """'+8613800000001' -> '138 0000 0001' (3-4-4, as people read it), or '138****0001'
    when `masked` (someone else's number). Anything that is not a mainland mobile
    is shown as stored (masked: all but the last four digits hidden); none is '—'."""
    if not phone:
        return "—"
    match = MAINLAND_MOBILE.match(re.sub(r"[\s-]", "", phone))
    if match:
        digits = match.group(1)
        return f"{digits[:3]}****{digits[-4:]}" if masked else f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return "****" + phone[-4:] if masked else phone


def normalise_email(text: str | None, field: str = "email") -> str:
    try:
        result = validate_email((text or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        message = _("请输入正确的邮箱地址")
        raise ValidationError(message, code=AccountError.INVALID_EMAIL, fields={field: message}) from None
    return result.normalized.lower()


def looks_like_email(text: str) -> bool:
    return "@" in (text or "")


def check_password(password: str | None, field: str = "password") -> str:
    """At least 8 characters with both letters and digits; at most 64."""
    password = password or ""
    message = None
    if len(password) < PASSWORD_MIN:
        message = _("密码至少 %(n)d 位", n=PASSWORD_MIN)
    elif len(password) > PASSWORD_MAX:
        message = _("密码最多 %(n)d 位", n=PASSWORD_MAX)
    elif not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        message = _("密码需同时包含字母和数字")
    if message:
        raise ValidationError(message, code=AccountError.WEAK_PASSWORD, fields={field: message})
    return password


def check_nickname(nickname: str | None, field: str = "nickname") -> str:
    nickname = (nickname or "").strip()
    if not 1 <= len(nickname) <= 20:
        message = _("昵称为 1 到 20 个字符")
        raise ValidationError(message, code=AccountError.INVALID_NICKNAME, fields={field: message})
    return nickname
