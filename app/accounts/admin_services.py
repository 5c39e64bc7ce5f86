"""What platform admins do to accounts. Every change is audited (who, when,
what changed); a ban signs the user out everywhere at once.

Permission checks live here too, so a job or CLI command calling these gets
the same answer as a page: operators manage shoppers, only a super admin
touches another admin or grants admin roles.
"""
from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import policies
from app.accounts.errors import AccountError
from app.accounts.models import Address, SignInEvent, User
from app.accounts.services import bump_session_version, find_by_email, find_by_phone
from app.accounts.states import USER_LIFECYCLE, AdminRole, UserStatus
from app.accounts.validation import check_nickname, normalise_email, normalise_phone
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.core.lifecycle import move, try_move
from app.core.pagination import Page, paginate
from app.extensions import db
from app.notifications import services as notifications

# `#123`, `id:123` (or `ID：123`): an explicit user id.
EXPLICIT_ID = re.compile(r"^(?:#|id\s*[:：]\s*)(\d+)$", re.IGNORECASE)
MAX_ID_DIGITS = 9  # larger numbers are never ids (and would overflow the column)
FILTER_STATUSES = (UserStatus.ACTIVE, UserStatus.BANNED)  # what the admin list filters by


def search_users(query: str | None, status: str | None, page, per_page=20) -> Page:
    """Search users, newest first. `#123` or `id:123` is an id; other digits are (part
    of) a phone number, so a phone's last four digits find its owner, and are taken
    as an id only when no phone contains them; anything else is nickname or email."""
    stmt = sa.select(User).order_by(User.id.desc())
    q = (query or "").strip()
    explicit = EXPLICIT_ID.match(q)
    digits = q.lstrip("+")
    if explicit:
        number = explicit.group(1)
        stmt = stmt.where(User.id == int(number)) if len(number) <= MAX_ID_DIGITS else stmt.where(sa.false())
    elif digits.isdigit():
        in_phone = User.phone.contains(digits, autoescape=True)
        if len(digits) <= MAX_ID_DIGITS:
            nobody_has_it = ~sa.select(User.id).where(in_phone).exists()
            stmt = stmt.where(sa.or_(in_phone, sa.and_(User.id == int(digits), nobody_has_it)))
        else:
            stmt = stmt.where(in_phone)
    elif q:
        stmt = stmt.where(sa.or_(User.nickname.icontains(q, autoescape=True), User.email.icontains(q.lower(), autoescape=True)))
    if status in FILTER_STATUSES:
        stmt = stmt.where(User.status == status)
    return paginate(stmt, page, per_page)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("用户不存在"))
    return user


def user_facts(user: User) -> dict:
    addresses = list(db.session.scalars(sa.select(Address).where(Address.user_id == user.id).order_by(Address.id)))
    sign_ins = list(db.session.scalars(
        sa.select(SignInEvent).where(SignInEvent.user_id == user.id).order_by(SignInEvent.id.desc()).limit(20)
    ))
    return {"addresses": addresses, "sign_ins": sign_ins, "identities": list(user.identities)}


def _require_edit(actor: User, target: User) -> None:
    if not policies.can_edit_user(actor, target):
        raise Forbidden(_("你没有权限修改这个账号"), code=AccountError.FORBIDDEN)


def _unused(target: User, raw: str, normalise, find, errors: dict[str, str], field: str, taken: str) -> str | None:
    """`raw` normalised; when it is malformed or another account's, the message goes under `field`
    in `errors` (the normalised value is still returned when only taken)."""
    try:
        value = normalise(raw)
    except ValidationError as exc:
        errors[field] = exc.message
        return None
    owner = find(value)
    if owner and owner.id != target.id:
        errors[field] = taken
    return value


