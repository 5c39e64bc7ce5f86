"""Products from the merchant's side, and the platform's review.

Guarantees:
- Only members of the product's shop read or change it (another shop's id is NotFound).
- The SKU matrix is the cartesian product of the spec dimensions; every combination
  needs a positive price and a stock of 0 or more; duplicate dimensions or values
  are refused. A SKU dropped from the matrix is deactivated, never deleted (orders
  keep pointing at it). Stock of existing SKUs changes only through the stock service.
- Status changes are guarded UPDATEs with an event row each; an admin approving a
  product the merchant withdrew meanwhile gets StaleState, nothing changes.
- Editing what shoppers read (title, texts, images, category, specs) of a listed
  product sends it back to review when review is required; price, stock and
  promotion edits do not.
- A suspended or closed shop cannot create products or put them on sale.
"""
from __future__ import annotations

import itertools
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.accounts import policies as account_policies
from app.catalog import categories, images
from app.catalog.models import Category, Product, ProductEvent, ProductImage, Sku
from app.catalog.sanitise import clean_description
from app.catalog.states import (
    MAX_IMAGES,
    MAX_SKUS,
    MAX_SPEC_DIMENSIONS,
    MAX_SPEC_VALUES,
    PRODUCT_TRANSITIONS,
    ProductStatus,
)
from app.core import audit, storage
from app.core import settings as platform_settings
from app.core.bounds import MAX_INT, to_int
from app.core.clock import utcnow
from app.core.db import guarded_update
from app.core.errors import Conflict, Forbidden, NotFound, ValidationError
from app.core.money import InvalidAmount, yuan_to_fen
from app.distribution.commissions import check_overrides
from app.extensions import db
from app.inventory import services as stock_service
from app.merchants import shops
from app.merchants.models import Merchant, MerchantMember
from app.merchants.states import MemberRole
from app.notifications import services as notifications

# Rich text as typed (markup included): room for a long page of details, not for a
# megabyte that every product page would then carry.
DESCRIPTION_MAX_CHARS = 20_000
CONTENT_FIELDS = ("title", "subtitle", "description_html", "category_id", "tags", "specs")
# The merchant's commission override: not content (shoppers do not read it), so
# changing it never sends an on-sale product back to review.
DISTRIBUTION_FIELDS = ("distribution_enabled", "commission_l1_bp", "commission_l2_bp", "commission_l3_bp")


# --- loading --------------------------------------------------------------------

def get_for_merchant(merchant_id: int, product_id: int) -> Product:
    product = db.session.scalar(sa.select(Product).where(Product.id == product_id, Product.merchant_id == merchant_id))
    if product is None:
        raise NotFound(_("商品不存在"), code="product_not_found")
    return product


def get_sku_for_merchant(merchant_id: int, sku_id: int) -> Sku:
    sku = db.session.scalar(sa.select(Sku).join(Product).where(Sku.id == sku_id, Product.merchant_id == merchant_id))
    if sku is None:
        raise NotFound(_("规格不存在"), code="sku_not_found")
    return sku


def _require_open_shop(merchant_id: int) -> Merchant:
    merchant = shops.get_merchant(merchant_id)
    if not shops.is_open(merchant):
        raise Conflict(_("店铺暂停营业或已关闭，不能上架商品"), code="shop_not_open")
    return merchant


# --- specs and the SKU matrix -----------------------------------------------------------

