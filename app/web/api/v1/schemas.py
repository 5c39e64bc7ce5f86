"""Marshmallow schemas shared by v1 resources."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from app.core.bounds import MAX_INT
from app.core.pagination import MAX_PAGE, MAX_PER_PAGE

# --- input fields: every integer is bounded, so out-of-range input is a 422 naming the field
# (never a database error), and the OpenAPI document states the range ---------------------

def int_field(minimum: int = 0, maximum: int = MAX_INT, **kwargs) -> fields.Int:
    """An integer in minimum..maximum (by default what an `integer` column holds, from 0)."""
    return fields.Int(validate=validate.Range(min=minimum, max=maximum), **kwargs)


def id_field(**kwargs) -> fields.Int:
    """An id: 1..MAX_INT."""
    return int_field(1, **kwargs)


def page_field() -> fields.Int:
    return int_field(1, MAX_PAGE, load_default=1)


def per_page_field(default: int = 20) -> fields.Int:
    return int_field(1, MAX_PER_PAGE, load_default=default)


class StrictSchema(Schema):
    """Input that refuses unknown fields (a 422 naming them)."""

    class Meta:
        unknown = RAISE


class PageSchema(Schema):
    """One page of a list; a subclass says what `items` holds."""

    items = fields.List(fields.Dict())
    page = fields.Int()
    per_page = fields.Int()
    total = fields.Int()


class PhoneCodeSchema(Schema):
    """A phone number and the SMS code sent to it (sign-in, registration, reset, binding)."""

    phone = fields.Str(required=True)
    code = fields.Str(required=True)


class UserSchema(Schema):
    id = fields.Int()
    nickname = fields.Str()
    phone = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    avatar_url = fields.Str(allow_none=True)
    roles = fields.List(fields.Str())
    accepts_marketing = fields.Bool(metadata={"description": "marketing messages from the platform and shops may "
                                                             "reach the user (PUT /me/marketing)"})


class TokenSchema(Schema):
    token = fields.Str()
    user = fields.Nested(UserSchema)


class ErrorBodySchema(Schema):
    code = fields.Str(required=True, metadata={"description": "stable and machine-readable: invalid, not_found, "
                                                              "out_of_stock, ... (docs/api.md lists them)"})
    message = fields.Str(required=True, metadata={"description": "for people, in the request's language"})
    fields_ = fields.Dict(data_key="fields", keys=fields.Str(), values=fields.Str(),
                          metadata={"description": "field (or SKU id) -> what is wrong with it; only when it helps"})
    skus = fields.List(fields.Dict(), metadata={
        "description": "out_of_stock only: [{\"sku_id\", \"wanted\", \"available\"}] for every short SKU"})


class ApiErrorSchema(Schema):
    """What every error answer of the API is (app/web/errors.py)."""

    error = fields.Nested(ErrorBodySchema, required=True)


ErrorSchema = ApiErrorSchema


# --- orders (shared by the buyer's and the merchant's order endpoints) ----------------------

class OrderItemSchema(Schema):
    id = fields.Int()
    product_id = fields.Int()
    sku_id = fields.Int()
    title = fields.Str(metadata={"description": "as it was when ordered"})
    spec_text = fields.Str()
    image_url = fields.Str(allow_none=True)
    unit_price_fen = fields.Int()
    quantity = fields.Int()
    paid_fen = fields.Int(metadata={"description": "this item's share of what the buyer paid"})
    refunded_quantity = fields.Int(metadata={"description": "units refunded so far (after-sales)"})
    reviewed = fields.Bool()
    aftersale_no = fields.Str(allow_none=True, metadata={
        "description": "the open after-sale request holding this item (GET /aftersales/{aftersale_no}), else null"})


class OrderMerchantSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class ShipmentSchema(Schema):
    carrier = fields.Str(metadata={"description": "Kuaidi100 company code, e.g. shunfeng"})
    carrier_name = fields.Str()
    tracking_no = fields.Str()
    shipped_at = fields.DateTime()
    delivered = fields.Bool()


class OrderAddressSchema(Schema):
    recipient = fields.Str()
    phone = fields.Str()
    province = fields.Str()
    city = fields.Str()
    district = fields.Str()
    region = fields.Str()
    detail = fields.Str()


class OrderRowSchema(Schema):
    order_no = fields.Str()
    status = fields.Str(metadata={"description": "pending_payment | paid | shipped | received | completed | "
                                                "cancelled | closed"})
    actions = fields.List(fields.Str(), metadata={
        "description": "what the caller may do to the order now: the buyer pay | cancel | confirm_receipt | "
                       "review, a shop ship | add_tracking (app/orders/policies.py)"})
    merchant_id = fields.Int()
    merchant = fields.Nested(OrderMerchantSchema)
    out_trade_no = fields.Str(allow_none=True, metadata={"description": "the payment to pay while pending_payment"})
    items = fields.List(fields.Nested(OrderItemSchema))
    items_fen = fields.Int()
    shipping_fen = fields.Int()
    amount_fen = fields.Int()
    note = fields.Str()
    to_review = fields.Bool(metadata={"description": "received with items not yet reviewed"})
    created_at = fields.DateTime()
    pay_expires_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.Str(allow_none=True, metadata={"description": "buyer | timeout | admin | out_of_stock"})
    shipment = fields.Nested(ShipmentSchema, allow_none=True)


class OrderEventSchema(Schema):
    from_status = fields.Str(allow_none=True)
    to_status = fields.Str()
    note = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class OrderDetailSchema(OrderRowSchema):
    payment_status = fields.Str(allow_none=True, metadata={"description": "pending | paid | closed"})
    address = fields.Nested(OrderAddressSchema)
    timeline = fields.List(fields.Nested(OrderEventSchema))


class OrderPageSchema(PageSchema):
    items = fields.List(fields.Nested(OrderRowSchema))
