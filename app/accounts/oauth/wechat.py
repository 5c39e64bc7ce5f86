"""What the WeChat sign-in APIs share: `errcode` replies and their meaning.

WeChat answers HTTP 200 with `{"errcode": N, "errmsg": "..."}` on failure
(errcode 0 or absent means success), often with a text/plain content type.
"""
from __future__ import annotations

import logging

from flask_babel import gettext as _

from app.accounts.errors import AccountError
from app.accounts.oauth import ProviderUnavailable
from app.core.errors import DomainError, Forbidden, RateLimited, ValidationError

log = logging.getLogger(__name__)

# errcodes that mean our app id / secret / token is wrong: the shopper cannot fix it.
CONFIG_ERRCODES = {40001, 40002, 40013, 40125, 40164, 41002, 41004, 41008, 61024}


def unreachable() -> str:
    return _("暂时无法连接微信，请稍后再试")


def error_for(errcode: int, errmsg: str, api: str) -> DomainError:
    """The typed error for a WeChat `errcode` (never 0)."""
    if errcode == 40029:
        return ValidationError(_("微信登录凭证无效，请重新登录"), code=AccountError.WECHAT_CODE_INVALID)
    if errcode == 40163:
        return ValidationError(_("微信登录凭证已使用，请重新登录"), code=AccountError.WECHAT_CODE_USED)
    if errcode == 42003:
        return ValidationError(_("微信登录凭证已过期，请重新登录"), code=AccountError.WECHAT_CODE_EXPIRED)
    if errcode == 45011:
        return RateLimited(_("微信登录太频繁，请稍后再试"), code=AccountError.WECHAT_RATE_LIMITED)
    if errcode == 40226:
        return Forbidden(_("微信提示该账号存在风险，暂时无法登录"), code=AccountError.WECHAT_RISKY_USER)
    if errcode == -1:
        return ProviderUnavailable(_("微信系统繁忙，请稍后再试"), code=AccountError.WECHAT_BUSY)
    if errcode in CONFIG_ERRCODES:
        log.error("WeChat %s refused our credentials: %s %s", api, errcode, errmsg)
        return ProviderUnavailable(_("微信登录配置有误，请联系客服"), code=AccountError.WECHAT_CONFIG_ERROR)
    log.warning("WeChat %s failed: %s %s", api, errcode, errmsg)
    return ProviderUnavailable(_("微信登录失败（错误码 %(code)s），请稍后再试", code=errcode), code=AccountError.WECHAT_ERROR)


def check(data: dict, api: str) -> dict:
    """Raise the typed error when `data` carries a non-zero errcode."""
    raw = data.get("errcode", 0)
    try:
        errcode = int(raw or 0)
    except (TypeError, ValueError):
        errcode = -2
    if errcode != 0:
        raise error_for(errcode, str(data.get("errmsg", "")), api)
    return data


def required(data: dict, key: str, api: str) -> str:
    """A non-empty string field of a success reply, or `ProviderUnavailable`."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        log.warning("WeChat %s reply has no %s", api, key)
        raise ProviderUnavailable(unreachable())
    return value.strip()


def optional(data: dict, key: str) -> str | None:
    value = data.get(key)
    return (value.strip() or None) if isinstance(value, str) else None
