"""Consent to the user agreement and the privacy policy (PIPL).

Every way of creating an account (phone, email link, WeChat, Alipay, the
mini-program) asks for an explicit "I agree" first, never a pre-ticked box;
the account records when it agreed and to which version of the two texts
(`/terms` and `/privacy`). Bump `TERMS_VERSION` when either text changes in
substance.
"""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.accounts.models import User
from app.core.clock import utcnow
from app.core.errors import ValidationError

TERMS_VERSION = "2026-12-05"  # the date both texts took effect


def require_agreement(agreed: bool, field: str = "agree_terms") -> None:
    """Refuse to create an account unless the person ticked "I agree"."""
    if agreed is not True:
        message = _("请阅读并同意《用户协议》和《隐私政策》")
        raise ValidationError(message, code=AccountError.TERMS_NOT_ACCEPTED, fields={field: message})


def record_agreement(user: User) -> None:
    user.terms_accepted_at = utcnow()
    user.terms_version = TERMS_VERSION