def spec_key(values: dict[str, str], specs: list[dict]) -> str:
    return "|".join(f"{d['name']}:{values[d['name']]}" for d in specs)


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
            raise ValidationError(_("每个规格都要有名称和至少一个值"), code="invalid_specs", fields={"specs": _("每个规格都要有名称和至少一个值")})
        if name in names:
            raise ValidationError(_("规格名称「%(n)s」重复", n=name), code="duplicate_spec", fields={"specs": _("规格名称「%(n)s」重复", n=name)})
        if len(set(values)) != len(values):
            raise ValidationError(_("规格「%(n)s」有重复的值", n=name), code="duplicate_spec_value",
                                  fields={"specs": _("规格「%(n)s」有重复的值", n=name)})
        if len(name) > 10 or any(len(v) > 20 or "|" in v or ":" in v for v in values) or len(values) > MAX_SPEC_VALUES:
            raise ValidationError(_("规格名称最多 10 个字，每个值最多 20 个字"), code="invalid_specs",
                                  fields={"specs": _("规格名称最多 10 个字，每个值最多 20 个字")})
        names.add(name)
        specs.append({"name": name, "values": values})
    if len(specs) > MAX_SPEC_DIMENSIONS:
        raise ValidationError(_("最多 %(n)d 个规格维度", n=MAX_SPEC_DIMENSIONS), code="invalid_specs",
                              fields={"specs": _("最多 %(n)d 个规格维度", n=MAX_SPEC_DIMENSIONS)})
    return specs


def matrix(specs: list[dict]) -> list[dict[str, str]]:
    """Every combination of spec values, in the merchant's order (one empty combination without specs)."""
    if not specs:
        return [{}]
    combos = itertools.product(*[[(d["name"], v) for v in d["values"]] for d in specs])
    return [dict(combo) for combo in combos]


def _int_field(raw, field: str, errors: dict, minimum: int) -> int | None:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[field] = _("请输入整数")
        return None
    if value < minimum:
        errors[field] = _("不能小于 %(n)d", n=minimum)
        return None
    if value > MAX_INT:
        errors[field] = _("不能大于 %(n)d", n=MAX_INT)
        return None
    return value


def _price_field(raw, field: str, errors: dict, required: bool = True) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        if required:
            errors[field] = _("请填写价格")
        return None
    if text.startswith("-"):
        errors[field] = _("价格必须大于 0")
        return None
    try:
        fen = yuan_to_fen(text)
    except InvalidAmount:
        errors[field] = _("请输入正确的金额（最多两位小数）")
        return None
    if fen <= 0:
        errors[field] = _("价格必须大于 0")
        return None
    return fen


def _clean_skus(specs: list[dict], rows: list[dict], on_promotion: bool, errors: dict) -> list[dict]:
    """Match the submitted rows to the matrix; every combination needs its numbers."""
    combos = matrix(specs)
    if len(combos) > MAX_SKUS:
        errors["specs"] = _("规格组合最多 %(n)d 个", n=MAX_SKUS)
        return []
    by_key: dict[str, dict] = {}
    for row in rows or []:
        values = row.get("spec_values") or row.get("specs") or {}
        try:
            key = spec_key(values, specs)
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
        price = _price_field(row.get("price"), f"sku.{key}.price", errors)
        promo = _price_field(row.get("promotion_price"), f"sku.{key}.promotion_price", errors, required=on_promotion)
        if price and promo and promo >= price:
            errors[f"sku.{key}.promotion_price"] = _("促销价必须低于原价")
        stock = _int_field(row.get("stock", 0), f"sku.{key}.stock", errors, 0)
        raw_threshold = row.get("low_stock_threshold")  # blank: the shop's default (set when saving)
        threshold = None if raw_threshold in (None, "") else _int_field(
            raw_threshold, f"sku.{key}.low_stock_threshold", errors, 0)
        code = str(row.get("code") or "").strip()[:40]
        cleaned.append({"spec_values": combo, "spec_key": key, "price_fen": price,
                        "promotion_price_fen": promo if on_promotion else None,
                        "stock": stock, "low_stock_threshold": threshold, "code": code,
                        "expected_stock": row.get("expected_stock")})
    return cleaned


