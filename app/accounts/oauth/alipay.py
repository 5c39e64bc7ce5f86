"""Alipay sign-in (网页授权, scope `auth_user`) through the open platform gateway.

1. Send the browser to `{ALIPAY_AUTH_URL}?app_id=...&scope=auth_user
   &redirect_uri=...&state=...`; the user confirms in Alipay.
2. Alipay redirects to `redirect_uri?app_id=...&source=...&scope=...
   &auth_code=...&state=...`. The caller checks `state`.
3. `alipay.system.oauth.token` (grant_type=authorization_code, code) ->
   user_id (or open_id for apps that use OpenID) and access_token.
4. `alipay.user.info.share` with `auth_token` -> nick_name, avatar.

Signing (RSA2): every request parameter except `sign`, with an empty value
left out, sorted by name (byte order), joined as `k=v&k=v` with the raw,
unencoded values; SHA256withRSA (PKCS#1 v1.5) with the app private key;
base64. The common parameters go in the query string and the API's own
parameters in the form body, all UTF-8.

Verifying: the reply is `{"<method_with_underscores>_response": {...}, "sign": "..."}`
(or `"error_response"` on failure). The signature covers the raw JSON text of
that node exactly as received, so the node's text is cut out of the reply
rather than re-serialised. Some replies escape "/" as "\\/"; like the
provider's own SDKs we also try the text with that escape undone. A failure
reply without a signature is accepted as a failure (nothing in it is
trusted); a success reply must be signed.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from json.decoder import scanstring
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import current_app
from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.accounts.oauth import ProviderNotConfigured, ProviderUnavailable, http
from app.core.errors import DomainError, ValidationError

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8))  # the gateway's clock; China has no DST
OAUTH_TOKEN = "alipay.system.oauth.token"
USER_INFO = "alipay.user.info.share"
SUCCESS = "10000"

# sub_code -> (message, error code): the auth code is the shopper's to retry.
CODE_ERRORS = {
    "isv.code-invalid": (lambda: _("支付宝授权码无效或已使用，请重新登录"), AccountError.ALIPAY_CODE_INVALID),
    "isv.auth-code-expired": (lambda: _("支付宝授权已过期，请重新登录"), AccountError.ALIPAY_CODE_EXPIRED),
    "isv.grant-type-invalid": (lambda: _("支付宝授权码无效或已使用，请重新登录"), AccountError.ALIPAY_CODE_INVALID),
}


@dataclass(frozen=True)
class AlipayUser:
    user_id: str
    nickname: str | None
    avatar_url: str | None


def unreachable() -> str:
    return _("暂时无法连接支付宝，请稍后再试")


def is_configured() -> bool:
    config = current_app.config
    return bool(config.get("ALIPAY_APP_ID") and config.get("ALIPAY_APP_PRIVATE_KEY")
                and config.get("ALIPAY_PUBLIC_KEY"))


def _require_config() -> None:
    if not is_configured():
        raise ProviderNotConfigured(_("支付宝登录暂未开通"))


def authorize_url(redirect_uri: str, state: str) -> str:
    _require_config()
    query = urlencode({
        "app_id": current_app.config["ALIPAY_APP_ID"],
        "scope": "auth_user",
        "redirect_uri": redirect_uri,
        "state": state,
    })
    return f"{current_app.config['ALIPAY_AUTH_URL']}?{query}"


# --- keys and signatures ------------------------------------------------------------

def _pem(text: str, kind: str) -> bytes:
    """Accept a PEM, or the bare base64 body the Alipay console hands out."""
    text = (text or "").strip()
    if "-----BEGIN" in text:
        return text.encode()
    body = "".join(text.split())
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n".encode()


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    try:
        if "-----BEGIN" in (text or ""):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:  # bare base64: PKCS#8 or PKCS#1 DER
            key = serialization.load_der_private_key(base64.b64decode("".join(text.split())), password=None)
    except (ValueError, TypeError, binascii.Error):
        log.error("ALIPAY_APP_PRIVATE_KEY cannot be read")
        raise ProviderNotConfigured(_("支付宝登录配置有误，请联系客服"), code=AccountError.ALIPAY_CONFIG_ERROR) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProviderNotConfigured(_("支付宝登录配置有误，请联系客服"), code=AccountError.ALIPAY_CONFIG_ERROR)
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(_pem(text, "PUBLIC KEY"))
    except (ValueError, TypeError):
        log.error("ALIPAY_PUBLIC_KEY cannot be read")
        raise ProviderNotConfigured(_("支付宝登录配置有误，请联系客服"), code=AccountError.ALIPAY_CONFIG_ERROR) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ProviderNotConfigured(_("支付宝登录配置有误，请联系客服"), code=AccountError.ALIPAY_CONFIG_ERROR)
    return key


def signing_content(params: dict) -> str:
    """`k=v&...` of every parameter but `sign` with a non-empty value, sorted by name."""
    items = sorted((k, str(v)) for k, v in params.items() if k != "sign" and v is not None and str(v) != "")
    return "&".join(f"{k}={v}" for k, v in items)


def sign(content: str, private_key: rsa.RSAPrivateKey) -> str:
    signature = private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(content: str, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def top_level_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where each top-level member's value sits in a JSON object's text.

    Walks the object with the standard library's own scanner, so quotes or
    braces inside strings cannot fool it. Raises ValueError on bad JSON.
    """
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    i = 0
    n = len(text)

    def skip(pos: int) -> int:
        while pos < n and text[pos] in ws:
            pos += 1
        return pos

    i = skip(i)
    if i >= n or text[i] != "{":
        raise ValueError("not a JSON object")
    i = skip(i + 1)
    spans: dict[str, tuple[int, int]] = {}
    if i < n and text[i] == "}":
        return spans
    while True:
        if i >= n or text[i] != '"':
            raise ValueError("expected a member name")
        key, i = scanstring(text, i + 1)
        i = skip(i)
        if i >= n or text[i] != ":":
            raise ValueError("expected ':'")
        i = skip(i + 1)
        _value, end = decoder.raw_decode(text, i)
        spans[key] = (i, end)
        i = skip(end)
        if i < n and text[i] == ",":
            i = skip(i + 1)
            continue
        if i < n and text[i] == "}":
            return spans
        raise ValueError("expected ',' or '}'")


