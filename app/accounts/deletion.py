"""Deleting one's own account (注销账号, PIPL).

Guarantees:
- Only the account's owner deletes it, after confirming with their password (or,
  for an account without one, an SMS code sent to its own phone). Five wrong passwords
  in 15 minutes stop the confirmation for the rest of them (429).
- It is refused, saying why, while something is still under way: orders not yet
  finished, withdrawals not yet paid, commission left to withdraw, a shop the
  user owns that is not closed, a shop application in review, an admin role.
- The account row stays, because orders, reviews and commissions point at it,
  but nothing identifies the person any more: phone, email, password, nickname,
  avatar, third-party identities, addresses, API tokens, sign-in history, codes,
  cart, inbox and staff memberships are removed, behaviour events are unlinked,
  and every session ends (session_version). Orders keep their address snapshot
  as the trade record the law asks for; the buyer shows as 已注销用户.
- The phone and email are free to register again at once.
- The deletion is audit-logged (without the removed data).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from app.accounts import codes
from app.accounts.errors import AccountError
from app.accounts.models import Address, ApiToken, Identity, SignInEvent, User, VerificationCode
from app.accounts.services import bump_session_version
from app.accounts.states import USER_LIFECYCLE, AdminRole, CodePurpose, UserStatus
from app.analytics import events as analytics_events
from app.core import audit, ratelimit, storage
from app.core.clock import utcnow
from app.core.errors import Conflict, RateLimited, ValidationError
from app.core.lifecycle import move
from app.core.money import format_yuan
from app.distribution import distributors, withdrawals
from app.distribution import queries as distribution_queries
from app.extensions import db
from app.merchants import queries as merchant_queries
from app.merchants import shops
from app.notifications import services as notifications
from app.orders import cart
from app.orders import queries as order_queries


@dataclass(frozen=True)
class Blocker:
    """Something that must be finished before the account can go, and where to see it."""

    code: str
    message: str
    link: str | None = None


def blockers(user: User) -> list[Blocker]:
    """Why `user` cannot delete their account now (empty: they can)."""
    found: list[Blocker] = []
    unfinished = order_queries.unfinished_count(user.id)
    if unfinished:
        found.append(Blocker("unfinished_orders", _(
            "你还有 %(n)d 个未完成的订单（待付款、待发货、待收货或在售后期内），订单完成或取消后才能注销",
            n=unfinished), "/orders"))
    in_progress = withdrawals.in_progress_count(user.id)
    if in_progress:
        found.append(Blocker("pending_withdrawals", _("你有 %(n)d 笔提现正在处理，到账后才能注销", n=in_progress),
                             "/distributor/withdrawals"))
    distributor = distributors.for_user(user.id)
    if distributor is not None:
        available = distribution_queries.earnings(distributor.id).available_fen
        if available > 0:
            found.append(Blocker("commission_balance", _("你还有 %(amount)s 可提现佣金，请先提现",
                                                         amount=format_yuan(available)), "/distributor/withdrawals"))
    owned = merchant_queries.owned_open_shops(user.id)
    if owned:
        names = "、".join(f"「{shop.name}」" for shop in owned)
        found.append(Blocker("owns_shop", _("你是店铺%(names)s的店主，请先联系平台关闭店铺后再注销", names=names),
                             "/merchant/"))
    if merchant_queries.has_application_in_review(user.id):
        found.append(Blocker("application_in_review", _("你的开店申请正在审核，审核结束后才能注销"), "/merchant/apply"))
    if user.admin_role != AdminRole.NONE:
        found.append(Blocker("admin", _("你是平台管理员，请先由超级管理员取消你的管理员角色")))
    return found


def confirmation_method(user: User) -> str | None:
    """How the owner confirms: `password`, `sms` (no password but a phone), or None."""
    if user.password_hash:
        return "password"
    if user.phone:
        return "sms"
    return None


def send_code(user: User, ip: str | None) -> None:
    """An SMS code to the account's own phone, for an account without a password (one
    with a password confirms with it: no message is sent for nothing)."""
    if not user.phone:
        raise ValidationError(_("账号没有绑定手机号"), code=AccountError.NO_PHONE)
    if confirmation_method(user) != "sms":
        raise ValidationError(_("请用登录密码确认注销"), code=AccountError.INVALID_METHOD)
    codes.send_sms_code(user.phone, CodePurpose.CLOSE_ACCOUNT, ip)


# Wrong passwords at the confirmation, per account: a stolen session or API token must not
# be able to guess its way to deleting the account (a code has its own attempt limit).
FAILED_CONFIRM_LIMIT = "5/15minute"


def _confirm(user: User, password: str | None, code: str | None) -> None:
    method = confirmation_method(user)
    if method == "password":
        too_many = _("密码错误次数过多，请 15 分钟后再试")
        if not ratelimit.test("delete-confirm-fail", FAILED_CONFIRM_LIMIT, str(user.id)):
            raise RateLimited(too_many)
        if not check_password_hash(user.password_hash, password or ""):
            ratelimit.hit("delete-confirm-fail", FAILED_CONFIRM_LIMIT, str(user.id), too_many)
            message = _("密码不正确")
            raise ValidationError(message, code=AccountError.WRONG_PASSWORD, fields={"password": message})
    elif method == "sms":
        codes.consume_sms_code(user.phone, CodePurpose.CLOSE_ACCOUNT, code or "")
    else:
        message = _("请先设置密码或绑定手机号，用于确认是你本人在操作")
        raise ValidationError(message, code=AccountError.CANNOT_CONFIRM)


def delete_account(user: User, password: str | None = None, code: str | None = None) -> None:
    """Confirm, check nothing is under way, then anonymise `user` (see the module's guarantees)."""
    if user.is_deleted:
        raise Conflict(_("账号已注销"), code=AccountError.ALREADY_DELETED)
    _confirm(user, password, code)
    found = blockers(user)
    if found:
        raise Conflict(_("暂时不能注销账号：%(reasons)s", reasons="；".join(b.message for b in found)),
                       code=AccountError.CANNOT_DELETE)

    removed = [name for name, value in (("phone", user.phone), ("email", user.email),
                                        ("password", user.password_hash), ("nickname", user.nickname),
                                        ("avatar", user.avatar_key)) if value]
    targets = [t for t in (user.phone, user.email) if t]
    avatar_key = user.avatar_key

    cart.empty(user.id)
    notifications.delete_inbox(user.id)
    analytics_events.forget_user(user.id)
    distributors.retire_for_deleted_account(user.id)
    shops.leave_all_as_staff(user)
    for model, column in ((Identity, Identity.user_id), (Address, Address.user_id),
                          (SignInEvent, SignInEvent.user_id)):
        db.session.execute(sa.delete(model).where(column == user.id).execution_options(synchronize_session=False))
    if targets:
        db.session.execute(sa.delete(VerificationCode).where(VerificationCode.target.in_(targets))
                           .execution_options(synchronize_session=False))

    bump_session_version(user)  # every browser session ends
    db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id)
                       .execution_options(synchronize_session=False))
    user.phone = user.email = user.email_verified_at = user.password_hash = user.avatar_key = None
    user.nickname = ""
    was = move(USER_LIFECYCLE, User, user.id, "delete", actor_id=user.id,
         values={"ban_reason": None, "banned_until": None, "deleted_at": utcnow()})
    audit.record(user, "account.delete", user, {"status": [was, UserStatus.DELETED.value]},
                 note="removed: " + ", ".join(removed + ["identities", "addresses", "tokens", "sign-in history"]))
    if avatar_key:
        storage.delete_stored(avatar_key)