def _parse_time(raw) -> datetime | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        return raw
    from app.core.clock import SHANGHAI

    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def clean(data: dict, merchant_id: int) -> dict:
    """Validate a whole product form; raise ValidationError with every field's message."""
    errors: dict[str, str] = {}
    title = str(data.get("title") or "").strip()
    if not 2 <= len(title) <= 60:
        errors["title"] = _("商品标题为 2 到 60 个字")
    subtitle = str(data.get("subtitle") or "").strip()
    if len(subtitle) > 120:
        errors["subtitle"] = _("最多 %(n)d 个字", n=120)
    category_id = None
    try:
        category_id = to_int(data.get("category_id") or 0, 0)
        if category_id is None:
            raise ValueError("not a category id")
        category = db.session.get(Category, category_id)
        if category is None:
            errors["category_id"] = _("请选择商品类目")
        elif not categories.is_leaf(category_id):
            errors["category_id"] = _("请选择最末一级类目")
        elif category_id not in categories.visible_category_ids():
            errors["category_id"] = _("这个类目已停用")
    except (TypeError, ValueError):
        errors["category_id"] = _("请选择商品类目")
    description = str(data.get("description") or "")
    if len(description) > DESCRIPTION_MAX_CHARS:
        errors["description"] = _("商品详情最多 %(n)d 个字符（含排版标记）", n=DESCRIPTION_MAX_CHARS)
    raw_tags = data.get("tags") or []
    if isinstance(raw_tags, str):
        raw_tags = raw_tags.replace("，", ",").split(",")
    tags = list(dict.fromkeys(t.strip() for t in raw_tags if t and t.strip()))
    if len(tags) > 10 or any(len(t) > 12 for t in tags):
        errors["tags"] = _("最多 10 个标签，每个最多 12 个字")
    try:
        specs = clean_specs(data.get("specs"))
    except ValidationError as exc:
        errors.update(exc.fields)
        specs = []
    on_promotion = bool(data.get("on_promotion"))
    starts, ends = _parse_time(data.get("promotion_starts_at")), _parse_time(data.get("promotion_ends_at"))
    if on_promotion and (starts is None or ends is None or ends <= starts):
        errors["promotion_ends_at"] = _("请填写有效的促销时间：结束要晚于开始")
    skus = _clean_skus(specs, data.get("skus") or [], on_promotion, errors)
    try:
        distribution = clean_distribution(data)
    except ValidationError as exc:
        errors.update(exc.fields)
        distribution = None
    if errors:
        first = next(iter(errors.values()))
        only_rates = all(key.startswith("commission_l") for key in errors)
        raise ValidationError(first, code="invalid_commission" if only_rates else "invalid_product", fields=errors)
    return {
        "title": title, "subtitle": subtitle, "category_id": category_id,
        "description_html": clean_description(description),
        "tags": tags, "specs": specs, "on_promotion": on_promotion,
        "promotion_starts_at": starts if on_promotion else None,
        "promotion_ends_at": ends if on_promotion else None, "skus": skus, "distribution": distribution,
    }


def clean_distribution(data: dict) -> dict | None:
    """The commission override of a product form: 参与分销 yes/no and a rate per level in
    percent (blank: the platform's rate). None when the form does not carry these fields
    (an API edit that leaves them alone). Validated against the platform's caps by
    `app.distribution.commissions.check_overrides`."""
    keys = ("distribution_enabled", *(f"commission_l{n}_percent" for n in (1, 2, 3)))
    if not any(k in data for k in keys):
        return None
    raw = data.get("distribution_enabled")
    enabled = raw if isinstance(raw, bool) else str(raw or "").strip().lower() in {"1", "true", "on", "yes"}
    errors: dict[str, str] = {}
    levels: dict[int, int | None] = {}
    for n in (1, 2, 3):
        text = str(data.get(f"commission_l{n}_percent") or "").strip().rstrip("%").strip()
        if not text:
            levels[n] = None
            continue
        try:
            bp = yuan_to_fen(text)  # the same grammar: up to two decimals, not negative
        except InvalidAmount:
            errors[f"commission_l{n}"] = _("请输入 0 到 100 之间的百分比，最多两位小数")
            levels[n] = None
            continue
        levels[n] = bp
    if not errors:
        errors = check_overrides(levels)
    if errors:
        raise ValidationError(next(iter(errors.values())), code="invalid_commission", fields=errors)
    return {"distribution_enabled": enabled, **{f"commission_l{n}_bp": levels[n] for n in (1, 2, 3)}}


# --- saving -------------------------------------------------------------------------

def _event(product: Product, actor, from_status, to_status, note=None) -> None:
    db.session.add(ProductEvent(product_id=product.id, actor_id=getattr(actor, "id", None),
                                from_status=from_status, to_status=to_status, note=note))


