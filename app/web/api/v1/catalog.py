"""Shopper catalogue for the mini-program (stable contract): the category tree,
product search, a product with its SKUs, a shop and its products. Only visible
products are listed; an off-sale product answers 404 `product_unavailable`."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.catalog import categories as category_service
from app.catalog import queries
from app.catalog.errors import CatalogError
from app.catalog.models import Product
from app.catalog.queries import SORTS, ProductFilters
from app.core.errors import NotFound
from app.core.urls import external_url
from app.extensions import db
from app.merchants import shops
from app.merchants.models import Merchant
from app.web.api.v1.errors import error_responses
from app.web.api.v1.schemas import PageSchema, id_field, int_field, page_field, per_page_field
from app.web.api.v1.serializers import page_payload

blp = Blueprint("shopper_catalog", __name__, description="Shopper catalogue: categories, products, shops")


# --- schemas -------------------------------------------------------------------------

class ShopperCategoryNodeSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    icon = fields.Str(metadata={"description": "a Bootstrap Icons name"})
    depth = fields.Int()
    children = fields.List(fields.Nested(lambda: ShopperCategoryNodeSchema()))


class ShopperCategoryTreeSchema(Schema):
    items = fields.List(fields.Nested(ShopperCategoryNodeSchema))


class ShopperPageArgsSchema(Schema):
    page = page_field()
    per_page = per_page_field()


class ShopperProductArgsSchema(ShopperPageArgsSchema):
    q = fields.Str(load_default="", validate=validate.Length(max=50))
    category_id = id_field(load_default=None)
    min_price_fen = int_field(load_default=None)
    max_price_fen = int_field(load_default=None)
    promotion = fields.Bool(load_default=False)
    sort = fields.Str(load_default="sales", validate=validate.OneOf(SORTS))

    @validates_schema
    def _range(self, data, **kwargs):
        low, high = data.get("min_price_fen"), data.get("max_price_fen")
        if low is not None and high is not None and low > high:
            raise ValidationError("min_price_fen must not exceed max_price_fen", "min_price_fen")


class ShopperProductItemSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    price_fen = fields.Int()
    promotion_price_fen = fields.Int(allow_none=True, metadata={"description": "only while the promotion is live"})
    image_url = fields.Str(allow_none=True)
    sales = fields.Int()
    merchant_id = fields.Int()


class ShopperProductPageSchema(PageSchema):
    items = fields.List(fields.Nested(ShopperProductItemSchema))


class ShopperImageSchema(Schema):
    url = fields.Str()
    thumb_url = fields.Str()
    width = fields.Int()
    height = fields.Int()


class ShopperSpecSchema(Schema):
    name = fields.Str()
    values = fields.List(fields.Str())


class ShopperSkuSchema(Schema):
    id = fields.Int()
    specs = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={"description": '{"颜色": "红"}'})
    price_fen = fields.Int()
    promotion_price_fen = fields.Int(allow_none=True)
    stock = fields.Int()


class ShopperShopBriefSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    logo_url = fields.Str(allow_none=True)


class ShopperShopSchema(ShopperShopBriefSchema):
    description = fields.Str()
    shipping_flat_fee_fen = fields.Int()
    free_shipping_threshold_fen = fields.Int(allow_none=True)


class ShopperProductDetailSchema(ShopperProductItemSchema):
    subtitle = fields.Str()
    category_id = fields.Int()
    tags = fields.List(fields.Str())
    description_html = fields.Str()
    promotion_ends_at = fields.DateTime(allow_none=True)
    images = fields.List(fields.Nested(ShopperImageSchema))
    specs = fields.List(fields.Nested(ShopperSpecSchema))
    merchant = fields.Nested(ShopperShopBriefSchema)
    skus = fields.List(fields.Nested(ShopperSkuSchema))


# --- payloads ----------------------------------------------------------------------------

def _image_url(key: str | None) -> str | None:
    if not key:
        return None
    _folder, product_id, name = key.split("/", 2)
    return external_url("shop.product_image", product_id=int(product_id), name=name)


def _item(product: Product) -> dict:
    live = product.promotion_live()
    main = product.main_image
    return {
        "id": product.id, "title": product.title, "price_fen": product.price_fen,
        "promotion_price_fen": product.promotion_price_fen if live else None,
        "image_url": _image_url(main.thumb_key) if main else None,
        "sales": product.sales, "merchant_id": product.merchant_id,
    }


def _shop(merchant: Merchant, full: bool = False) -> dict:
    logo = None
    if merchant.logo_key and merchant.logo_key.startswith("logos/"):
        logo = external_url("shop.logo", name=merchant.logo_key.split("/", 1)[1])
    out = {"id": merchant.id, "name": merchant.name, "logo_url": logo}
    if full:
        out.update(description=merchant.description or "", shipping_flat_fee_fen=merchant.shipping_flat_fen,
                   free_shipping_threshold_fen=merchant.free_shipping_threshold_fen)
    return out


def _page(filters: ProductFilters, args: dict) -> dict:
    page = queries.search(filters, args["page"], args["per_page"])
    return page_payload(page, [_item(p) for p in page.items])


def _open_shop(merchant_id: int) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None or not shops.is_open(merchant):
        raise NotFound(_("店铺不存在或已关闭"), code=CatalogError.SHOP_UNAVAILABLE)
    return merchant


# --- routes --------------------------------------------------------------------------------

@blp.get("/categories")
@blp.response(200, ShopperCategoryTreeSchema)
def category_tree():
    """The active category tree (up to three levels)."""
    return {"items": category_service.tree(active_only=True)}


@blp.get("/products")
@blp.arguments(ShopperProductArgsSchema, location="query")
@blp.response(200, ShopperProductPageSchema)
@error_responses(blp, 422)
def list_products(args):
    """Search on-sale products: keyword over title, subtitle and tags; filters; sort; pages."""
    filters = ProductFilters(q=args["q"], category_id=args["category_id"], min_price_fen=args["min_price_fen"],
                             max_price_fen=args["max_price_fen"], promotion=args["promotion"], sort=args["sort"])
    return _page(filters, args)


@blp.get("/products/<int:product_id>")
@blp.response(200, ShopperProductDetailSchema)
@error_responses(blp, 404)
def get_product(product_id: int):
    """One on-sale product with its images, specs, shop and SKUs; 404 `product_unavailable` otherwise."""
    product = queries.visible_product(product_id)
    live = product.promotion_live()
    data = _item(product)
    data.update(
        subtitle=product.subtitle, category_id=product.category_id, tags=list(product.tags or []),
        description_html=product.description_html or "",
        promotion_ends_at=product.promotion_ends_at if live else None,
        images=[{"url": _image_url(i.key), "thumb_url": _image_url(i.thumb_key), "width": i.width,
                 "height": i.height} for i in product.images],
        specs=list(product.specs or []),
        merchant=_shop(db.session.get(Merchant, product.merchant_id)),
        skus=[{"id": s.id, "specs": dict(s.spec_values or {}), "price_fen": s.price_fen,
               "promotion_price_fen": s.promotion_price_fen if live else None, "stock": s.stock}
              for s in queries.active_skus(product)],
    )
    return data


@blp.get("/shops/<int:merchant_id>")
@blp.response(200, ShopperShopSchema)
@error_responses(blp, 404)
def get_shop(merchant_id: int):
    """An open shop; 404 `shop_unavailable` when unknown, suspended or closed."""
    return _shop(_open_shop(merchant_id), full=True)


@blp.get("/shops/<int:merchant_id>/products")
@blp.arguments(ShopperPageArgsSchema, location="query")
@blp.response(200, ShopperProductPageSchema)
@error_responses(blp, 404, 422)
def shop_products(args, merchant_id: int):
    """The shop's on-sale products, best sellers first."""
    merchant = _open_shop(merchant_id)
    return _page(ProductFilters(merchant_id=merchant.id, sort="sales"), args)
