"""`/api/v1/merchant/orders`: the key's shop's orders, for ERP and warehouse systems.

Scoped to the API key's merchant (`g.api_merchant`): another shop's order number
answers 404 `order_not_found` and changes nothing. Shipping acts as the shop's
owner, as the product endpoints do (the key belongs to the shop, the order
timeline and the shipment record a user): the owner is the event's actor.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields, validate
from werkzeug.exceptions import UnprocessableEntity

from app.core.db import transaction
from app.extensions import db
from app.merchants.states import MemberRole
from app.orders import policies, queries
from app.orders import services as order_services
from app.orders.states import OrderStatus
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.merchant_products import _acting_owner
from app.web.api.v1.schemas import (
    OrderDetailSchema,
    OrderRowSchema,
    PageSchema,
    StrictSchema,
    page_field,
    per_page_field,
)
from app.web.api.v1.serializers import (
    address_payload,
    open_aftersale_nos,
    order_detail_payload,
    order_payload,
    page_payload,
)

blp = Blueprint("merchant_orders", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): orders and shipping, with the X-Api-Key header")
blp.errorhandler(UnprocessableEntity)(invalid_body)
blp.record_once(document_api_key)


class MerchantOrderArgsSchema(StrictSchema):
    status = fields.Str(validate=validate.OneOf([s.value for s in OrderStatus]),
                        metadata={"description": "one status; all when absent (paid = awaiting shipment)"})
    page = page_field()
    per_page = per_page_field()


class MerchantOrderRowSchema(OrderRowSchema):
    address = fields.Nested("OrderAddressSchema")


class MerchantOrderPageSchema(PageSchema):
    items = fields.List(fields.Nested(MerchantOrderRowSchema))


class ShipInSchema(StrictSchema):
    carrier = fields.Str(required=True, metadata={"description": "Kuaidi100 company code, e.g. shunfeng, zhongtong"})
    tracking_no = fields.Str(required=True, metadata={"description": "6-32 of A-Z 0-9 -"})


def _key_actor(merchant_id: int) -> policies.Actor:
    """The API key acts as the shop's owner (as shipping does), so it is offered what the owner may do."""
    return policies.Actor(policies.Audience.MERCHANT, _acting_owner(merchant_id).id, merchant_id, MemberRole.OWNER)


def _row(order, actor: policies.Actor, aftersale_nos: dict[int, str]) -> dict:
    data = order_payload(order, actor=actor, aftersale_nos=aftersale_nos)
    data.pop("out_trade_no")
    data["address"] = address_payload(order.address)
    return data


def _detail(merchant_id: int, order_no: str) -> dict:
    db.session.expire_all()
    order = order_services.for_merchant(merchant_id, order_no)
    data = order_detail_payload(order, order_services.timeline(order.id), actor=_key_actor(merchant_id))
    data.pop("out_trade_no")
    return data


@blp.get("/orders")
@api_key_operation(blp, 422)
@blp.arguments(MerchantOrderArgsSchema, location="query")
@blp.response(200, MerchantOrderPageSchema)
def list_orders(args):
    """The shop's orders, newest first, with items and the shipping address."""
    merchant_id = api_merchant().id
    page = queries.for_merchant(merchant_id, queries.OrderFilters(status=args.get("status")),
                                args["page"], args["per_page"])
    actor, aftersale_nos = _key_actor(merchant_id), open_aftersale_nos(page.items)
    return page_payload(page, [_row(o, actor, aftersale_nos) for o in page.items])


@blp.get("/orders/<order_no>")
@api_key_operation(blp, 404)
@blp.response(200, OrderDetailSchema)
def get_order(order_no: str):
    return _detail(api_merchant().id, order_no)


@blp.post("/orders/<order_no>/ship")
@api_key_operation(blp, 404, (409, "cannot_ship: not awaiting shipment"), (422, "invalid_carrier, invalid tracking_no"))
@blp.arguments(ShipInSchema)
@blp.response(200, OrderDetailSchema)
def ship(data, order_no: str):
    """Ship a paid order with its carrier and tracking number; the buyer is told."""
    merchant_id = api_merchant().id
    with transaction():
        order_services.for_merchant(merchant_id, order_no)  # 404 before anything else
        order_services.ship(_acting_owner(merchant_id).id, merchant_id, order_no, data["carrier"],
                            data["tracking_no"])
    return _detail(merchant_id, order_no)
