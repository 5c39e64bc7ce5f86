"""`/api/v1/merchant/products` and `/api/v1/merchant/skus`: products, SKUs and stock for ERP sync.

Every endpoint is scoped to the API key's merchant (`g.api_merchant`): another
shop's product or SKU id answers 404 exactly like an id that does not exist.

The product service acts for a *user* who is a member of the shop
(`shops.require_member`); an API key acts for the merchant, so these endpoints act
as the shop's owner. Product events and stock movements record the owner as actor;
stock movements written here carry the reason `api_sync`.

Money is integer fen on the wire (`price_fen`, `promotion_price_fen`) and commission
rates basis points, exactly what the product service takes (`ProductInput`): they go
to it as they come, and it validates them as it does the console's form.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import UnprocessableEntity

from app.accounts.models import User
from app.catalog import product_review, product_sale, products
from app.catalog.models import Product, Sku
from app.catalog.product_access import get_for_merchant, get_sku_for_merchant
from app.catalog.product_input import CommissionInput, ProductInput, SkuInput, clean_specs, spec_key
from app.catalog.products import DISTRIBUTION_FIELDS
from app.catalog.states import ProductStatus
from app.core.bounds import MAX_INT
from app.core.db import transaction
from app.core.errors import NotFound, ValidationError
from app.extensions import db
from app.inventory import services as stock_service
from app.inventory.states import MovementReason
from app.merchants.models import MerchantMember
from app.merchants.states import MemberRole
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.schemas import PageSchema, StrictSchema, id_field, int_field, page_field, per_page_field

# Product fields a request may set (the rest of ProductInput is built from them).
INPUT_FIELDS = ("title", "subtitle", "category_id", "description", "tags", "specs", "on_promotion",
                "promotion_starts_at", "promotion_ends_at")

blp = Blueprint("merchant_products", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): products, SKUs and stock, with the X-Api-Key header")


blp.record_once(document_api_key)
blp.errorhandler(UnprocessableEntity)(invalid_body)


# --- schemas ------------------------------------------------------------------------

def _fen(**kwargs):
    return int_field(1, strict=True, **kwargs)


class SpecSchema(StrictSchema):
    name = fields.Str(required=True, metadata={"description": "e.g. 颜色 (at most 10 characters)"})
    values = fields.List(fields.Str(), required=True, metadata={"description": "e.g. [\"红\", \"蓝\"]"})


class SkuOutSchema(Schema):
    id = fields.Int()
    product_id = fields.Int()
    spec_values = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={"description": "{\"颜色\": \"红\"}"})
    price_fen = fields.Int()
    promotion_price_fen = fields.Int(allow_none=True)
    stock = fields.Int()
    code = fields.Str()
    low_stock_threshold = fields.Int()
    sales = fields.Int()
    active = fields.Bool(metadata={"description": "false once dropped from the spec matrix (kept for orders)"})


class ImageOutSchema(Schema):
    id = fields.Int()
    position = fields.Int(metadata={"description": "0 is the main image"})
    width = fields.Int()
    height = fields.Int()


class ProductOutSchema(Schema):
    id = fields.Int()
    status = fields.Str(metadata={"description": "draft | pending_review | on_sale | rejected | off_sale"})
    reject_reason = fields.Str(allow_none=True)
    delist_reason = fields.Str(allow_none=True)
    title = fields.Str()
    subtitle = fields.Str()
    category_id = fields.Int()
    description = fields.Str(metadata={"description": "sanitised HTML"})
    tags = fields.List(fields.Str())
    specs = fields.List(fields.Nested(SpecSchema))
    on_promotion = fields.Bool()
    promotion_starts_at = fields.DateTime(allow_none=True)
    promotion_ends_at = fields.DateTime(allow_none=True)
    price_fen = fields.Int(metadata={"description": "lowest price of the active SKUs"})
    promotion_price_fen = fields.Int(allow_none=True)
    sales = fields.Int()
    images = fields.List(fields.Nested(ImageOutSchema))
    skus = fields.List(fields.Nested(SkuOutSchema), metadata={"description": "active SKUs"})
    distribution_enabled = fields.Bool(metadata={"description": "参与分销: whether sales of it pay commission"})
    commission_l1_bp = fields.Int(allow_none=True, metadata={"description": "own level-1 rate (bp); null: the platform's"})
    commission_l2_bp = fields.Int(allow_none=True)
    commission_l3_bp = fields.Int(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductPageSchema(PageSchema):
    items = fields.List(fields.Nested(ProductOutSchema))


class ProductQuerySchema(StrictSchema):
    status = fields.Str(validate=validate.OneOf([s.value for s in ProductStatus]))
    page = page_field()
    per_page = per_page_field()


class SkuRowSchema(StrictSchema):
    spec_values = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict,
                              metadata={"description": "the combination, {\"颜色\": \"红\", \"尺码\": \"M\"}; {} without specs"})
    price_fen = _fen(metadata={"description": "required for a new combination"})
    promotion_price_fen = _fen(allow_none=True, metadata={"description": "required when on_promotion"})
    stock = int_field(strict=True, metadata={
        "description": "initial stock of a new combination (default 0); ignored for existing SKUs, "
                       "whose stock changes only through PATCH /merchant/skus/{id}/stock"})
    code = fields.Str(validate=validate.Length(max=40))
    low_stock_threshold = int_field(strict=True)


class ProductInSchema(StrictSchema):
    title = fields.Str(required=True)
    subtitle = fields.Str()
    category_id = id_field(strict=True, required=True, metadata={"description": "a leaf category"})
    description = fields.Str(metadata={"description": "limited rich text, sanitised"})
    tags = fields.List(fields.Str())
    specs = fields.List(fields.Nested(SpecSchema))
    skus = fields.List(fields.Nested(SkuRowSchema), required=True)
    on_promotion = fields.Bool()
    promotion_starts_at = fields.DateTime(allow_none=True, metadata={"description": "naive times are Asia/Shanghai"})
    promotion_ends_at = fields.DateTime(allow_none=True)
    distribution_enabled = fields.Bool(metadata={"description": "参与分销 (default true)"})
    commission_l1_bp = fields.Int(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000), metadata={
        "description": "own commission rate of level 1 in basis points (1000 = 10%); null: the platform's rate. "
                       "The levels' sum must stay within the platform's cap (422 invalid_commission)"})
    commission_l2_bp = fields.Int(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000))
    commission_l3_bp = fields.Int(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000))


class ProductPatchSchema(ProductInSchema):
    class Meta(StrictSchema.Meta):
        partial = True


class SkuPatchSchema(StrictSchema):
    price_fen = _fen()
    promotion_price_fen = _fen(allow_none=True)
    code = fields.Str(validate=validate.Length(max=40))
    low_stock_threshold = int_field(strict=True)


class StockInSchema(StrictSchema):
    set = int_field(strict=True, metadata={"description": "the new stock"})
    adjust = int_field(-MAX_INT, strict=True, metadata={"description": "units to add (positive) or remove (negative)"})
    reason = fields.Str(validate=validate.Length(min=1, max=200),
                        metadata={"description": "required with adjust; stored as the movement's note"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        if ("set" in data) == ("adjust" in data):
            raise MarshmallowError(_("请只填写 set 或 adjust 其中之一"), field_name="set")
        if "adjust" in data:
            if data["adjust"] == 0:
                raise MarshmallowError(_("调整数量不能为 0"), field_name="adjust")
            if not (data.get("reason") or "").strip():
                raise MarshmallowError(_("调整库存请填写原因"), field_name="reason")


class StockOutSchema(Schema):
    sku_id = fields.Int()
    stock = fields.Int()


# --- helpers ------------------------------------------------------------------------

def _acting_owner(merchant_id: int) -> User:
    """The key acts for the merchant; the product service needs a member, so the owner acts."""
    user = db.session.scalar(
        sa.select(User).join(MerchantMember, MerchantMember.user_id == User.id)
        .where(MerchantMember.merchant_id == merchant_id, MerchantMember.role == MemberRole.OWNER)
        .order_by(MerchantMember.id).limit(1))
    if user is None:
        raise NotFound(_("店铺不存在"), code="merchant_not_found")
    return user


def _sku_payload(sku: Sku) -> dict:
    return {"id": sku.id, "product_id": sku.product_id, "spec_values": dict(sku.spec_values or {}),
            "price_fen": sku.price_fen, "promotion_price_fen": sku.promotion_price_fen, "stock": sku.stock,
            "code": sku.code or "", "low_stock_threshold": sku.low_stock_threshold, "sales": sku.sales,
            "active": sku.active}


def _product_payload(product: Product) -> dict:
    return {
        "id": product.id, "status": product.status, "reject_reason": product.reject_reason,
        "delist_reason": product.delist_reason, "title": product.title, "subtitle": product.subtitle or "",
        "category_id": product.category_id, "description": product.description_html or "",
        "tags": list(product.tags or []), "specs": list(product.specs or []), "on_promotion": product.on_promotion,
        "promotion_starts_at": product.promotion_starts_at, "promotion_ends_at": product.promotion_ends_at,
        "price_fen": product.price_fen, "promotion_price_fen": product.promotion_price_fen, "sales": product.sales,
        "images": [{"id": i.id, "position": i.position, "width": i.width, "height": i.height} for i in product.images],
        "skus": [_sku_payload(s) for s in product.skus if s.active],
        "distribution_enabled": product.distribution_enabled, "commission_l1_bp": product.commission_l1_bp,
        "commission_l2_bp": product.commission_l2_bp, "commission_l3_bp": product.commission_l3_bp,
        "created_at": product.created_at, "updated_at": product.updated_at,
    }


def _sku_input(row: dict, existing: Sku | None) -> SkuInput:
    """An API SKU row; fields left out keep the existing SKU's values."""
    def pick(key, current):
        return row.get(key, current)

    sku = SkuInput(spec_values=row.get("spec_values") or {},
                   price_fen=pick("price_fen", existing.price_fen if existing else None),
                   promotion_price_fen=pick("promotion_price_fen", existing.promotion_price_fen if existing else None),
                   code=pick("code", existing.code if existing else ""),
                   low_stock_threshold=pick("low_stock_threshold", existing.low_stock_threshold if existing else None),
                   stock=row.get("stock", 0))
    if existing is not None:
        # Stock of an existing SKU is not changed by a product edit (the stock endpoint
        # does that); were it ever to differ, `expected_stock` makes the service refuse
        # (409 stock_changed) rather than overwrite a sale made meanwhile.
        sku.stock = sku.expected_stock = existing.stock
    return sku


