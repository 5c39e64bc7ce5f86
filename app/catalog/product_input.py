"""What a product save takes, typed: prices in fen, commission rates in basis points,
counts as ints, times as datetimes. Surfaces convert their own formats first (the web
form's yuan and percent strings in `product_form`, the API's fen as they come) and
`check` validates the whole input the same way for both.

Guarantees of `check`:
- every problem is named at once, keyed by field (`title`, `specs`,
  `sku.<combination>.price`, `commission_l1`...), in one ValidationError whose code is
  `invalid_commission` when only commission rates are wrong, else `invalid_product`;
- the SKU rows cover the spec matrix (the cartesian product of the spec values) exactly:
  each combination needs a positive price and a stock of 0 or more; duplicate
  dimensions or values are refused.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from app.catalog import categories
from app.catalog.errors import CatalogError
from app.catalog.models import Category
from app.catalog.sanitise import clean_description
from app.catalog.states import MAX_SKUS, MAX_SPEC_DIMENSIONS, MAX_SPEC_VALUES
from app.core.bounds import MAX_INT
from app.core.clock import SHANGHAI
from app.core.errors import ValidationError
from app.core.money import MAX_FEN
from app.distribution.commissions import check_overrides
from app.extensions import db

# Rich text as typed (markup included): room for a long page of details, not for a
# megabyte that every product page would then carry.
DESCRIPTION_MAX_CHARS = 20_000
LEVELS = (1, 2, 3)


@dataclass
class SkuInput:
    """One row of the SKU matrix, for the combination `spec_values`."""

    spec_values: dict[str, str] = field(default_factory=dict)
    price_fen: int | None = None
    promotion_price_fen: int | None = None
    stock: int | None = 0  # the initial stock of a new SKU; an existing SKU's stock when it changes
    low_stock_threshold: int | None = None  # None: the shop's default
    code: str = ""
    # The stock the editor saw: a different stock now refuses the save (409 stock_changed).
    expected_stock: int | None = None


@dataclass
class CommissionInput:
    """The merchant's commission override: 参与分销 and a rate per level (None: the platform's)."""

    enabled: bool = True
    level_bp: dict[int, int | None] = field(default_factory=lambda: dict.fromkeys(LEVELS))


@dataclass
class ProductInput:
    title: str = ""
    category_id: int | None = None
    skus: list[SkuInput] = field(default_factory=list)
    subtitle: str = ""
    description: str = ""  # rich text, sanitised on the way in
    tags: list[str] = field(default_factory=list)
    specs: list[dict] = field(default_factory=list)  # [{"name": "颜色", "values": ["红", "蓝"]}]
    on_promotion: bool = False
    promotion_starts_at: datetime | None = None  # naive times are Asia/Shanghai
    promotion_ends_at: datetime | None = None
    commission: CommissionInput | None = None  # None: the override stays as it is


# --- specs and the SKU matrix -----------------------------------------------------------

def spec_key(values: dict[str, str], specs: list[dict]) -> str:
    return "|".join(f"{d['name']}:{values[d['name']]}" for d in specs)


def _spec_error(message: str, code: CatalogError = CatalogError.INVALID_SPECS) -> ValidationError:
    return ValidationError(message, code=code, fields={"specs": message})


def clean_specs(raw: list[dict] | None) -> list[dict]:
    """[{"name", "values": [...]}] with blanks dropped; duplicates refused."""
    specs: list[dict] = []
    names: set[str] = set()
    for dimension in raw or []:
        name = str(dimension.get("name") or "").strip()
        values = [str(v).strip() for v in dimension.get("values") or [] if str(v).strip()]
        if not name and not values:
            continue
        if not name or not values:
            raise _spec_error(_("每个规格都要有名称和至少一个值"))
        if name in names:
            raise _spec_error(_("规格名称「%(n)s」重复", n=name), CatalogError.DUPLICATE_SPEC)
        if len(set(values)) != len(values):
            raise _spec_error(_("规格「%(n)s」有重复的值", n=name), CatalogError.DUPLICATE_SPEC_VALUE)
        if len(name) > 10 or any(len(v) > 20 or "|" in v or ":" in v for v in values) or len(values) > MAX_SPEC_VALUES:
            raise _spec_error(_("规格名称最多 10 个字，每个值最多 20 个字"))
        names.add(name)
        specs.append({"name": name, "values": values})
    if len(specs) > MAX_SPEC_DIMENSIONS:
        raise _spec_error(_("最多 %(n)d 个规格维度", n=MAX_SPEC_DIMENSIONS))
    return specs


def matrix(specs: list[dict]) -> list[dict[str, str]]:
    """Every combination of spec values, in the merchant's order (one empty combination without specs)."""
    if not specs:
        return [{}]
    combos = itertools.product(*[[(d["name"], v) for v in d["values"]] for d in specs])
    return [dict(combo) for combo in combos]


# --- checking typed values ----------------------------------------------------------------

def _count(value: int | None, key: str, errors: dict, *, minimum: int = 0, optional: bool = False) -> int | None:
    if value is None:
        if not optional:
            errors[key] = _("请输入整数")
        return None
    if value < minimum:
        errors[key] = _("不能小于 %(n)d", n=minimum)
        return None
    if value > MAX_INT:
        errors[key] = _("不能大于 %(n)d", n=MAX_INT)
        return None
    return value


