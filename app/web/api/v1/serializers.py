"""Turning accounts into API payloads."""
from __future__ import annotations

from flask import url_for

from app.accounts.models import User
from app.accounts.states import AdminRole


def user_roles(user: User) -> list[str]:
    roles = ["shopper"]
    if user.admin_role != AdminRole.NONE:
        roles.append(f"admin:{user.admin_role}")
    return roles


def user_payload(user: User) -> dict:
    avatar_url = None
    if user.avatar_key:
        avatar_url = url_for("shop.avatar", name=user.avatar_key.split("/", 1)[1], _external=True)
    return {
        "id": user.id,
        "nickname": user.display_name,
        "phone": user.local_phone,
        "email": user.email,
        "avatar_url": avatar_url,
        "roles": user_roles(user),
    }