def _commission(data: dict, current: Product | None) -> CommissionInput | None:
    """The override is given to the service whole; fields left out keep their values."""
    if not any(key in data for key in DISTRIBUTION_FIELDS):
        return None

    def bp(level: int):
        key = f"commission_l{level}_bp"
        return data[key] if key in data else getattr(current, key, None)

    enabled = data.get("distribution_enabled", current.distribution_enabled if current is not None else True)
    return CommissionInput(enabled=enabled, level_bp={n: bp(n) for n in (1, 2, 3)})


def _input(data: dict, current: Product | None = None) -> ProductInput:
    """The whole product the service validates: the current product merged with `data`."""
    existing: dict[str, Sku] = {}
    fields_now: dict = {}
    if current is not None:
        existing = {s.spec_key: s for s in current.skus if s.active}
        fields_now = {"title": current.title, "subtitle": current.subtitle, "category_id": current.category_id,
                      "description": current.description_html, "tags": list(current.tags or []),
                      "specs": list(current.specs or []), "on_promotion": current.on_promotion,
                      "promotion_starts_at": current.promotion_starts_at,
                      "promotion_ends_at": current.promotion_ends_at}
    merged = {**fields_now, **{k: v for k, v in data.items() if k in INPUT_FIELDS}}
    specs = clean_specs(merged.get("specs")) if "specs" in data else merged.get("specs") or []
    rows = data["skus"] if "skus" in data else [{"spec_values": dict(s.spec_values or {})} for s in existing.values()]
    skus = []
    for row in rows:
        try:
            key = spec_key(row.get("spec_values") or {}, specs)
        except KeyError:
            key = None
        skus.append(_sku_input(row, existing.get(key) if key else None))
    return ProductInput(skus=skus, commission=_commission(data, current),
                        **{k: v for k, v in merged.items() if v is not None or k.startswith("promotion_")})


