"""Catalog tables (DOMAIN.md, Catalog and inventory)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.states import ProductStatus
from app.core.clock import utcnow
from app.core.db import TimestampMixin, UTCDateTime
from app.extensions import db


class Category(TimestampMixin, db.Model):
    """A node of the category tree (up to three levels). Products attach to leaves."""

    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(20))
    depth: Mapped[int] = mapped_column(default=1)  # 1, 2 or 3
    sort: Mapped[int] = mapped_column(default=0)
    icon: Mapped[str] = mapped_column(sa.String(40), default="grid")  # a Bootstrap Icons name
    active: Mapped[bool] = mapped_column(default=True)
    # Days after receipt its products may be taken to after-sales; NULL: the parent's,
    # else the platform's `aftersale_window_days`.
    aftersale_window_days: Mapped[int | None] = mapped_column()
    # The platform's fee on sales here (basis points); NULL inherits the parent's, then the
    # platform's `platform_fee_bp` setting.
    platform_fee_bp: Mapped[int | None] = mapped_column()

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.Index("ix_products_listing", "status", "category_id"),
        sa.Index("ix_products_merchant_status", "merchant_id", "status"),
        # The storefront's sorts stop after a page instead of sorting every visible product:
        # 热销 (sales DESC, id DESC) reads this one backwards; 新品 (listed_at DESC NULLS
        # LAST) has ix_products_by_listed, made by migration 0026 alone because SQLite
        # cannot say NULLS LAST in an index (its DESC puts NULLs last anyway).
        sa.Index("ix_products_by_sales", "sales", "id"),
        # When the next promotion starts or ends (the page cache's timeouts): a min() read off an index.
        sa.Index("ix_products_promotion_starts", "promotion_starts_at", postgresql_where=sa.text("on_promotion"),
                 sqlite_where=sa.text("on_promotion")),
        sa.Index("ix_products_promotion_ends", "promotion_ends_at", postgresql_where=sa.text("on_promotion"),
                 sqlite_where=sa.text("on_promotion")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(sa.String(60))
    subtitle: Mapped[str] = mapped_column(sa.String(120), default="")
    description_html: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised on the way in
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # [{"name": "颜色", "values": ["红", "蓝"]}, ...] in the merchant's order
    specs: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=ProductStatus.DRAFT)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(200))
    delist_reason: Mapped[str | None] = mapped_column(sa.String(200))  # set by a violation delist
    changed_since_review: Mapped[bool] = mapped_column(default=True)
    on_promotion: Mapped[bool] = mapped_column(default=False)
    promotion_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promotion_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept from the active SKUs by the product service, for listing and sorting.
    price_fen: Mapped[int] = mapped_column(default=0)
    promotion_price_fen: Mapped[int | None] = mapped_column()
    sales: Mapped[int] = mapped_column(default=0)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")  # title, subtitle and tags; trigram-indexed
    # Distribution: the merchant may leave a product out, or set its own rate per level
    # (NULL: the platform's rate), always within the platform's caps.
    distribution_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    commission_l1_bp: Mapped[int | None] = mapped_column()
    commission_l2_bp: Mapped[int | None] = mapped_column()
    commission_l3_bp: Mapped[int | None] = mapped_column()
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )
    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")
    merchant = relationship("Merchant", lazy="joined", viewonly=True)

    def promotion_live(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return bool(self.on_promotion and self.promotion_starts_at and self.promotion_ends_at
                    and self.promotion_starts_at <= now < self.promotion_ends_at)

    @property
    def main_image(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    # The lifecycle's timeline is the product's own event table (app.core.lifecycle.move).
    @classmethod
    def timeline_row(cls, row_id: int, from_state: str | None, to_state: str, actor_id: int | None,
                     note: str | None) -> ProductEvent:
        return ProductEvent(product_id=row_id, actor_id=actor_id, from_status=from_state, to_status=to_state,
                            note=note)

    @classmethod
    def timeline_count(cls, row_id: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(ProductEvent.id)).where(ProductEvent.product_id == row_id))


class ProductImage(db.Model):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    thumb_key: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)  # 0 is the main image
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="images")


class Sku(db.Model):
    """One combination of spec values, with its own price and stock."""

    __tablename__ = "skus"
    __table_args__ = (
        sa.CheckConstraint("stock >= 0", name="stock_non_negative"),
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("promotion_price_fen IS NULL OR promotion_price_fen > 0", name="promotion_price_positive"),
        sa.UniqueConstraint("product_id", "spec_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    spec_values: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)  # {"颜色": "红", "尺码": "M"}
    spec_key: Mapped[str] = mapped_column(sa.String(200))  # "颜色:红|尺码:M", one per combination
    price_fen: Mapped[int]
    promotion_price_fen: Mapped[int | None] = mapped_column()
    stock: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=5)
    low_stock_alerted: Mapped[bool] = mapped_column(default=False)  # re-armed when stock climbs back
    sales: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(sa.String(40), default="")
    active: Mapped[bool] = mapped_column(default=True)  # false once dropped from the matrix (orders keep it)

    product: Mapped[Product] = relationship(back_populates="skus")

    @property
    def spec_text(self) -> str:
        return " / ".join(self.spec_values.values()) if self.spec_values else ""


class ProductEvent(db.Model):
    """The product's timeline: status changes with who and why."""

    __tablename__ = "product_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