def read_reply(text: str, method: str, public_key: rsa.RSAPublicKey) -> dict:
    """The verified response node of a gateway reply, or a typed error."""
    node_name = method.replace(".", "_") + "_response"
    try:
        spans = top_level_spans(text)
        whole = json.loads(text)
    except ValueError:
        log.warning("Alipay %s reply is not JSON: %r", method, text[:200])
        raise ProviderUnavailable(unreachable()) from None
    name = node_name if node_name in spans else "error_response" if "error_response" in spans else None
    if name is None or not isinstance(whole.get(name), dict):
        log.warning("Alipay %s reply has no response node", method)
        raise ProviderUnavailable(unreachable())
    node = whole[name]
    raw = text[slice(*spans[name])]
    signature = whole.get("sign")
    failed = name == "error_response" or ("code" in node and str(node["code"]) != SUCCESS)
    if isinstance(signature, str) and signature:
        if not (verify(raw, signature, public_key)
                or ("\\/" in raw and verify(raw.replace("\\/", "/"), signature, public_key))):
            log.error("Alipay %s reply signature does not verify", method)
            raise ProviderUnavailable(_("支付宝返回的数据验签失败，请稍后再试"), code=AccountError.ALIPAY_BAD_SIGNATURE)
    elif not failed:
        log.error("Alipay %s success reply is not signed", method)
        raise ProviderUnavailable(_("支付宝返回的数据验签失败，请稍后再试"), code=AccountError.ALIPAY_BAD_SIGNATURE)
    if failed:
        raise _error_for(node, method)
    return node


def _error_for(node: dict, method: str) -> DomainError:
    sub_code = str(node.get("sub_code") or "")
    if sub_code in CODE_ERRORS:
        message, code = CODE_ERRORS[sub_code]
        return ValidationError(message(), code=code)
    if str(node.get("code")) == "20001" or sub_code.startswith("aop.invalid-auth-token"):
        return ValidationError(_("支付宝授权已失效，请重新登录"), code=AccountError.ALIPAY_TOKEN_INVALID)
    if sub_code.startswith(("isv.invalid-app-id", "isv.invalid-signature", "isv.missing-signature",
                            "isv.app-unbind-partner", "isv.insufficient-isv-permissions")) \
            or str(node.get("code")) in ("40006",):
        log.error("Alipay %s refused our credentials: %s", method, node)
        return ProviderUnavailable(_("支付宝登录配置有误，请联系客服"), code=AccountError.ALIPAY_CONFIG_ERROR)
    if str(node.get("code")) == "20000":
        return ProviderUnavailable(_("支付宝系统繁忙，请稍后再试"), code=AccountError.ALIPAY_BUSY)
    log.warning("Alipay %s failed: %s", method, node)
    detail = node.get("sub_msg") or node.get("msg") or node.get("code")
    return ProviderUnavailable(_("支付宝登录失败（%(detail)s），请稍后再试", detail=detail), code=AccountError.ALIPAY_ERROR)


# --- API calls -------------------------------------------------------------------

def call(method: str, api_params: dict, auth_token: str | None = None) -> dict:
    """Call one gateway method and return its verified response node."""
    _require_config()
    config = current_app.config
    private_key = load_private_key(config["ALIPAY_APP_PRIVATE_KEY"])
    public_key = load_public_key(config["ALIPAY_PUBLIC_KEY"])
    common = {
        "app_id": config["ALIPAY_APP_ID"],
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        "version": "1.0",
    }
    if auth_token:
        common["auth_token"] = auth_token
    common["sign"] = sign(signing_content({**common, **api_params}), private_key)
    text = http.post_form_text(config["ALIPAY_GATEWAY_URL"], common, api_params, unreachable())
    return read_reply(text, method, public_key)


def fetch_user(auth_code: str) -> AlipayUser:
    """Trade the callback's `auth_code` for the user's id and nickname."""
    auth_code = (auth_code or "").strip()
    if not auth_code or len(auth_code) > 128:
        raise ValidationError(_("支付宝授权码无效或已使用，请重新登录"), code=AccountError.ALIPAY_CODE_INVALID)
    token = call(OAUTH_TOKEN, {"grant_type": "authorization_code", "code": auth_code})
    user_id = str(token.get("user_id") or token.get("open_id") or "").strip()
    access_token = str(token.get("access_token") or "").strip()
    if not user_id or not access_token:
        log.warning("Alipay %s reply lacks user_id/open_id or access_token", OAUTH_TOKEN)
        raise ProviderUnavailable(unreachable())
    nickname = avatar = None
    try:
        info = call(USER_INFO, {}, auth_token=access_token)
    except ValidationError:
        info = {}  # the profile is a nicety: the sign-in stands without it
    except ProviderUnavailable as exc:
        if exc.code == "alipay_bad_signature":
            raise
        info = {}
    if info:
        nickname = (str(info.get("nick_name") or "").strip()) or None
        avatar = (str(info.get("avatar") or "").strip()) or None
    return AlipayUser(user_id=user_id, nickname=nickname, avatar_url=avatar)
