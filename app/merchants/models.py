"""Merchant tables (DOMAIN.md, Merchants)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db
from app.merchants.states import PENALTY_OF_STATUS, ApplicationStatus, MemberRole, MerchantStatus, PenaltyKind

OPEN_STATUSES_SQL = "status IN ('draft', 'submitted', 'rejected')"


class MerchantApplication(TimestampMixin, db.Model):
    """商家入驻申请. One open (draft, submitted or rejected) application per user."""

    __tablename__ = "merchant_applications"
    __table_args__ = (
        sa.Index("uq_merchant_applications_one_open", "applicant_id", unique=True,
                 postgresql_where=sa.text(OPEN_STATUSES_SQL), sqlite_where=sa.text(OPEN_STATUSES_SQL)),
        sa.Index("ix_merchant_applications_queue", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=ApplicationStatus.DRAFT)
    shop_name: Mapped[str] = mapped_column(sa.String(40), default="")
    business_type: Mapped[str] = mapped_column(sa.String(16), default="")
    company_name: Mapped[str] = mapped_column(sa.String(100), default="")
    credit_code: Mapped[str] = mapped_column(sa.String(18), default="")
    legal_representative: Mapped[str] = mapped_column(sa.String(40), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(40), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    main_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    licence_key: Mapped[str | None] = mapped_column(sa.String(200))
    id_front_key: Mapped[str | None] = mapped_column(sa.String(200))
    id_back_key: Mapped[str | None] = mapped_column(sa.String(200))
    # When the three images were erased at the end of their keeping time (document_retention.py).
    documents_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # field name -> reason, from the latest rejection; shown next to the fields.
    rejection_reasons: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    rejection_note: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    merchant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("merchants.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", cascade="all, delete-orphan"
    )

    @property
    def in_review(self) -> bool:
        """Submitted and waiting for the platform's decision."""
        return self.status == ApplicationStatus.SUBMITTED

    @property
    def is_approved(self) -> bool:
        return self.status == ApplicationStatus.APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.status == ApplicationStatus.REJECTED

    def document_key(self, kind: str) -> str | None:
        return {"licence": self.licence_key, "id_front": self.id_front_key, "id_back": self.id_back_key}.get(kind)

    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None) -> ApplicationEvent:
        """The application's timeline entry for a move (`app.core.lifecycle.move`). A
        rejection's entry keeps the per-field reasons and the whole note the same UPDATE
        wrote on the application, so the history shows what each rejection asked for."""
        reasons: dict[str, str] = {}
        if to_state == ApplicationStatus.REJECTED:
            reasons, rejection_note = db.session.execute(
                sa.select(cls.rejection_reasons, cls.rejection_note).where(cls.id == row_id)).one()
            note = rejection_note or note
        return ApplicationEvent(application_id=row_id, actor_id=actor_id, from_status=from_state, to_status=to_state,
                                note=note, reasons=reasons or {})

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(ApplicationEvent.id))
                                 .where(ApplicationEvent.application_id == row_id)) or 0


class ApplicationEvent(db.Model):
    """One step of an application's timeline: who moved it from what to what, and why."""

    __tablename__ = "merchant_application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant_applications.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text)
    reasons: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[MerchantApplication] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def step(self) -> str:
        """What happened, in the words of `merchant_application_step` labels."""
        if self.from_status is None:
            return "created"
        if self.to_status == ApplicationStatus.SUBMITTED and self.from_status == ApplicationStatus.REJECTED:
            return "resubmitted"
        return self.to_status

    @property
    def by_reviewer(self) -> bool:
        """A decision of the platform's (the applicant sees 平台审核, not the reviewer's name)."""
        return self.to_status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)


