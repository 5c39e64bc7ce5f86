"""Creating the first admin from the command line (`flask create-admin`)."""
from __future__ import annotations

from app.accounts.models import User
from app.accounts.services import find_by_email, find_by_phone, hash_password
from app.accounts.states import AdminRole
from app.accounts.validation import check_password, normalise_email, normalise_phone
from app.extensions import db


def create_admin(*, phone: str | None, email: str | None, password: str, role: str = "super") -> User:
    """Create an admin, or promote the existing account with that phone/email
    (its password is then replaced)."""
    if not phone and not email:
        raise SystemExit("give --phone or --email")
    check_password(password)
    phone = normalise_phone(phone) if phone else None
    email = normalise_email(email) if email else None
    user = (find_by_phone(phone) if phone else None) or (find_by_email(email) if email else None)
    if user is None:
        user = User(phone=phone, email=email, nickname="管理员")
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.admin_role = AdminRole(role)
    db.session.flush()
    return user
