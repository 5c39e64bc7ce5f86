"""What a shopper may buy right now: a SKU with its product, shop, price and
any problem that stops it being bought. Shared by the cart and checkout so both
judge an item the same way."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.catalog import categories
from app.catalog.models import Product, Sku
from app.catalog.states import ProductStatus
from app.core.clock import utcnow
from app.core.errors import ValidationError
from app.extensions import db
from app.merchants.models import Merchant
from app.merchants.states import MerchantStatus
from app.orders.errors import OrderError
from app.orders.states import MAX_LINE_QUANTITY

# Problems, worst first; the cart shows them, checkout refuses them.
OFF_SALE = "off_sale"  # product delisted, SKU dropped, category hidden
SHOP_CLOSED = "shop_closed"
SOLD_OUT = "sold_out"
ABOVE_STOCK = "above_stock"


@dataclass
class Line:
    sku: Sku
    product: Product
    merchant: Merchant
    quantity: int
    unit_price_fen: int
    problem: str | None = None
    cart_item_id: int | None = None
    selected: bool = True

    @property
    def subtotal_fen(self) -> int:
        return self.unit_price_fen * self.quantity

    @property
    def problem_text(self) -> str:
        return {
            OFF_SALE: _("商品已下架"),
            SHOP_CLOSED: _("店铺暂停营业"),
            SOLD_OUT: _("已售罄"),
            ABOVE_STOCK: _("库存仅剩 %(n)d 件", n=self.sku.stock),
        }.get(self.problem or "", "")

    @property
    def buyable(self) -> bool:
        return self.problem is None


def unit_price(product: Product, sku: Sku, now: datetime | None = None) -> int:
    """The promotion price inside the product's promotion window, else the SKU's price."""
    if sku.promotion_price_fen and product.promotion_live(now):
        return sku.promotion_price_fen
    return sku.price_fen


def clean_quantity(raw) -> int:
    """An integer 1..999, or ValidationError with a message the buyer understands."""
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("请输入正确的数量"), code=OrderError.INVALID_QUANTITY,
                              fields={"quantity": _("请输入正确的数量")}) from None
    if quantity <= 0:
        raise ValidationError(_("数量必须大于 0"), code=OrderError.INVALID_QUANTITY, fields={"quantity": _("数量必须大于 0")})
    if quantity > MAX_LINE_QUANTITY:
        raise ValidationError(_("单件商品最多购买 %(n)d 件", n=MAX_LINE_QUANTITY), code=OrderError.INVALID_QUANTITY,
                              fields={"quantity": _("单件商品最多购买 %(n)d 件", n=MAX_LINE_QUANTITY)})
    return quantity


@dataclass(frozen=True)
class SkuInfo:
    """A SKU with what decides whether it can be bought: its shop and category."""

    sku: Sku
    merchant: Merchant
    category_hidden: bool


def load_skus(sku_ids: Iterable[int]) -> dict[int, SkuInfo]:
    """SKUs with product and shop (joined), then their images, in two queries whatever
    their number, and the category tree (read once per transaction)."""
    ids = sorted({int(i) for i in sku_ids})
    if not ids:
        return {}
    skus = db.session.scalars(
        sa.select(Sku).where(Sku.id.in_(ids))
        .options(joinedload(Sku.product).selectinload(Product.images))
    ).all()
    visible = categories.visible_category_ids()
    return {s.id: SkuInfo(s, s.product.merchant, s.product.category_id not in visible) for s in skus}


def build_line(info: SkuInfo, quantity: int, now: datetime | None = None) -> Line:
    sku, merchant = info.sku, info.merchant
    product = sku.product
    line = Line(sku=sku, product=product, merchant=merchant, quantity=quantity,
                unit_price_fen=unit_price(product, sku, now or utcnow()))
    if product.status != ProductStatus.ON_SALE or not sku.active or info.category_hidden:
        line.problem = OFF_SALE
    elif merchant.status != MerchantStatus.ACTIVE:
        line.problem = SHOP_CLOSED
    elif sku.stock <= 0:
        line.problem = SOLD_OUT
    elif quantity > sku.stock:
        line.problem = ABOVE_STOCK
    return line