class Merchant(TimestampMixin, db.Model):
    """A shop on the platform."""

    __tablename__ = "merchants"
    __table_args__ = (
        sa.CheckConstraint("shipping_flat_fen >= 0", name="shipping_flat_fen_non_negative"),
        sa.CheckConstraint("free_shipping_threshold_fen IS NULL OR free_shipping_threshold_fen > 0",
                           name="free_shipping_threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    logo_key: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    business_type: Mapped[str] = mapped_column(sa.String(16))
    company_name: Mapped[str] = mapped_column(sa.String(100))
    credit_code: Mapped[str] = mapped_column(sa.String(18))
    contact_name: Mapped[str] = mapped_column(sa.String(40))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    main_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    return_recipient: Mapped[str] = mapped_column(sa.String(40), default="")
    return_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    return_address: Mapped[str] = mapped_column(sa.String(200), default="")
    shipping_flat_fen: Mapped[int] = mapped_column(default=0)
    free_shipping_threshold_fen: Mapped[int | None] = mapped_column()
    stock_alert_channels: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["insite"])
    # The platform's fee on this shop's sales (basis points) when the platform set one for
    # it; NULL takes each product's category rate (app/catalog/categories.platform_fee_bp).
    platform_fee_bp: Mapped[int | None] = mapped_column()
    default_low_stock_threshold: Mapped[int] = mapped_column(default=5)
    # A refund-only request made before the order was shipped is approved at once.
    aftersale_auto_refund: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    status: Mapped[str] = mapped_column(sa.String(16), default=MerchantStatus.ACTIVE, index=True)
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    members: Mapped[list[MerchantMember]] = relationship(back_populates="merchant", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.status == MerchantStatus.ACTIVE

    @property
    def is_suspended(self) -> bool:
        return self.status == MerchantStatus.SUSPENDED

    @property
    def is_closed(self) -> bool:
        return self.status == MerchantStatus.CLOSED

    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None) -> MerchantPenalty:
        """A status move's entry in the shop's penalty history (`app.core.lifecycle.move`):
        the reason is the move's note; a suspension's entry ends when the shop's does."""
        ends_at = None
        if to_state == MerchantStatus.SUSPENDED:
            ends_at = db.session.scalar(sa.select(cls.suspended_until).where(cls.id == row_id))
        return MerchantPenalty(merchant_id=row_id, kind=PENALTY_OF_STATUS[MerchantStatus(to_state)], reason=note or "",
                               issued_by_id=actor_id, ends_at=ends_at)

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(MerchantPenalty.id))
                                 .where(MerchantPenalty.merchant_id == row_id)) or 0

    def shipping_fee_for(self, items_fen: int) -> int:
        """The shop's shipping rule: a flat fee, free from a threshold on."""
        if self.free_shipping_threshold_fen is not None and items_fen >= self.free_shipping_threshold_fen:
            return 0
        return self.shipping_flat_fen


class MerchantAddress(TimestampMixin, db.Model):
    """A return address of the shop (退货地址): after-sales approvals pick one."""

    __tablename__ = "merchant_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(sa.String(20), default="")  # e.g. 杭州仓
    recipient: Mapped[str] = mapped_column(sa.String(40))
    phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(200))
    is_default: Mapped[bool] = mapped_column(default=False)

    def snapshot(self) -> dict:
        """What an approved request keeps (the shop may edit or delete the address later)."""
        return {"recipient": self.recipient, "phone": self.phone, "address": self.address}


class MerchantMember(TimestampMixin, db.Model):
    __tablename__ = "merchant_members"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(8), default=MemberRole.STAFF)

    merchant: Mapped[Merchant] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class MerchantPenalty(TimestampMixin, db.Model):
    """Warnings, suspensions, closures and reopenings, newest last; the shop's history."""

    __tablename__ = "merchant_penalties"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(200))
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    issued_by: Mapped[User | None] = relationship()

    @property
    def is_suspension(self) -> bool:
        return self.kind == PenaltyKind.SUSPENSION


class MerchantApiKey(TimestampMixin, db.Model):
    """A key an ERP uses on /api/v1/merchant/...; only its SHA-256 is stored."""

    __tablename__ = "merchant_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown so owners can tell keys apart
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
