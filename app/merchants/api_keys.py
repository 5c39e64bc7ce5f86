"""API keys for merchant integrations (ERP). A key is shown once at creation;
only its SHA-256 is stored. A key acts for its merchant only."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts.models import User
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationError
from app.extensions import db
from app.merchants.errors import MerchantError
from app.merchants.models import Merchant, MerchantApiKey
from app.merchants.shops import get_merchant, require_owner

KEY_PREFIX = "mk_"
MAX_KEYS = 10


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def keys_of(merchant_id: int) -> list[MerchantApiKey]:
    return list(db.session.scalars(sa.select(MerchantApiKey).where(MerchantApiKey.merchant_id == merchant_id)
                                   .order_by(MerchantApiKey.revoked_at.is_not(None), MerchantApiKey.id.desc())))


def create_key(owner: User, merchant_id: int, name: str) -> tuple[MerchantApiKey, str]:
    """Returns the row and the raw key (to show once)."""
    require_owner(owner, merchant_id)
    name = (name or "").strip()
    if not 1 <= len(name) <= 40:
        message = _("请给密钥起个名字（最多 40 个字）")
        raise ValidationError(message, fields={"name": message})
    live = db.session.scalar(sa.select(sa.func.count(MerchantApiKey.id)).where(
        MerchantApiKey.merchant_id == merchant_id, MerchantApiKey.revoked_at.is_(None)))
    if live >= MAX_KEYS:
        raise ValidationError(_("最多同时保留 %(n)d 个有效密钥", n=MAX_KEYS), code=MerchantError.TOO_MANY_KEYS)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = MerchantApiKey(merchant_id=merchant_id, name=name, prefix=raw[:10], key_hash=_digest(raw),
                         created_by_id=owner.id)
    db.session.add(key)
    db.session.flush()
    audit.record(owner, "merchant.api_key_create", get_merchant(merchant_id), {"api_key": [None, key.prefix]}, name)
    return key, raw


def revoke_key(owner: User, merchant_id: int, key_id: int) -> MerchantApiKey:
    require_owner(owner, merchant_id)
    key = db.session.scalar(sa.select(MerchantApiKey).where(MerchantApiKey.id == key_id,
                                                            MerchantApiKey.merchant_id == merchant_id))
    if key is None:
        raise NotFound(_("密钥不存在"), code=MerchantError.API_KEY_NOT_FOUND)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
        audit.record(owner, "merchant.api_key_revoke", get_merchant(merchant_id), {"api_key": [key.prefix, None]})
    return key


def merchant_for_key(raw: str) -> Merchant | None:
    """The merchant a live key acts for (None for unknown or revoked keys)."""
    if not raw or not raw.startswith(KEY_PREFIX):
        return None
    key = db.session.scalar(sa.select(MerchantApiKey).where(MerchantApiKey.key_hash == _digest(raw)))
    if key is None or key.revoked_at is not None:
        return None
    key.last_used_at = utcnow()
    return db.session.get(Merchant, key.merchant_id)