def _price(fen: int | None, key: str, errors: dict, *, required: bool = True) -> int | None:
    if fen is None:
        if required:
            errors[key] = _("请填写价格")
        return None
    if fen <= 0:
        errors[key] = _("价格必须大于 0")
        return None
    if fen > MAX_FEN:
        errors[key] = _("请输入正确的金额（最多两位小数）")
        return None
    return fen


def _clean_skus(specs: list[dict], rows: list[SkuInput], on_promotion: bool, errors: dict) -> list[dict]:
    """Match the rows to the matrix; every combination needs its numbers."""
    combos = matrix(specs)
    if len(combos) > MAX_SKUS:
        errors["specs"] = _("规格组合最多 %(n)d 个", n=MAX_SKUS)
        return []
    by_key: dict[str, SkuInput] = {}
    for row in rows:
        try:
            key = spec_key(row.spec_values or {}, specs)
        except KeyError:
            continue  # a row for a combination that no longer exists
        if key in by_key:
            errors[f"sku.{key}"] = _("规格组合重复")
        by_key[key] = row
    cleaned = []
    for combo in combos:
        key = spec_key(combo, specs)
        row = by_key.get(key)
        if row is None:
            errors[f"sku.{key}.price"] = _("请填写这个规格的价格和库存")
            continue
        price = _price(row.price_fen, f"sku.{key}.price", errors)
        promo = _price(row.promotion_price_fen, f"sku.{key}.promotion_price", errors, required=on_promotion)
        if price and promo and promo >= price:
            errors[f"sku.{key}.promotion_price"] = _("促销价必须低于原价")
        stock = _count(row.stock, f"sku.{key}.stock", errors)
        threshold = _count(row.low_stock_threshold, f"sku.{key}.low_stock_threshold", errors, optional=True)
        cleaned.append({"spec_values": combo, "spec_key": key, "price_fen": price,
                        "promotion_price_fen": promo if on_promotion else None,
                        "stock": stock, "low_stock_threshold": threshold, "code": (row.code or "").strip()[:40],
                        "expected_stock": row.expected_stock})
    return cleaned


def _local(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _category(category_id: int | None, errors: dict) -> int | None:
    if not category_id or db.session.get(Category, category_id) is None:
        errors["category_id"] = _("请选择商品类目")
    elif not categories.is_leaf(category_id):
        errors["category_id"] = _("请选择最末一级类目")
    elif category_id not in categories.visible_category_ids():
        errors["category_id"] = _("这个类目已停用")
    return category_id


def check_commission(commission: CommissionInput | None) -> dict | None:
    """The override's columns, within the platform's caps
    (`app.distribution.commissions.check_overrides`); None leaves them as they are."""
    if commission is None:
        return None
    levels = {n: commission.level_bp.get(n) for n in LEVELS}
    errors = check_overrides(levels)
    if errors:
        raise ValidationError(next(iter(errors.values())), code=CatalogError.INVALID_COMMISSION, fields=errors)
    return {"distribution_enabled": bool(commission.enabled), **{f"commission_l{n}_bp": levels[n] for n in LEVELS}}


def check(product: ProductInput, extra_errors: dict | None = None) -> dict:
    """Validate a whole product; returns the column values (and cleaned SKU rows).
    `extra_errors` are problems the caller found converting its input (a price that is
    not an amount): they win over what the typed value then looks like here."""
    errors: dict[str, str] = {}
    title = (product.title or "").strip()
    if not 2 <= len(title) <= 60:
        errors["title"] = _("商品标题为 2 到 60 个字")
    subtitle = (product.subtitle or "").strip()
    if len(subtitle) > 120:
        errors["subtitle"] = _("最多 %(n)d 个字", n=120)
    category_id = _category(product.category_id, errors)
    description = product.description or ""
    if len(description) > DESCRIPTION_MAX_CHARS:
        errors["description"] = _("商品详情最多 %(n)d 个字符（含排版标记）", n=DESCRIPTION_MAX_CHARS)
    tags = list(dict.fromkeys(t.strip() for t in product.tags or [] if t and t.strip()))
    if len(tags) > 10 or any(len(t) > 12 for t in tags):
        errors["tags"] = _("最多 10 个标签，每个最多 12 个字")
    try:
        specs = clean_specs(product.specs)
    except ValidationError as exc:
        errors.update(exc.fields)
        specs = []
    on_promotion = bool(product.on_promotion)
    starts, ends = _local(product.promotion_starts_at), _local(product.promotion_ends_at)
    if on_promotion and (starts is None or ends is None or ends <= starts):
        errors["promotion_ends_at"] = _("请填写有效的促销时间：结束要晚于开始")
    skus = _clean_skus(specs, product.skus, on_promotion, errors)
    try:
        distribution = check_commission(product.commission)
    except ValidationError as exc:
        errors.update(exc.fields)
        distribution = None
    errors.update(extra_errors or {})
    if errors:
        only_rates = all(key.startswith("commission_l") for key in errors)
        raise ValidationError(next(iter(errors.values())),
                              code=CatalogError.INVALID_COMMISSION if only_rates else CatalogError.INVALID_PRODUCT,
                              fields=errors)
    return {
        "title": title, "subtitle": subtitle, "category_id": category_id,
        "description_html": clean_description(description),
        "tags": tags, "specs": specs, "on_promotion": on_promotion,
        "promotion_starts_at": starts if on_promotion else None,
        "promotion_ends_at": ends if on_promotion else None, "skus": skus, "distribution": distribution,
    }