def update_user(actor: User, target: User, nickname: str, phone: str | None, email: str | None) -> User:
    """Edit nickname, phone and email (each unique). Empty phone/email clears it,
    unless it is the user's last way to sign in."""
    _require_edit(actor, target)
    errors: dict[str, str] = {}
    new_phone = new_email = None
    try:
        nickname = check_nickname(nickname)
    except ValidationError as exc:
        errors["nickname"] = exc.message
    if phone:
        new_phone = _unused(target, phone, normalise_phone, find_by_phone, errors, "phone", _("该手机号已被其他账号使用"))
    if email:
        new_email = _unused(target, email, normalise_email, find_by_email, errors, "email", _("该邮箱已被其他账号使用"))
    if not errors and not (new_phone or new_email or target.identities):
        errors["phone"] = _("手机号和邮箱不能都为空，否则用户将无法登录")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    before = {"nickname": target.nickname, "phone": target.phone, "email": target.email}
    target.nickname = nickname
    target.phone = new_phone
    if new_email != target.email:
        target.email = new_email
        target.email_verified_at = utcnow() if new_email else None
    after = {"nickname": target.nickname, "phone": target.phone, "email": target.email}
    changes = audit.diff(before, after)
    if changes:
        db.session.flush()
        audit.record(actor, "user.update", target, changes)
    return target


def ban_user(actor: User, target: User, reason: str, until: datetime | None) -> User:
    """Ban now; every session and API token of the user dies at once."""
    if not policies.may_ban(actor, target):
        raise Forbidden(_("你没有权限封禁这个账号"), code=AccountError.FORBIDDEN)
    if target.id == actor.id:
        raise Conflict(_("不能封禁自己"), code=AccountError.CANNOT_BAN_SELF)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise ValidationError(_("请填写封禁原因（2 到 200 个字）"), fields={"reason": _("请填写封禁原因（2 到 200 个字）")})
    if until is not None and until <= utcnow():
        raise ValidationError(_("解封时间必须晚于现在"), fields={"until": _("解封时间必须晚于现在")})
    before = {"status": target.status, "ban_reason": target.ban_reason, "banned_until": _iso(target.banned_until)}
    move(USER_LIFECYCLE, User, target.id, "ban", actor_id=actor.id, note=reason,
         values={"ban_reason": reason, "banned_until": until})
    bump_session_version(target)
    audit.record(actor, "user.ban", target, audit.diff(before, {
        "status": UserStatus.BANNED.value, "ban_reason": reason, "banned_until": _iso(until),
    }))
    return target


def unban_user(actor: User, target: User) -> User:
    if not policies.may_ban(actor, target):
        raise Forbidden(_("你没有权限解封这个账号"), code=AccountError.FORBIDDEN)
    before = {"status": target.status, "ban_reason": target.ban_reason}
    if not try_move(USER_LIFECYCLE, User, target.id, "unban", actor_id=actor.id,
                    values={"ban_reason": None, "banned_until": None}):
        raise Conflict(_("这个账号没有被封禁"), code=AccountError.NOT_BANNED)
    audit.record(actor, "user.unban", target, audit.diff(before, {"status": UserStatus.ACTIVE.value, "ban_reason": None}))
    notifications.notify(target.id, _("你的账号已解封"), _("欢迎回来。"), kind="account")
    return target


def set_admin_role(actor: User, target: User, role: str) -> User:
    """Grant or remove an admin role: super admins only."""
    if not policies.can(actor, "admins.manage"):
        raise Forbidden(_("只有超级管理员可以设置管理员角色"), code=AccountError.FORBIDDEN)
    try:
        role = AdminRole(role)
    except ValueError:
        raise ValidationError(_("角色无效"), fields={"role": _("角色无效")}) from None
    if target.id == actor.id and role != AdminRole.SUPER:
        raise Conflict(_("不能取消自己的超级管理员角色"), code=AccountError.CANNOT_DEMOTE_SELF)
    if target.admin_role == role:
        return target
    audit.record(actor, "user.role", target, {"admin_role": [target.admin_role, role.value]})
    target.admin_role = role
    db.session.flush()
    bump_session_version(target)  # permissions changed: sign in again
    return target


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
