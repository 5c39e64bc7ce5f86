"""API-key authentication for merchant integrations (`/api/v1/merchant/...`).

An ERP sends `X-Api-Key: mk_...`; the key resolves to exactly one merchant,
which every merchant endpoint reads from `g.api_merchant` and scopes its data
to. Unknown, malformed and revoked keys get 401 `invalid_api_key`.
"""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.core.db import transaction
from app.core.errors import Unauthorized
from app.merchants import api_keys
from app.merchants.models import Merchant

HEADER = "X-Api-Key"
SCHEME = "merchant_api_key"
SECURITY = [{SCHEME: []}]  # for `@blp.doc(security=SECURITY)`


def register_security_scheme(api) -> None:
    """Describe the key in the OpenAPI document (once per Api)."""
    if SCHEME not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(SCHEME, {
            "type": "apiKey", "in": "header", "name": HEADER,
            "description": "Merchant API key (created by the shop owner in the merchant console, API 密钥).",
        })


def document_api_key(state) -> None:
    """`blp.record_once(document_api_key)`: a merchant blueprint describes the key in its Api's document."""
    register_security_scheme(state.app.extensions["flask-smorest"]["apis"][""]["ext_obj"])


def api_key_required(view):
    """Load the key's merchant into `g.api_merchant`, or answer 401."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        raw = request.headers.get(HEADER, "").strip()
        with transaction():  # commits the key's last-used time
            merchant = api_keys.merchant_for_key(raw) if raw else None
        if merchant is None:
            raise Unauthorized(_("API 密钥无效或已撤销"), code="invalid_api_key")
        g.api_merchant = merchant
        return view(*args, **kwargs)

    return wrapped


def api_merchant() -> Merchant:
    return g.api_merchant
