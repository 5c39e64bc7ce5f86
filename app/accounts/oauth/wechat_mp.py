"""WeChat mini-program sign-in: `wx.login()` gives the mini-program a one-time
`code` (valid 5 minutes); the server trades it for the user's openid (and the
unionid when the mini-program is bound to the platform's WeChat Open account)
with `GET /sns/jscode2session`.

The `session_key` is returned to the caller for completeness but is never
stored nor sent to the client (WeChat's rule: it must stay on the server).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.accounts.oauth import ProviderNotConfigured, http, wechat
from app.core.errors import ValidationError

API = "jscode2session"


@dataclass(frozen=True)
class MpSession:
    openid: str
    unionid: str | None
    session_key: str | None

    def __repr__(self) -> str:  # keep the session key out of logs
        return f"MpSession(openid={self.openid!r}, unionid={self.unionid!r})"


def is_configured() -> bool:
    return bool(current_app.config.get("WECHAT_MP_APPID") and current_app.config.get("WECHAT_MP_SECRET"))


def code2session(code: str) -> MpSession:
    """Trade a `wx.login()` code for the user's openid (and unionid)."""
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise ValidationError(_("微信登录凭证无效，请重新登录"), code=AccountError.WECHAT_CODE_INVALID,
                              fields={"code": _("微信登录凭证无效，请重新登录")})
    if not is_configured():
        raise ProviderNotConfigured(_("小程序登录暂未开通"))
    config = current_app.config
    data = http.get_json(
        config["WECHAT_API_BASE_URL"].rstrip("/") + "/sns/jscode2session",
        {"appid": config["WECHAT_MP_APPID"], "secret": config["WECHAT_MP_SECRET"], "js_code": code,
         "grant_type": "authorization_code"},
        wechat.unreachable(),
    )
    wechat.check(data, API)
    return MpSession(
        openid=wechat.required(data, "openid", API),
        unionid=wechat.optional(data, "unionid"),
        session_key=wechat.optional(data, "session_key"),
    )
