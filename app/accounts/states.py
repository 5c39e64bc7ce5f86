"""Account statuses, admin roles and the names of sign-in methods."""
from __future__ import annotations

from enum import StrEnum

from app.core.lifecycle import Lifecycle, act


class UserStatus(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"
    DELETED = "deleted"  # the owner deleted the account: anonymised, kept for the orders' records


# An operator bans an account (again, to change the reason or end date of a ban that
# may have lapsed) and lifts the ban; the owner deletes it, also after a ban lapsed
# (`User.is_banned` is false once `banned_until` passed, though the status stays).
USER_LIFECYCLE = Lifecycle("user", UserStatus, (
    act("ban", (UserStatus.ACTIVE, UserStatus.BANNED), UserStatus.BANNED),
    act("unban", UserStatus.BANNED, UserStatus.ACTIVE),
    act("delete", (UserStatus.ACTIVE, UserStatus.BANNED), UserStatus.DELETED),
))


class AdminRole(StrEnum):
    NONE = "none"
    SUPER = "super"
    OPERATOR = "operator"
    FINANCE = "finance"


class IdentityProvider(StrEnum):
    WECHAT_MP = "wechat_mp"  # mini-program openid
    WECHAT_WEB = "wechat_web"  # website QR login openid
    WECHAT = "wechat"  # unionid, shared by the platform's WeChat apps
    ALIPAY = "alipay"


class CodePurpose(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET = "reset"
    BIND = "bind"
    CLOSE_ACCOUNT = "close_account"  # confirming an account deletion; sent only to the signed-in user's phone


class CodeChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
