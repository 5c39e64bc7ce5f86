"""The shopping cart.

Guarantees:
- A cart line is one SKU per user (adding again adds to its quantity).
- Only SKUs a shopper could buy right now can be added, and never more than
  their stock; lines that later go off sale, sell out or exceed stock stay in
  the cart with a warning and are left out of checkout.
- Every function takes the acting user's id and touches only that user's lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.analytics.models import Event
from app.catalog.models import Product, Sku
from app.core.bounds import bounded_int, to_int
from app.core.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import lines as order_lines
from app.orders.errors import OrderError
from app.orders.lines import Line
from app.orders.models import CartItem
from app.orders.states import MAX_CART_LINES, MAX_LINE_QUANTITY


@dataclass
class ShopGroup:
    merchant: Merchant
    lines: list[Line] = field(default_factory=list)

    @property
    def selected_lines(self) -> list[Line]:
        return [line for line in self.lines if line.selected and line.buyable]

    @property
    def items_fen(self) -> int:
        return sum(line.subtotal_fen for line in self.selected_lines)

    @property
    def all_selected(self) -> bool:
        buyable = [line for line in self.lines if line.buyable]
        return bool(buyable) and all(line.selected for line in buyable)


@dataclass
class CartView:
    groups: list[ShopGroup]

    @property
    def lines(self) -> list[Line]:
        return [line for group in self.groups for line in group.lines]

    @property
    def selected_count(self) -> int:
        return sum(line.quantity for group in self.groups for line in group.selected_lines)

    @property
    def items_fen(self) -> int:
        return sum(group.items_fen for group in self.groups)

    @property
    def all_selected(self) -> bool:
        buyable = [line for line in self.lines if line.buyable]
        return bool(buyable) and all(line.selected for line in buyable)

    @property
    def problems(self) -> list[Line]:
        return [line for line in self.lines if not line.buyable]


def _sellable(sku_id: int, quantity: int) -> Line:
    skus = order_lines.load_skus([sku_id])
    if sku_id not in skus:
        raise NotFound(_("商品规格不存在"), code=OrderError.SKU_NOT_FOUND)
    line = order_lines.build_line(skus[sku_id], quantity)
    if line.problem in (order_lines.OFF_SALE, order_lines.SHOP_CLOSED):
        raise Conflict(line.problem_text, code=OrderError.PRODUCT_UNAVAILABLE)
    if line.problem in (order_lines.SOLD_OUT, order_lines.ABOVE_STOCK):
        raise Conflict(line.problem_text, code=OrderError.INSUFFICIENT_STOCK,
                       fields={"quantity": line.problem_text})
    return line


def add(user_id: int, sku_id, quantity) -> CartItem:
    """Put `quantity` of a SKU in the cart (or add to the line already there)."""
    quantity = order_lines.clean_quantity(quantity)
    try:
        sku_id = bounded_int(sku_id)
    except (TypeError, ValueError):
        raise ValidationError(_("请选择规格"), code=OrderError.INVALID_SKU, fields={"sku_id": _("请选择规格")}) from None
    item = db.session.scalar(sa.select(CartItem).where(CartItem.user_id == user_id, CartItem.sku_id == sku_id))
    total = quantity + (item.quantity if item else 0)
    if total > MAX_LINE_QUANTITY:
        raise ValidationError(_("单件商品最多购买 %(n)d 件", n=MAX_LINE_QUANTITY), code=OrderError.INVALID_QUANTITY,
                              fields={"quantity": _("单件商品最多购买 %(n)d 件", n=MAX_LINE_QUANTITY)})
    line = _sellable(sku_id, total)
    db.session.add(Event(type="add_to_cart", user_id=user_id, product_id=line.product.id,
                         merchant_id=line.merchant.id, props={"sku_id": sku_id, "quantity": quantity}))
    if item is not None:
        item.quantity = total
        item.selected = True
        db.session.flush()
        return item
    if count_lines(user_id) >= MAX_CART_LINES:
        raise Conflict(_("购物车已满（最多 %(n)d 种商品），请先结算或删除部分商品", n=MAX_CART_LINES), code=OrderError.CART_FULL)
    item = CartItem(user_id=user_id, sku_id=sku_id, quantity=quantity, selected=True)
    try:
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        # A second tab added the same SKU a moment ago: add to that line instead.
        item = db.session.scalar(sa.select(CartItem).where(CartItem.user_id == user_id, CartItem.sku_id == sku_id))
        item.quantity = min(item.quantity + quantity, MAX_LINE_QUANTITY)
        db.session.flush()
    return item


def _own(user_id: int, item_id) -> CartItem:
    item_id = to_int(item_id)
    item = (db.session.scalar(sa.select(CartItem).where(CartItem.id == item_id, CartItem.user_id == user_id))
            if item_id is not None else None)
    if item is None:
        raise NotFound(_("购物车中没有该商品"), code=OrderError.CART_ITEM_NOT_FOUND)
    return item


def set_quantity(user_id: int, item_id, quantity) -> CartItem:
    item = _own(user_id, item_id)
    quantity = order_lines.clean_quantity(quantity)
    skus = order_lines.load_skus([item.sku_id])
    line = order_lines.build_line(skus[item.sku_id], quantity)
    if line.problem == order_lines.ABOVE_STOCK:
        raise Conflict(line.problem_text, code=OrderError.INSUFFICIENT_STOCK, fields={"quantity": line.problem_text})
    item.quantity = quantity
    db.session.flush()
    return item


def set_selected(user_id: int, selected: bool, item_id=None, merchant_id: int | None = None) -> int:
    """Select or deselect one line, one shop's lines, or (neither given) the whole cart."""
    stmt = sa.update(CartItem).where(CartItem.user_id == user_id)
    if item_id is not None:
        stmt = stmt.where(CartItem.id == _own(user_id, item_id).id)
    elif merchant_id is not None:
        shop_skus = sa.select(Sku.id).join(Product, Product.id == Sku.product_id).where(
            Product.merchant_id == merchant_id)
        stmt = stmt.where(CartItem.sku_id.in_(shop_skus))
    count = db.session.execute(stmt.values(selected=bool(selected))
                               .execution_options(synchronize_session=False)).rowcount
    db.session.expire_all()
    return count


