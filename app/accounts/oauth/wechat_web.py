"""WeChat website QR login (WeChat Open Platform "网站应用", scope snsapi_login).

1. Send the browser to `{WECHAT_OPEN_BASE_URL}/connect/qrconnect?appid=...
   &redirect_uri=...&response_type=code&scope=snsapi_login&state=...#wechat_redirect`.
   The user scans the QR code with WeChat and confirms.
2. WeChat redirects to `redirect_uri?code=CODE&state=STATE` (no `code` when the
   user refused). The caller checks `state` against the one it kept.
3. `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
   -> access_token, openid (and unionid).
4. `GET /sns/userinfo?access_token&openid` -> nickname, headimgurl, unionid.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app
from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.accounts.oauth import ProviderNotConfigured, http, wechat
from app.core.errors import ValidationError


@dataclass(frozen=True)
class WechatUser:
    openid: str
    unionid: str | None
    nickname: str | None
    avatar_url: str | None


def is_configured() -> bool:
    return bool(current_app.config.get("WECHAT_WEB_APPID") and current_app.config.get("WECHAT_WEB_SECRET"))


def _require_config() -> None:
    if not is_configured():
        raise ProviderNotConfigured(_("微信登录暂未开通"))


def authorize_url(redirect_uri: str, state: str) -> str:
    """Where to send the browser to show the WeChat QR code."""
    _require_config()
    query = urlencode({
        "appid": current_app.config["WECHAT_WEB_APPID"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "snsapi_login",
        "state": state,
    })
    return f"{current_app.config['WECHAT_OPEN_BASE_URL'].rstrip('/')}/connect/qrconnect?{query}#wechat_redirect"


def fetch_user(code: str) -> WechatUser:
    """Trade the callback's `code` for the user's openid, unionid and profile."""
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise ValidationError(_("微信登录凭证无效，请重新登录"), code=AccountError.WECHAT_CODE_INVALID)
    _require_config()
    config = current_app.config
    base = config["WECHAT_API_BASE_URL"].rstrip("/")
    token = wechat.check(http.get_json(
        base + "/sns/oauth2/access_token",
        {"appid": config["WECHAT_WEB_APPID"], "secret": config["WECHAT_WEB_SECRET"], "code": code,
         "grant_type": "authorization_code"},
        wechat.unreachable(),
    ), "oauth2/access_token")
    access_token = wechat.required(token, "access_token", "oauth2/access_token")
    openid = wechat.required(token, "openid", "oauth2/access_token")
    info = wechat.check(http.get_json(
        base + "/sns/userinfo", {"access_token": access_token, "openid": openid, "lang": "zh_CN"},
        wechat.unreachable(),
    ), "userinfo")
    if info.get("openid") not in (None, openid):
        raise wechat.error_for(-2, "userinfo openid differs from the token's", "userinfo")
    return WechatUser(
        openid=openid,
        unionid=wechat.optional(info, "unionid") or wechat.optional(token, "unionid"),
        nickname=wechat.optional(info, "nickname"),
        avatar_url=wechat.optional(info, "headimgurl"),
    )
