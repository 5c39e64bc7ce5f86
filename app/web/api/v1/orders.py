"""`/api/v1/orders`: checkout, the buyer's orders and what a buyer does with them.

Every endpoint acts for the bearer token's user and loads orders scoped to them:
another buyer's order number answers 404 `order_not_found`, exactly like one that
does not exist. Views parse input, call one service inside `transaction()` and
serialise; the rules live in app/orders.

Checkout (`POST /orders`) is idempotent per buyer and `idempotency_key`: a repeat
(a retry after a timeout, a double tap) answers 201 with the same payment and
orders and creates nothing. Short stock answers 409 `out_of_stock` naming every
short SKU in `fields` (sku id -> message) and `skus` ([{sku_id, wanted, available}]).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, make_response
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnprocessableEntity

from app.core.bounds import MAX_INT
from app.core.db import transaction
from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.inventory.services import OutOfStock
from app.orders import checkout, policies, queries, reviews, shipping
from app.orders import services as order_services
from app.orders.states import BUYER_TABS, REVIEW_MAX_IMAGES
from app.payments.models import Payment
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.images import decode_images
from app.web.api.v1.schemas import (
    OrderDetailSchema,
    OrderPageSchema,
    ShipmentSchema,
    StrictSchema,
    id_field,
    int_field,
    page_field,
    per_page_field,
)
from app.web.api.v1.serializers import (
    open_aftersale_nos,
    order_detail_payload,
    order_payload,
    page_payload,
    shipment_payload,
)

blp = Blueprint("orders", __name__, url_prefix="/orders", description="Checkout and the buyer's orders")


# --- errors ------------------------------------------------------------------------------------

def out_of_stock(exc: OutOfStock):
    """409 naming every short SKU twice: `fields` (id -> message) and `skus` (numbers)."""
    db.session.rollback()
    return make_response(jsonify({"error": {
        "code": exc.code, "message": exc.message, "fields": exc.fields,
        "skus": [{"sku_id": s.sku_id, "wanted": s.wanted, "available": s.available} for s in exc.shortfalls],
    }}), 409)


blp.errorhandler(UnprocessableEntity)(invalid_body)
blp.errorhandler(OutOfStock)(out_of_stock)


# --- schemas ------------------------------------------------------------------------------------

class CheckoutItemSchema(StrictSchema):
    sku_id = id_field(required=True, strict=True)
    quantity = int_field(-MAX_INT, required=True, strict=True, metadata={"description": "1..999"})


class CheckoutInSchema(StrictSchema):
    items = fields.List(fields.Nested(CheckoutItemSchema), required=True, validate=validate.Length(min=1, max=120))
    address_id = id_field(required=True, strict=True)
    notes = fields.Dict(keys=fields.Str(), values=fields.Str(), load_default=dict,
                        metadata={"description": "merchant id -> the buyer's note to that shop (at most 200 characters)"})
    idempotency_key = fields.Str(required=True, metadata={
        "description": "8-64 of A-Z a-z 0-9 _ -, new for each checkout the buyer means to make; "
                       "a repeat returns the first checkout's payment"})
    from_cart = fields.Bool(load_default=False, metadata={
        "description": "true: the ordered SKUs leave the buyer's cart"})
    expected_total_fen = int_field(0, load_default=None, strict=True, metadata={
        "description": "the total (fen) the buyer was shown; when the total computed now differs (a price or a "
                       "shipping fee changed) the checkout answers 409 total_changed and creates nothing"})


class CheckoutPaymentSchema(Schema):
    out_trade_no = fields.Str()
    amount_fen = fields.Int()
    status = fields.Str()


class CheckoutOrderSchema(Schema):
    order_no = fields.Str()
    merchant_id = fields.Int()
    amount_fen = fields.Int()
    status = fields.Str()
    actions = fields.List(fields.Str(), metadata={"description": "what the buyer may do to the order now"})


class CheckoutOutSchema(Schema):
    payment = fields.Nested(CheckoutPaymentSchema)
    orders = fields.List(fields.Nested(CheckoutOrderSchema))


class OrderListArgsSchema(StrictSchema):
    status = fields.Str(load_default="all", validate=validate.OneOf(BUYER_TABS),
                        metadata={"description": "the tab: " + " | ".join(BUYER_TABS)})
    page = page_field()
    per_page = per_page_field(10)


class TrackingEventSchema(Schema):
    occurred_at = fields.DateTime()
    location = fields.Str()
    description = fields.Str()


class TrackingSchema(ShipmentSchema):
    events = fields.List(fields.Nested(TrackingEventSchema), metadata={"description": "newest first"})


class ReviewInSchema(StrictSchema):
    item_id = id_field(required=True, strict=True, metadata={"description": "an item of this order"})
    rating = int_field(-MAX_INT, required=True, strict=True, metadata={"description": "1..5"})
    text = fields.Str(load_default="", metadata={"description": "at most 500 characters"})
    anonymous = fields.Bool(load_default=False)
    images = fields.List(fields.Str(), load_default=list, validate=validate.Length(max=REVIEW_MAX_IMAGES),
                         metadata={"description": f"up to {REVIEW_MAX_IMAGES} base64 JPEG/PNG/WebP images "
                                                  "(5 MB each before encoding)"})


class ReviewOutSchema(Schema):
    id = fields.Int()
    item_id = fields.Int()
    rating = fields.Int()
    text = fields.Str()
    anonymous = fields.Bool()
    image_count = fields.Int()
    created_at = fields.DateTime()


# --- helpers ---------------------------------------------------------------------------------

def checkout_payload(payment: Payment) -> dict:
    orders = sorted(payment.orders, key=lambda o: o.id)
    actor = policies.buyer(payment.buyer_id)
    return {"payment": {"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen,
                        "status": payment.status},
            "orders": [{"order_no": o.order_no, "merchant_id": o.merchant_id, "amount_fen": o.amount_fen,
                        "status": o.status, "actions": list(policies.actions_for(o, actor))} for o in orders]}


def _detail(buyer_id: int, order_no: str) -> dict:
    db.session.expire_all()
    order = order_services.for_buyer(buyer_id, order_no)
    return order_detail_payload(order, order_services.timeline(order.id), actor=policies.buyer(buyer_id))


def _buyer_action(action, order_no: str) -> dict:
    """`action(buyer_id, order_no)` in a transaction, then the order as it is now."""
    buyer_id = api_user().id
    with transaction():
        action(buyer_id, order_no)
    return _detail(buyer_id, order_no)


# --- routes ------------------------------------------------------------------------------------

@blp.post("")
@bearer_operation(blp, (404, "address_not_found: not the buyer's address"),
                  (409, "out_of_stock (with skus), product_unavailable, total_changed (expected_total_fen)"), 422)
@blp.arguments(CheckoutInSchema)
@blp.response(201, CheckoutOutSchema)
def submit(data):
    """Submit a checkout: one payment for all, one order per shop, stock reserved.

    The same `idempotency_key` again answers 201 with the first checkout's payment and
    orders (as they are now) and creates nothing."""
    buyer = api_user()
    with transaction():
        payment = checkout.submit(buyer, [(i["sku_id"], i["quantity"]) for i in data["items"]],
                                  data["address_id"], data["notes"], data["idempotency_key"],
                                  from_cart=data["from_cart"], expected_total_fen=data["expected_total_fen"])
        answer = checkout_payload(payment)  # before the commit: no reading it all back after
    return answer


@blp.get("")
@bearer_operation(blp, 422)
@blp.arguments(OrderListArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
def list_orders(args):
    """The buyer's orders, newest first, by tab (`status`)."""
    buyer_id = api_user().id
    page = queries.for_buyer(buyer_id, args["status"], args["page"], args["per_page"])
    trade_nos = {row.id: row.out_trade_no for row in db.session.execute(
        sa.select(Payment.id, Payment.out_trade_no).where(Payment.id.in_({o.payment_id for o in page.items})))}
    actor, aftersale_nos = policies.buyer(buyer_id), open_aftersale_nos(page.items)
    return page_payload(page, [order_payload(o, trade_nos.get(o.payment_id), actor=actor, aftersale_nos=aftersale_nos)
                               for o in page.items])