def remove(user_id: int, item_ids) -> int:
    ids = [i for i in (to_int(raw, 1) for raw in item_ids) if i is not None]
    if not ids:
        return 0
    count = db.session.execute(sa.delete(CartItem).where(CartItem.user_id == user_id, CartItem.id.in_(ids))
                               .execution_options(synchronize_session=False)).rowcount
    db.session.expire_all()
    return count


def remove_skus(user_id: int, sku_ids) -> None:
    """Drop lines that were just ordered."""
    db.session.execute(sa.delete(CartItem).where(CartItem.user_id == user_id, CartItem.sku_id.in_(list(sku_ids)))
                       .execution_options(synchronize_session=False))


def empty(user_id: int) -> None:
    """Drop every line of the user's cart (their account is being deleted)."""
    db.session.execute(sa.delete(CartItem).where(CartItem.user_id == user_id)
                       .execution_options(synchronize_session=False))


def count_lines(user_id: int) -> int:
    """The tab bar badge: how many different items are in the cart."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(CartItem).where(CartItem.user_id == user_id))


def view(user_id: int) -> CartView:
    """The cart grouped by shop (shops in the order their first line was added),
    each line priced now and flagged when it cannot be bought as it stands."""
    items = db.session.scalars(sa.select(CartItem).where(CartItem.user_id == user_id)
                               .order_by(CartItem.created_at.desc(), CartItem.id.desc())).all()
    skus = order_lines.load_skus(item.sku_id for item in items)
    groups: dict[int, ShopGroup] = {}
    for item in items:
        line = order_lines.build_line(skus[item.sku_id], item.quantity)
        line.cart_item_id, line.selected = item.id, item.selected
        groups.setdefault(line.merchant.id, ShopGroup(line.merchant)).lines.append(line)
    return CartView(list(groups.values()))