def _refresh_listing_fields(product: Product) -> None:
    active = [s for s in product.skus if s.active]
    product.price_fen = min((s.price_fen for s in active), default=0)
    promos = [s.promotion_price_fen for s in active if s.promotion_price_fen]
    product.promotion_price_fen = min(promos) if product.on_promotion and promos else None
    product.search_text = " ".join([product.title, product.subtitle, *product.tags]).lower()


def _member(user, merchant_id: int) -> MerchantMember:
    return shops.require_member(user, merchant_id)


def save(user, merchant_id: int, data: dict, product_id: int | None = None,
         new_images: list[bytes] | None = None) -> Product:
    """Create a draft or update a product from a whole form (fields, specs, SKUs)."""
    _member(user, merchant_id)
    if product_id is None:
        _require_open_shop(merchant_id)
    values = clean(data, merchant_id)
    for content in new_images or []:
        storage.check_image(content)
    if product_id is None:
        product = Product(merchant_id=merchant_id, status=ProductStatus.DRAFT)
        db.session.add(product)
        before_content = None
    else:
        product = get_for_merchant(merchant_id, product_id)
        before_content = {f: getattr(product, f) for f in CONTENT_FIELDS}
    for field in ("title", "subtitle", "category_id", "description_html", "tags", "specs", "on_promotion",
                  "promotion_starts_at", "promotion_ends_at"):
        setattr(product, field, values[field])
    for field, value in (values["distribution"] or {}).items():
        setattr(product, field, value)
    db.session.flush()
    _save_skus(user, product, values["skus"], merchant_id)
    if new_images:
        add_images(user, merchant_id, product.id, new_images)
    db.session.refresh(product)
    _refresh_listing_fields(product)
    content_changed = before_content is None or before_content != {f: getattr(product, f) for f in CONTENT_FIELDS}
    if content_changed:
        product.changed_since_review = True
        if product.status == ProductStatus.ON_SALE and platform_settings.get("product_review_required"):
            guarded_update(Product, product.id, expected=ProductStatus.ON_SALE,
                           values={"status": ProductStatus.PENDING_REVIEW})
            _event(product, user, ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW, _("修改商品信息，重新审核"))
    if before_content is None:
        _event(product, user, None, ProductStatus.DRAFT)
    db.session.flush()
    return product


def _save_skus(user, product: Product, rows: list[dict], merchant_id: int) -> None:
    threshold_default = db.session.scalar(sa.select(Merchant.default_low_stock_threshold)
                                          .where(Merchant.id == merchant_id)) or 5
    existing = {s.spec_key: s for s in db.session.scalars(sa.select(Sku).where(Sku.product_id == product.id))}
    wanted = set()
    for row in rows:
        wanted.add(row["spec_key"])
        sku = existing.get(row["spec_key"])
        threshold = row["low_stock_threshold"] if row["low_stock_threshold"] is not None else threshold_default
        if sku is None:
            sku = Sku(product_id=product.id, spec_values=row["spec_values"], spec_key=row["spec_key"],
                      price_fen=row["price_fen"], promotion_price_fen=row["promotion_price_fen"],
                      stock=row["stock"], low_stock_threshold=threshold, code=row["code"])
            db.session.add(sku)
            db.session.flush()
            stock_service.initial_stock(sku.id, row["stock"], user.id)
            continue
        sku.active = True
        sku.price_fen, sku.promotion_price_fen = row["price_fen"], row["promotion_price_fen"]
        sku.low_stock_threshold, sku.code = threshold, row["code"]
        db.session.flush()
        if row["stock"] != sku.stock:
            expected = row.get("expected_stock")
            if expected not in (None, ""):
                # An unreadable expectation cannot match any stock: refused as changed, never overwritten.
                expected = to_int(expected, 0) if to_int(expected, 0) is not None else -1
            stock_service.set_stock(sku.id, row["stock"], user.id, _("编辑商品"),
                                    expected=None if expected in (None, "") else expected)
    for key, sku in existing.items():
        if key not in wanted:
            sku.active = False
    db.session.flush()