@blp.get("/<order_no>")
@bearer_operation(blp, 404)
@blp.response(200, OrderDetailSchema)
def get_order(order_no: str):
    """One of the buyer's orders: items, amounts, address, shipment and timeline."""
    return _detail(api_user().id, order_no)


@blp.post("/<order_no>/cancel")
@bearer_operation(blp, 404,
                  (409, "cannot_cancel: the order is no longer awaiting payment; the message names its state"))
@blp.response(200, OrderDetailSchema)
def cancel(order_no: str):
    """Cancel an unpaid order; its reserved stock goes back."""
    return _buyer_action(order_services.cancel_by_buyer, order_no)


@blp.post("/<order_no>/confirm-receipt")
@bearer_operation(blp, 404, (409, "cannot_confirm: not shipped"))
@blp.response(200, OrderDetailSchema)
def confirm_receipt(order_no: str):
    """确认收货: a shipped order becomes received (and reviewable)."""
    return _buyer_action(order_services.confirm_receipt, order_no)


@blp.get("/<order_no>/tracking")
@bearer_operation(blp, 404, (409, "not_shipped"))
@blp.response(200, TrackingSchema)
def tracking(order_no: str):
    """The shipment's carrier, number and tracking events (newest first)."""
    order = order_services.for_buyer(api_user().id, order_no)
    if order.shipment is None:
        raise Conflict(_("订单尚未发货"), code="not_shipped")
    data = shipment_payload(order.shipment)
    data["events"] = [{"occurred_at": e.occurred_at, "location": e.location, "description": e.description}
                      for e in shipping.events_for(order)]
    return data


@blp.post("/<order_no>/reviews")
@bearer_operation(blp, (404, "order_not_found, order_item_not_found"), (409, "not_received, already_reviewed"), 422)
@blp.arguments(ReviewInSchema)
@blp.response(201, ReviewOutSchema)
def review(data, order_no: str):
    """Review one item of a received order, once."""
    buyer_id = api_user().id
    images = decode_images(data["images"])
    with transaction():
        order = order_services.for_buyer(buyer_id, order_no)
        if data["item_id"] not in {item.id for item in order.items}:
            raise NotFound(_("订单商品不存在"), code="order_item_not_found")
        created = reviews.create(buyer_id, data["item_id"], data["rating"], data["text"], images=images,
                                 anonymous=data["anonymous"])
        out = {"id": created.id, "item_id": created.order_item_id, "rating": created.rating, "text": created.text,
               "anonymous": created.anonymous, "image_count": len(created.images or []),
               "created_at": created.created_at}
    return out
