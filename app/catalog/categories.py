"""The category tree (admin). Up to three levels; products attach to leaves.

Guarantees: names are unique among siblings; a category with products cannot
gain children (it would stop being a leaf); deactivating a category hides its
whole subtree from the storefront (visibility checks every ancestor), and
reactivating brings back what was not deactivated on its own.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.accounts import policies
from app.catalog.errors import CatalogError
from app.catalog.models import Category, Product
from app.catalog.states import MAX_CATEGORY_DEPTH
from app.core import audit, page_cache
from app.core import settings as platform_settings
from app.core.bounds import to_int
from app.core.db import once_per_transaction
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.extensions import db

ICON_NAME = re.compile(r"^[a-z0-9-]{1,40}$")
# A category's own after-sales window (days after receipt), as the platform setting allows.
AFTERSALE_WINDOW_MIN, AFTERSALE_WINDOW_MAX = 0, 60
# A platform fee rate (a category's, a shop's own) in basis points, as the `platform_fee_bp`
# setting allows: 0–30%.
PLATFORM_FEE_MIN_BP, PLATFORM_FEE_MAX_BP = 0, 3000
# A percentage as people type it: "5", "0.6", "12.5", "12.50%"; ASCII digits only (a
# full-width or other script's digit is refused, not read), at most two decimals.
PERCENT = re.compile(r"(\d{1,4})(?:\.(\d{1,2}))?%?", re.ASCII)


def _require(actor) -> None:
    if not policies.can(actor, "catalog.manage"):
        raise Forbidden(_("你没有管理类目的权限"), code=CatalogError.FORBIDDEN)


def percent_to_bp(raw) -> int | None:
    """A fee rate typed as a percentage -> basis points ("5" -> 500, "0.6" -> 60,
    "12.5" -> 1250), or None when it is not one within PLATFORM_FEE_MIN_BP..MAX_BP with
    at most two decimals. Never raises; blank is the caller's to read (it means inherit)."""
    match = PERCENT.fullmatch(str(raw if raw is not None else "").strip())
    if match is None:
        return None
    whole, decimals = match.groups()
    bp = int(whole) * 100 + int((decimals or "").ljust(2, "0"))
    return bp if PLATFORM_FEE_MIN_BP <= bp <= PLATFORM_FEE_MAX_BP else None


def bp_to_percent(bp: int | None) -> str:
    """500 -> "5", 60 -> "0.6", 1250 -> "12.5" (what `percent_to_bp` reads back); None -> ""."""
    if bp is None:
        return ""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")


def get(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("类目不存在"), code=CatalogError.CATEGORY_NOT_FOUND)
    return category


TREE = "all_categories"
# What the tree's readers need of each category, read as plain rows: a copy kept for the
# transaction cannot go stale the way ORM objects do after `expire_all`.
TREE_COLUMNS = (Category.id, Category.parent_id, Category.name, Category.depth, Category.sort, Category.icon,
                Category.active, Category.aftersale_window_days, Category.platform_fee_bp)


