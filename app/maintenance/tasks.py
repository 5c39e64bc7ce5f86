"""Periodic housekeeping. Each job opens its own unit of work and is safe to re-run."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import ApiToken, VerificationCode
from app.core.clock import utcnow
from app.core.db import transaction
from app.extensions import db


def purge_expired_codes() -> int:
    """Delete verification codes expired more than a day ago (kept a day for support)."""
    with transaction():
        result = db.session.execute(
            sa.delete(VerificationCode).where(VerificationCode.expires_at < utcnow() - timedelta(days=1))
        )
    return result.rowcount


def purge_expired_tokens() -> int:
    """Delete API tokens that expired or were revoked more than 30 days ago."""
    cutoff = utcnow() - timedelta(days=30)
    with transaction():
        result = db.session.execute(
            sa.delete(ApiToken).where(sa.or_(ApiToken.expires_at < cutoff, ApiToken.revoked_at < cutoff))
        )
    return result.rowcount
