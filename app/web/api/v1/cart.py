"""`/api/v1/cart/items`: the signed-in buyer's cart.

The cart is read grouped by shop, each line priced now with a problem code when it
cannot be bought as it stands (`off_sale`, `shop_closed`, `sold_out`, `above_stock`);
such lines stay in the cart and are left out of the totals. Adding and changing
quantities are checked against what is on sale and in stock (409
`product_unavailable` / `insufficient_stock`, 422 `invalid_quantity`). Another
user's cart line answers 404 `cart_item_not_found`.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validates_schema
from marshmallow import ValidationError as MarshmallowError
from werkzeug.exceptions import UnprocessableEntity

from app.core.bounds import MAX_INT
from app.core.db import transaction
from app.core.errors import NotFound
from app.extensions import db
from app.orders import cart
from app.orders.models import CartItem
from app.orders.states import MAX_LINE_QUANTITY
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.schemas import StrictSchema, id_field, int_field
from app.web.api.v1.serializers import cart_payload

blp = Blueprint("cart", __name__, url_prefix="/cart", description="The buyer's cart")
blp.errorhandler(UnprocessableEntity)(invalid_body)


class CartAddSchema(StrictSchema):
    sku_id = id_field(required=True, strict=True)
    quantity = int_field(-MAX_INT, required=True, strict=True, metadata={
        "description": f"1..{MAX_LINE_QUANTITY}; added to the line when the SKU is already in the cart"})


class CartPatchSchema(StrictSchema):
    quantity = int_field(-MAX_INT, strict=True, metadata={"description": f"the new quantity, 1..{MAX_LINE_QUANTITY}"})
    selected = fields.Bool(truthy={True}, falsy={False}, metadata={"description": "whether checkout from the cart buys this line"})

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise MarshmallowError(_("请填写数量或勾选状态"), field_name="quantity")


class CartLineSchema(Schema):
    id = fields.Int(metadata={"description": "the cart line id (for PATCH and DELETE)"})
    sku_id = fields.Int()
    product_id = fields.Int()
    title = fields.Str()
    spec_text = fields.Str()
    image_url = fields.Str(allow_none=True)
    unit_price_fen = fields.Int(metadata={"description": "the price now (promotion price while it runs)"})
    quantity = fields.Int()
    subtotal_fen = fields.Int()
    stock = fields.Int()
    selected = fields.Bool()
    problem = fields.Str(allow_none=True, metadata={"description": "off_sale | shop_closed | sold_out | above_stock"})
    problem_text = fields.Str(allow_none=True)


class CartShopMerchantSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class CartShopSchema(Schema):
    merchant = fields.Nested(CartShopMerchantSchema)
    items = fields.List(fields.Nested(CartLineSchema))
    items_fen = fields.Int(metadata={"description": "selected, buyable lines of this shop"})
    all_selected = fields.Bool()


class CartSchema(Schema):
    shops = fields.List(fields.Nested(CartShopSchema))
    selected_count = fields.Int(metadata={"description": "units in selected, buyable lines"})
    items_fen = fields.Int()
    all_selected = fields.Bool()
    problem_count = fields.Int(metadata={"description": "lines that cannot be bought as they stand"})


class CartItemSchema(Schema):
    id = fields.Int()
    sku_id = fields.Int()
    quantity = fields.Int()
    selected = fields.Bool()


def _item(item) -> dict:
    return {"id": item.id, "sku_id": item.sku_id, "quantity": item.quantity, "selected": item.selected}


@blp.get("/items")
@bearer_operation(blp)
@blp.response(200, CartSchema)
def view_cart():
    """The cart grouped by shop, with totals of the selected lines that can be bought."""
    return cart_payload(cart.view(api_user().id))


@blp.post("/items")
@bearer_operation(blp, (404, "sku_not_found"), (409, "product_unavailable, insufficient_stock, cart_full"), 422)
@blp.arguments(CartAddSchema)
@blp.response(201, CartItemSchema)
def add_item(data):
    """Put a SKU in the cart (or add to its line)."""
    with transaction():
        item = cart.add(api_user().id, data["sku_id"], data["quantity"])
        out = _item(item)
    return out


@blp.patch("/items/<int:item_id>")
@bearer_operation(blp, 404, (409, "insufficient_stock"), 422)
@blp.arguments(CartPatchSchema)
@blp.response(200, CartItemSchema)
def update_item(data, item_id: int):
    """Change a line's quantity and/or whether it is selected."""
    user_id = api_user().id
    with transaction():
        if "quantity" in data:
            cart.set_quantity(user_id, item_id, data["quantity"])
        if "selected" in data:
            cart.set_selected(user_id, data["selected"], item_id=item_id)
    db.session.expire_all()
    return _item(db.session.get(CartItem, item_id))


@blp.delete("/items/<int:item_id>")
@bearer_operation(blp, 404)
@blp.response(204)
def delete_item(item_id: int):
    with transaction():
        if not cart.remove(api_user().id, [item_id]):
            raise NotFound(_("购物车中没有该商品"), code="cart_item_not_found")
    return None