def add_images(user, merchant_id: int, product_id: int, contents: list[bytes]) -> list[ProductImage]:
    _member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    if len(product.images) + len(contents) > MAX_IMAGES:
        message = _("最多 %(n)d 张图片", n=MAX_IMAGES)
        raise ValidationError(message, code="too_many_images", fields={"images": message})
    for content in contents:
        storage.check_image(content)
    added = []
    position = len(product.images)
    for content in contents:
        original, thumb = images.store(content, product.id)
        image = ProductImage(product_id=product.id, key=original.key, thumb_key=thumb.key, position=position,
                             width=original.width, height=original.height)
        db.session.add(image)
        added.append(image)
        position += 1
    product.changed_since_review = True
    db.session.flush()
    return added


def reorder_images(user, merchant_id: int, product_id: int, image_ids: list[int]) -> None:
    """Set the order of the product's images; the first is the main image."""
    _member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    own = {img.id: img for img in product.images}
    if sorted(own) != sorted(to_int(i) or 0 for i in image_ids):
        raise ValidationError(_("图片列表不完整"), code="invalid_image_order")
    for position, image_id in enumerate(image_ids):
        own[int(image_id)].position = position
    product.changed_since_review = True
    db.session.flush()


def remove_image(user, merchant_id: int, product_id: int, image_id: int) -> None:
    _member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        raise NotFound(_("图片不存在"), code="image_not_found")
    keys = (image.key, image.thumb_key)
    product.images.remove(image)
    for position, img in enumerate(product.images):
        img.position = position
    product.changed_since_review = True
    db.session.flush()
    for key in keys:
        storage.delete_stored(key)


# --- status changes by the merchant ---------------------------------------------------

def _check_complete(product: Product) -> None:
    missing = {}
    if not product.images:
        missing["images"] = _("至少上传一张商品图片")
    if not any(s.active for s in product.skus):
        missing["skus"] = _("至少需要一个规格")
    if missing:
        raise ValidationError(next(iter(missing.values())), code="product_incomplete", fields=missing)