def all_categories() -> list[sa.Row]:
    """Every category (the TREE_COLUMNS, read-only rows) in display order, read once per
    database transaction: a checkout asks twice, for what the storefront shows and for
    the platform's fee. A flush that adds, changes or deletes a category drops the copy."""
    return once_per_transaction(
        TREE, lambda: db.session.execute(sa.select(*TREE_COLUMNS)
                                         .order_by(Category.depth, Category.sort, Category.id)).all())


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _forget_tree(session, _flush_context) -> None:
    if TREE in session.info and any(isinstance(o, Category)
                                    for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(TREE, None)


def tree(active_only: bool = False) -> list[dict]:
    """[{"id", "name", "icon", "active", "aftersale_window_days", "platform_fee_bp",
    "children": [...]}] in display order (one query)."""
    nodes: dict[int | None, list[dict]] = {}
    for c in all_categories():
        nodes.setdefault(c.parent_id, []).append(
            {"id": c.id, "name": c.name, "icon": c.icon, "active": c.active, "depth": c.depth, "sort": c.sort,
             "aftersale_window_days": c.aftersale_window_days, "platform_fee_bp": c.platform_fee_bp,
             "children": []})

    def attach(parent_id):
        out = []
        for node in nodes.get(parent_id, []):
            if active_only and not node["active"]:
                continue
            node["children"] = attach(node["id"])
            out.append(node)
        return out

    return attach(None)


def leaf_ids_under(category_id: int) -> list[int]:
    """The category itself when it is a leaf, else every leaf below it."""
    children: dict[int | None, list[int]] = {}
    for c in all_categories():
        children.setdefault(c.parent_id, []).append(c.id)
    out, stack = [], [category_id]
    while stack:
        node = stack.pop()
        kids = children.get(node, [])
        if kids:
            stack.extend(kids)
        else:
            out.append(node)
    return out


def _inherited(product_ids: list[int] | dict[int, int], attribute: str, default: int) -> dict[int, int]:
    """product id -> `attribute` of the nearest category up its tree that sets it, else
    `default`. Two queries whatever the number of products; one when `product_ids` maps
    each product to its category already (the caller has the products loaded)."""
    if isinstance(product_ids, dict):
        from_products = product_ids
    else:
        from_products = dict(db.session.execute(sa.select(Product.id, Product.category_id)
                                                .where(Product.id.in_(product_ids))).all())
    nodes = {c.id: c for c in all_categories()}
    result = {}
    for product_id, category_id in from_products.items():
        node, value = nodes.get(category_id), None
        while node is not None and value is None:
            value = getattr(node, attribute)
            node = nodes.get(node.parent_id)
        result[product_id] = default if value is None else value
    return result


def aftersale_window_days(product_ids: list[int]) -> dict[int, int]:
    """product id -> days after receipt its buyer may ask for after-sales: the nearest
    category up its tree that sets a window, else the platform's setting."""
    return _inherited(product_ids, "aftersale_window_days", platform_settings.get("aftersale_window_days"))


def platform_fee_bp(product_ids: list[int] | dict[int, int], shop_rate_bp: int | None = None) -> dict[int, int]:
    """product id -> the platform's fee on its sales in basis points: the shop's own rate
    when the platform set one (`shop_rate_bp`), else the nearest category up the tree
    that sets one, else the `platform_fee_bp` setting. Checkout keeps it on each order
    item, so a later change never touches an order already placed. `product_ids` may be
    {product id: category id} when the products are loaded already."""
    if shop_rate_bp is not None:
        return {product_id: int(shop_rate_bp) for product_id in product_ids}
    return _inherited(product_ids, "platform_fee_bp", platform_settings.get("platform_fee_bp"))


def is_leaf(category_id: int) -> bool:
    return not db.session.scalar(sa.select(sa.func.count(Category.id)).where(Category.parent_id == category_id))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 20:
        message = _("类目名称为 1 到 20 个字")
        raise ValidationError(message, fields={"name": message})
    return name


def _clean_icon(icon: str | None) -> str:
    icon = (icon or "grid").strip()
    if not ICON_NAME.match(icon):
        message = _("图标名称无效")
        raise ValidationError(message, fields={"icon": message})
    return icon


def _flush_unique() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        message = _("同一级下已有同名类目")
        raise ValidationError(message, code=CatalogError.DUPLICATE_NAME, fields={"name": message}) from None


def create(actor, name: str, parent_id: int | None, icon: str | None = None) -> Category:
    _require(actor)
    name, icon = _clean_name(name), _clean_icon(icon)
    depth = 1
    if parent_id:
        parent = get(parent_id)
        if parent.depth >= MAX_CATEGORY_DEPTH:
            raise ValidationError(_("类目最多三级"), code=CatalogError.TOO_DEEP)
        if db.session.scalar(sa.select(sa.func.count(Product.id)).where(Product.category_id == parent.id)):
            raise Conflict(_("这个类目下已有商品，不能再添加子类目"), code=CatalogError.CATEGORY_HAS_PRODUCTS)
        depth = parent.depth + 1
    last = db.session.scalar(sa.select(sa.func.max(Category.sort)).where(Category.parent_id.is_(parent_id)
                                                                       if parent_id is None else
                                                                       Category.parent_id == parent_id))
    category = Category(name=name, parent_id=parent_id or None, depth=depth, icon=icon, sort=(last or 0) + 1)
    db.session.add(category)
    _flush_unique()
    audit.record(actor, "category.create", category, {"name": [None, name]})
    page_cache.everything_changed()  # the tree on every page; a product's visibility follows its categories
    return category


def update(actor, category_id: int, name: str, icon: str | None) -> Category:
    _require(actor)
    category = get(category_id)
    before = {"name": category.name, "icon": category.icon}
    category.name, category.icon = _clean_name(name), _clean_icon(icon)
    _flush_unique()
    changes = audit.diff(before, {"name": category.name, "icon": category.icon})
    if changes:
        audit.record(actor, "category.update", category, changes)
        page_cache.everything_changed()
    return category


def set_aftersale_window(actor, category_id: int, raw) -> Category:
    """Give the category (and the categories below it that set none) its own after-sales
    window: whole days AFTERSALE_WINDOW_MIN..MAX; blank (or None) inherits the parent's,
    else the platform's. Audited when it changes."""
    _require(actor)
    category = get(category_id)
    text = "" if raw is None else str(raw).strip()
    days = to_int(text, AFTERSALE_WINDOW_MIN, AFTERSALE_WINDOW_MAX) if text else None
    if text and days is None:
        message = _("售后期请填 %(low)d 到 %(high)d 之间的整数天，留空则沿用上级设置",
                    low=AFTERSALE_WINDOW_MIN, high=AFTERSALE_WINDOW_MAX)
        raise ValidationError(message, code=CatalogError.INVALID_AFTERSALE_WINDOW,
                              fields={"aftersale_window_days": message})
    if category.aftersale_window_days != days:
        audit.record(actor, "category.aftersale_window", category,
                     {"aftersale_window_days": [category.aftersale_window_days, days]})
        category.aftersale_window_days = days
        db.session.flush()
    return category


def set_platform_fee(actor, category_id: int, raw) -> Category:
    """Give the category (and the categories below it that set none) its own platform fee:
    `raw` is a percentage as typed ("5", "0.6", "12.5"), 0–30 with at most two decimals,
    kept in basis points; blank (or None) inherits the parent's, else the platform's
    `platform_fee_bp`. Fees are money: finance (`fees.edit`) sets them, not the operators
    who edit the tree. Orders already placed keep the rate checkout wrote on their items.
    Audited when it changes."""
    if not policies.can(actor, "fees.edit"):
        raise Forbidden(_("只有财务管理员可以设置平台服务费率"), code=CatalogError.FORBIDDEN)
    category = get(category_id)
    text = "" if raw is None else str(raw).strip()
    bp = percent_to_bp(text) if text else None
    if text and bp is None:
        message = _("服务费率请填 %(low)s 到 %(high)s 之间的百分比（如 5 或 0.6），最多两位小数，留空则沿用上级设置",
                    low=bp_to_percent(PLATFORM_FEE_MIN_BP), high=bp_to_percent(PLATFORM_FEE_MAX_BP))
        raise ValidationError(message, code=CatalogError.INVALID_PLATFORM_FEE, fields={"platform_fee": message})
    if category.platform_fee_bp != bp:
        audit.record(actor, "category.platform_fee", category, {"platform_fee_bp": [category.platform_fee_bp, bp]})
        category.platform_fee_bp = bp
        db.session.flush()
    return category


def set_active(actor, category_id: int, active: bool) -> Category:
    _require(actor)
    category = get(category_id)
    if category.active != bool(active):
        audit.record(actor, "category.activate" if active else "category.deactivate", category,
                     {"active": [category.active, bool(active)]})
        category.active = bool(active)
        db.session.flush()
        page_cache.everything_changed()
    return category


def move(actor, category_id: int, direction: str) -> Category:
    """Swap places with the previous ("up") or next ("down") sibling."""
    _require(actor)
    category = get(category_id)
    siblings = list(db.session.scalars(
        sa.select(Category).where(Category.parent_id.is_(None) if category.parent_id is None
                                  else Category.parent_id == category.parent_id)
        .order_by(Category.sort, Category.id)))
    index = siblings.index(category)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
        for position, node in enumerate(siblings, start=1):
            node.sort = position
        db.session.flush()
        page_cache.everything_changed()
    return category


def visible_category_ids() -> set[int]:
    """Categories whose whole ancestry is active (the storefront shows only these)."""
    by_id = {c.id: c for c in all_categories()}
    visible = set()
    for c in by_id.values():
        node, ok = c, True
        while node is not None:
            if not node.active:
                ok = False
                break
            node = by_id.get(node.parent_id) if node.parent_id else None
        if ok:
            visible.add(c.id)
    return visible