def _api_fields(exc: ValidationError) -> ValidationError:
    """Name the service's price fields as the API does (`sku.<combination>.price_fen`)."""
    renamed = {}
    for key, message in (exc.fields or {}).items():
        if key.startswith("sku.") and key.endswith((".price", ".promotion_price")):
            key += "_fen"
        renamed[key] = message
    exc.fields = renamed
    return exc


def _save(merchant_id: int, product: ProductInput, product_id: int | None = None) -> Product:
    try:
        return products.save(_acting_owner(merchant_id), merchant_id, product, product_id=product_id)
    except ValidationError as exc:
        raise _api_fields(exc) from None


def _load_product(merchant_id: int, product_id: int) -> Product:
    product = get_for_merchant(merchant_id, product_id)
    db.session.refresh(product)
    return product


# --- products ---------------------------------------------------------------------

@blp.get("/products")
@api_key_operation(blp, 422)
@blp.arguments(ProductQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ProductPageSchema)
def list_products(status: str | None = None, page: int = 1, per_page: int = 20):
    """The key's products, newest first; `status` filters by one status."""
    merchant_id = api_merchant().id
    where = [Product.merchant_id == merchant_id]
    if status:
        where.append(Product.status == status)
    total = db.session.scalar(sa.select(sa.func.count(Product.id)).where(*where))
    items = db.session.scalars(
        sa.select(Product).where(*where).options(selectinload(Product.skus), selectinload(Product.images))
        .order_by(Product.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [_product_payload(p) for p in items], "page": page, "per_page": per_page, "total": total}


@blp.get("/products/<int:product_id>")
@api_key_operation(blp, 404)
@blp.response(200, ProductOutSchema)
def get_product(product_id: int):
    return _product_payload(get_for_merchant(api_merchant().id, product_id))


@blp.post("/products")
@api_key_operation(blp, 409, 422)
@blp.arguments(ProductInSchema)
@blp.response(201, ProductOutSchema)
def create_product(data):
    """Create a draft with its SKU matrix: one row in `skus` per combination of the spec values.
    Images are added in the merchant console; submitting needs at least one."""
    merchant_id = api_merchant().id
    with transaction():
        product = _save(merchant_id, _input(data))
        product_id = product.id
    return _product_payload(_load_product(merchant_id, product_id))


@blp.patch("/products/<int:product_id>")
@api_key_operation(blp, 404, 409, 422)
@blp.arguments(ProductPatchSchema(partial=True))
@blp.response(200, ProductOutSchema)
def update_product(data, product_id: int):
    """Change some fields; the rest keep their current values. Given `skus` replace the matrix
    rows (missing fields of an existing combination keep their values; combinations left out
    are deactivated). Content edits of an on-sale product send it back to review."""
    merchant_id = api_merchant().id
    with transaction():
        current = get_for_merchant(merchant_id, product_id)
        _save(merchant_id, _input(data, current), product_id=product_id)
    return _product_payload(_load_product(merchant_id, product_id))


def _status_change(action, product_id: int) -> dict:
    merchant_id = api_merchant().id
    with transaction():
        get_for_merchant(merchant_id, product_id)  # 404 before anything else
        action(_acting_owner(merchant_id), merchant_id, product_id)
    return _product_payload(_load_product(merchant_id, product_id))


@blp.post("/products/<int:product_id>/submit")
@api_key_operation(blp, 404, 409, 422)
@blp.response(200, ProductOutSchema)
def submit_product(product_id: int):
    """A draft or rejected product goes to review (or straight on sale when review is off)."""
    return _status_change(product_review.submit, product_id)


@blp.post("/products/<int:product_id>/delist")
@api_key_operation(blp, 404, 409)
@blp.response(200, ProductOutSchema)
def delist_product(product_id: int):
    """下架: an on-sale product leaves the storefront."""
    return _status_change(product_sale.delist, product_id)


@blp.post("/products/<int:product_id>/relist")
@api_key_operation(blp, 404, 409, 422)
@blp.response(200, ProductOutSchema)
def relist_product(product_id: int):
    """上架 again: to review when changed or review is required, else on sale."""
    return _status_change(product_sale.relist, product_id)


# --- SKUs and stock ---------------------------------------------------------------

@blp.get("/skus/<int:sku_id>")
@api_key_operation(blp, 404)
@blp.response(200, SkuOutSchema)
def get_sku(sku_id: int):
    return _sku_payload(get_sku_for_merchant(api_merchant().id, sku_id))


@blp.patch("/skus/<int:sku_id>")
@api_key_operation(blp, 404, 409, 422)
@blp.arguments(SkuPatchSchema)
@blp.response(200, SkuOutSchema)
def update_sku(data, sku_id: int):
    """Price, promotion price, code and low-stock threshold of one SKU, validated with the
    whole product (e.g. the promotion price stays below the price)."""
    merchant_id = api_merchant().id
    with transaction():
        sku = get_sku_for_merchant(merchant_id, sku_id)
        if not sku.active:
            raise NotFound(_("规格不存在"), code="sku_not_found")
        product = sku.product
        rows = [{"spec_values": dict(s.spec_values or {}), **(data if s.id == sku.id else {})}
                for s in product.skus if s.active]
        _save(merchant_id, _input({"skus": rows}, product), product_id=product.id)
    return _sku_payload(get_sku_for_merchant(merchant_id, sku_id))


@blp.patch("/skus/<int:sku_id>/stock")
@api_key_operation(blp, 404, 409, 422)
@blp.arguments(StockInSchema)
@blp.response(200, StockOutSchema)
def update_stock(data, sku_id: int):
    """`{"set": n}` sets the stock (a stocktake); `{"adjust": +/-n, "reason": "..."}` adds or removes
    units. Stock never goes below 0 (409 out_of_stock). Each change is a movement with reason api_sync."""
    merchant_id = api_merchant().id
    with transaction():
        sku = get_sku_for_merchant(merchant_id, sku_id)
        actor_id = _acting_owner(merchant_id).id
        if "set" in data:
            stock = stock_service.set_stock(sku.id, data["set"], actor_id, data.get("reason") or _("接口同步"),
                                            reason=MovementReason.API_SYNC)
        else:
            stock = stock_service.adjust(sku.id, data["adjust"], actor_id, data["reason"],
                                         reason=MovementReason.API_SYNC)
    return {"sku_id": sku_id, "stock": stock}
