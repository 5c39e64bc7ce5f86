"""Account tables (DOMAIN.md, Accounts)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.states import AdminRole, UserStatus
from app.accounts.validation import format_phone
from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)  # E.164, +86...
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)  # lower-cased
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    nickname: Mapped[str] = mapped_column(sa.String(40), default="")
    avatar_key: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default=UserStatus.ACTIVE, index=True)
    ban_reason: Mapped[str | None] = mapped_column(sa.String(200))
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(default=1)
    admin_role: Mapped[str] = mapped_column(sa.String(16), default=AdminRole.NONE)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the user agreed to the user agreement and privacy policy, and which version (accounts.consent).
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terms_version: Mapped[str | None] = mapped_column(sa.String(20))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when the owner deleted the account
    # The user turned marketing off (活动与优惠消息): no segment message reaches them, from anyone.
    marketing_opt_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    identities: Mapped[list[Identity]] = relationship(back_populates="user", lazy="selectin")

    def get_id(self) -> str:
        # The session carries the version: bumping it signs the user out everywhere.
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.admin_role != AdminRole.NONE

    @property
    def is_banned(self) -> bool:
        """Banned now: a ban with an end date lapses by itself once that date passes."""
        if self.status != UserStatus.BANNED:
            return False
        return self.banned_until is None or self.banned_until > utcnow()

    @property
    def is_deleted(self) -> bool:
        return self.status == UserStatus.DELETED

    @property
    def shown_status(self) -> str:
        """The status as people see it: a lapsed ban is active again (see `is_banned`)."""
        if self.is_deleted:
            return UserStatus.DELETED
        return UserStatus.BANNED if self.is_banned else UserStatus.ACTIVE

    @property
    def display_name(self) -> str:
        if self.is_deleted:
            return gettext("已注销用户")
        if self.nickname:
            return self.nickname
        if self.phone:
            return format_phone(self.phone, masked=True)
        if self.email:
            return self.email.split("@")[0]
        return f"用户{self.id}"

    @property
    def local_phone(self) -> str | None:
        return self.phone[3:] if self.phone and self.phone.startswith("+86") else self.phone


class Identity(TimestampMixin, db.Model):
    """A third-party account (WeChat openid/unionid, Alipay user id) linked to a user."""

    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    subject: Mapped[str] = mapped_column(sa.String(128))
    display_name: Mapped[str | None] = mapped_column(sa.String(80))

    user: Mapped[User] = relationship(back_populates="identities")


class VerificationCode(TimestampMixin, db.Model):
    """A one-time code (SMS) or link secret (email). Only the hash is stored."""

    __tablename__ = "verification_codes"
    __table_args__ = (sa.Index("ix_verification_codes_lookup", "channel", "target", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(8))
    target: Mapped[str] = mapped_column(sa.String(254))
    purpose: Mapped[str] = mapped_column(sa.String(16))
    code_hash: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_ip: Mapped[str | None] = mapped_column(sa.String(45))


class ApiToken(TimestampMixin, db.Model):
    """An opaque bearer token for the mini-program API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_version: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInEvent(db.Model):
    """Sign-in history shown to the user and to admins."""

    __tablename__ = "sign_in_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(sa.String(20))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Address(TimestampMixin, db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    province_code: Mapped[str] = mapped_column(sa.String(6))
    province: Mapped[str] = mapped_column(sa.String(40))
    city_code: Mapped[str] = mapped_column(sa.String(6))
    city: Mapped[str] = mapped_column(sa.String(40))
    district_code: Mapped[str] = mapped_column(sa.String(6))
    district: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(200))
    is_default: Mapped[bool] = mapped_column(default=False)

    @property
    def region_text(self) -> str:
        return " ".join(dict.fromkeys([self.province, self.city, self.district]))
