"""How people appear in a report file: never a whole phone number or name. A file
leaves the platform (it is mailed around, opened on shared computers), so a buyer or a
distributor is shown as the consoles show someone else: 张** and 138****0001."""
from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.states import UserStatus
from app.accounts.validation import format_phone


def masked_name(name: str | None) -> str:
    """The first character and two stars (张三丰 -> 张**); nothing for no name."""
    name = (name or "").strip()
    return name[0] + "**" if name else ""


def masked_phone(phone: str | None) -> str:
    """138****0001; nothing for no number."""
    return format_phone(phone, masked=True) if phone else ""


def person(nickname: str | None, phone: str | None, status: str | None = None) -> tuple[str, str]:
    """(name, phone) cells of an account, masked; a deleted account is 已注销用户 with no number."""
    if status == UserStatus.DELETED:
        return _("已注销用户"), ""
    return masked_name(nickname), masked_phone(phone)