def submit(user, merchant_id: int, product_id: int) -> Product:
    """Send to review (or straight to sale when the platform does not require review)."""
    _member(user, merchant_id)
    _require_open_shop(merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    _check_complete(product)
    before = product.status
    if platform_settings.get("product_review_required"):
        guarded_update(Product, product.id, expected=(ProductStatus.DRAFT, ProductStatus.REJECTED),
                       values={"status": ProductStatus.PENDING_REVIEW, "reject_reason": None})
        _event(product, user, before, ProductStatus.PENDING_REVIEW)
    else:
        guarded_update(Product, product.id, expected=(ProductStatus.DRAFT, ProductStatus.REJECTED),
                       values={"status": ProductStatus.ON_SALE, "reject_reason": None, "listed_at": utcnow(),
                               "changed_since_review": False})
        _event(product, user, before, ProductStatus.ON_SALE)
    return db.session.get(Product, product.id)


def withdraw(user, merchant_id: int, product_id: int) -> Product:
    """Take a product back from review to keep editing it."""
    _member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    guarded_update(Product, product.id, expected=PRODUCT_TRANSITIONS[ProductStatus.DRAFT],
                   values={"status": ProductStatus.DRAFT})
    _event(product, user, ProductStatus.PENDING_REVIEW, ProductStatus.DRAFT, _("撤回审核"))
    return db.session.get(Product, product.id)


def delist(user, merchant_id: int, product_id: int) -> Product:
    """下架: off the storefront; orders, reviews, sales and history stay."""
    _member(user, merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    guarded_update(Product, product.id, expected=ProductStatus.ON_SALE, values={"status": ProductStatus.OFF_SALE})
    _event(product, user, ProductStatus.ON_SALE, ProductStatus.OFF_SALE)
    return db.session.get(Product, product.id)


def relist(user, merchant_id: int, product_id: int) -> Product:
    """上架 again: back to review when the product changed or review is required, else on sale."""
    _member(user, merchant_id)
    _require_open_shop(merchant_id)
    product = get_for_merchant(merchant_id, product_id)
    _check_complete(product)
    needs_review = product.changed_since_review or platform_settings.get("product_review_required")
    target = ProductStatus.PENDING_REVIEW if needs_review else ProductStatus.ON_SALE
    values = {"status": target}
    if target == ProductStatus.ON_SALE:
        values["listed_at"] = utcnow()
    guarded_update(Product, product.id, expected=ProductStatus.OFF_SALE, values=values)
    _event(product, user, ProductStatus.OFF_SALE, target)
    return db.session.get(Product, product.id)


# --- the platform's review ---------------------------------------------------------------

def _require_reviewer(actor) -> None:
    if not account_policies.can(actor, "products.review"):
        raise Forbidden(_("你没有审核商品的权限"), code="forbidden")


def get_for_review(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("商品不存在"), code="product_not_found")
    return product


def _notify_shop(product: Product, title: str, body: str) -> None:
    owner_ids = db.session.scalars(sa.select(MerchantMember.user_id).where(
        MerchantMember.merchant_id == product.merchant_id, MerchantMember.role == MemberRole.OWNER))
    for user_id in owner_ids:
        notifications.notify(user_id, title, body, link=f"/merchant/products/{product.id}", kind="product_review")


def approve(actor, product_id: int) -> Product:
    _require_reviewer(actor)
    product = get_for_review(product_id)
    guarded_update(Product, product.id, expected=ProductStatus.PENDING_REVIEW,
                   values={"status": ProductStatus.ON_SALE, "listed_at": utcnow(), "changed_since_review": False,
                           "reject_reason": None, "delist_reason": None})
    product = db.session.get(Product, product_id)
    _event(product, actor, ProductStatus.PENDING_REVIEW, ProductStatus.ON_SALE)
    audit.record(actor, "product.approve", product, {"status": ["pending_review", "on_sale"]})
    _notify_shop(product, _("商品已通过审核"), _("「%(t)s」已上架销售。", t=product.title))
    return product


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not 2 <= len(reason) <= 200:
        message = _("请填写原因（2 到 200 个字）")
        raise ValidationError(message, code="reason_required", fields={"reason": message})
    return reason


def reject(actor, product_id: int, reason: str) -> Product:
    _require_reviewer(actor)
    reason = _reason(reason)
    product = get_for_review(product_id)
    guarded_update(Product, product.id, expected=ProductStatus.PENDING_REVIEW,
                   values={"status": ProductStatus.REJECTED, "reject_reason": reason})
    product = db.session.get(Product, product_id)
    _event(product, actor, ProductStatus.PENDING_REVIEW, ProductStatus.REJECTED, reason)
    audit.record(actor, "product.reject", product, {"status": ["pending_review", "rejected"]}, reason)
    _notify_shop(product, _("商品未通过审核"), _("「%(t)s」：%(r)s", t=product.title, r=reason))
    return product


def violation_delist(actor, product_id: int, reason: str) -> Product:
    """The platform takes an on-sale product off sale for a violation."""
    _require_reviewer(actor)
    reason = _reason(reason)
    product = get_for_review(product_id)
    guarded_update(Product, product.id, expected=ProductStatus.ON_SALE,
                   values={"status": ProductStatus.OFF_SALE, "delist_reason": reason, "changed_since_review": True})
    product = db.session.get(Product, product_id)
    _event(product, actor, ProductStatus.ON_SALE, ProductStatus.OFF_SALE, reason)
    audit.record(actor, "product.violation_delist", product, {"status": ["on_sale", "off_sale"]}, reason)
    _notify_shop(product, _("商品被平台下架"), _("「%(t)s」：%(r)s", t=product.title, r=reason))
    return product


def close_shop_products(merchant_id: int) -> int:
    """When a shop is closed for good, every product goes off sale."""
    result = db.session.execute(sa.update(Product).where(
        Product.merchant_id == merchant_id, Product.status.in_((ProductStatus.ON_SALE, ProductStatus.PENDING_REVIEW)))
        .values(status=ProductStatus.OFF_SALE))
    return result.rowcount
