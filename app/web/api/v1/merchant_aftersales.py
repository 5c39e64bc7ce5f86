"""`/api/v1/merchant/aftersales`: the key's shop's after-sale requests and its answers,
for ERP and customer-service systems (issue 12's merchant API).

Scoped to the API key's merchant: another shop's request number answers 404
`aftersale_not_found` and changes nothing. The key acts as the shop's owner (as
shipping orders does): the owner is the actor on the request's timeline, and
`actions` lists what the owner may do now (app/aftersales/policies.py).
"""
from __future__ import annotations

from flask import abort, send_file
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnprocessableEntity

from app.aftersales import labels, policies, queries, services
from app.aftersales.models import AfterSale
from app.aftersales.states import AfterSaleStatus
from app.core import storage
from app.core.db import transaction
from app.core.pagination import paginate
from app.core.urls import external_url
from app.extensions import db
from app.merchants.states import MemberRole
from app.orders import carriers
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.merchant_orders import ShipInSchema
from app.web.api.v1.merchant_products import _acting_owner
from app.web.api.v1.schemas import PageSchema, StrictSchema, id_field, page_field, per_page_field
from app.web.api.v1.serializers import local_phone, page_payload, product_image_url

blp = Blueprint("merchant_aftersales", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): after-sale requests (售后), with the X-Api-Key header")
blp.errorhandler(UnprocessableEntity)(invalid_body)
blp.record_once(document_api_key)

STATUSES = " | ".join(s.value for s in AfterSaleStatus)
ACTS = "approve | refund | reject | receive | ship_replacement | state"
CANNOT_ACT = (409, "aftersale_cannot_act: not (or no longer) in a state for this; "
                   "return_not_received: receive the parcel first")


# --- schemas ------------------------------------------------------------------------------------

class MerchantAfterSaleArgsSchema(StrictSchema):
    status = fields.Str(validate=validate.OneOf([s.value for s in AfterSaleStatus]),
                        metadata={"description": f"one status; all when absent (pending = waiting for the shop): {STATUSES}"})
    page = page_field()
    per_page = per_page_field()


class MerchantAfterSaleLineSchema(Schema):
    order_item_id = fields.Int()
    product_id = fields.Int()
    sku_id = fields.Int()
    title = fields.Str(metadata={"description": "as it was when ordered"})
    spec_text = fields.Str()
    image_url = fields.Str(allow_none=True)
    quantity = fields.Int(metadata={"description": "units this request is about"})
    item_quantity = fields.Int(metadata={"description": "units the order item has"})
    refunded_quantity = fields.Int(metadata={"description": "units of the item refunded so far (all requests)"})
    refund_fen = fields.Int(metadata={"description": "this line's refund, once decided (0 before)"})


class MerchantAfterSaleRowSchema(Schema):
    aftersale_no = fields.Str()
    order_no = fields.Str()
    status = fields.Str(metadata={"description": STATUSES})
    kind = fields.Str(metadata={"description": "refund_only | return_refund | exchange"})
    reason = fields.Str(metadata={"description": "quality | not_as_described | size_color | wrong_item | "
                                                 "no_longer_wanted | other"})
    reason_text = fields.Str(metadata={"description": "the reason in words (the buyer's own for other)"})
    refund_fen = fields.Int(metadata={"description": "what goes back to the buyer if refunded (shipping included)"})
    quantity = fields.Int()
    lines = fields.List(fields.Nested(MerchantAfterSaleLineSchema))
    actions = fields.List(fields.Str(), metadata={"description": f"what the shop may do now: {ACTS}"})
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the party waited for must act (the shop while pending or returned); null: nobody"})
    created_at = fields.DateTime()


class MerchantAfterSalePageSchema(PageSchema):
    items = fields.List(fields.Nested(MerchantAfterSaleRowSchema))


class MerchantAfterSaleAddressSchema(Schema):
    recipient = fields.Str()
    phone = fields.Str()
    address = fields.Str()


class MerchantParcelSchema(Schema):
    carrier = fields.Str(metadata={"description": "Kuaidi100 company code"})
    carrier_name = fields.Str()
    tracking_no = fields.Str()
    shipped_at = fields.DateTime(allow_none=True)


class MerchantReturnParcelSchema(MerchantParcelSchema):
    received_at = fields.DateTime(allow_none=True, metadata={"description": "when the shop confirmed it arrived"})
    restocked = fields.Bool(allow_none=True, metadata={"description": "back on the shelf (false: damaged)"})


class MerchantAfterSaleImageSchema(Schema):
    url = fields.Str(metadata={"description": "fetched with the same X-Api-Key"})
    thumb_url = fields.Str()


class MerchantDisputeSchema(Schema):
    buyer_statement = fields.Str()
    merchant_statement = fields.Str(allow_none=True)
    ruling = fields.Str(allow_none=True, metadata={"description": "refund | return_refund | close"})
    ruling_note = fields.Str(allow_none=True)
    ruled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class MerchantAfterSaleEventSchema(Schema):
    from_status = fields.Str(allow_none=True)
    to_status = fields.Str()
    note = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class MerchantAfterSaleDetailSchema(MerchantAfterSaleRowSchema):
    description = fields.Str()
    images = fields.List(fields.Nested(MerchantAfterSaleImageSchema), metadata={"description": "the buyer's evidence"})
    shipping_refund_fen = fields.Int(metadata={"description": "the part of refund_fen that is the order's shipping"})
    before_shipping = fields.Bool(metadata={"description": "asked while the order was paid and not shipped"})
    reapplied = fields.Int()
    reject_reason = fields.Str(allow_none=True)
    return_address = fields.Nested(MerchantAfterSaleAddressSchema, allow_none=True, metadata={
        "description": "where the buyer sends the goods, once approved"})
    return_parcel = fields.Nested(MerchantReturnParcelSchema, allow_none=True)
    replacement_parcel = fields.Nested(MerchantParcelSchema, allow_none=True)
    dispute = fields.Nested(MerchantDisputeSchema, allow_none=True)
    timeline = fields.List(fields.Nested(MerchantAfterSaleEventSchema))


class ShopReturnAddressSchema(Schema):
    id = fields.Int()
    label = fields.Str()
    recipient = fields.Str()
    phone = fields.Str()
    address = fields.Str()
    is_default = fields.Bool()


class ShopReturnAddressListSchema(Schema):
    items = fields.List(fields.Nested(ShopReturnAddressSchema))


class MerchantApproveInSchema(StrictSchema):
    return_address_id = id_field(load_default=None, allow_none=True, strict=True, metadata={
        "description": "one of GET /merchant/return-addresses; required for return_refund and exchange, "
                       "ignored for refund_only (approving it refunds)"})


class MerchantRejectInSchema(StrictSchema):
    reason = fields.Str(required=True, metadata={"description": "2-200 characters, shown to the buyer"})


class MerchantReceiveInSchema(StrictSchema):
    restock = fields.Bool(required=True, truthy={True}, falsy={False}, metadata={
        "description": "true: the goods go back on the shelf; false: damaged, stock unchanged"})


# --- payloads -----------------------------------------------------------------------------------

def _actor(merchant_id: int) -> policies.Actor:
    """The key acts as the shop's owner, so it is offered (and refused) what the owner is."""
    return policies.Actor(policies.Audience.MERCHANT, _acting_owner(merchant_id).id, merchant_id, MemberRole.OWNER)


def _line(line) -> dict:
    item = line.item
    return {"order_item_id": item.id, "product_id": item.product_id, "sku_id": item.sku_id, "title": item.title,
            "spec_text": item.spec_text, "image_url": product_image_url(item.image_key), "quantity": line.quantity,
            "item_quantity": item.quantity, "refunded_quantity": item.refunded_quantity, "refund_fen": line.refund_fen}


def _row(aftersale: AfterSale, actor: policies.Actor) -> dict:
    return {"aftersale_no": aftersale.aftersale_no, "order_no": aftersale.order.order_no, "status": aftersale.status,
            "kind": aftersale.kind, "reason": aftersale.reason, "reason_text": labels.reason_text(aftersale),
            "refund_fen": aftersale.refund_fen, "quantity": aftersale.quantity,
            "lines": [_line(line) for line in aftersale.lines],
            "actions": list(services.actions_for(aftersale, actor)), "due_at": aftersale.due_at,
            "created_at": aftersale.created_at}


def _image(aftersale: AfterSale, image: dict) -> dict:
    def url(key):
        return external_url("merchant_aftersales.aftersale_image", aftersale_no=aftersale.aftersale_no,
                            name=(key or "").rsplit("/", 1)[-1])
    return {"url": url(image.get("key")), "thumb_url": url(image.get("thumb_key") or image.get("key"))}


def _parcel(carrier: str | None, tracking_no: str | None, shipped_at) -> dict | None:
    if not tracking_no:
        return None
    return {"carrier": carrier, "carrier_name": carriers.name_for(carrier), "tracking_no": tracking_no,
            "shipped_at": shipped_at}


def _detail(merchant_id: int, aftersale_no: str) -> dict:
    db.session.expire_all()
    aftersale = services.for_merchant(merchant_id, aftersale_no)
    data = _row(aftersale, _actor(merchant_id))
    address = dict(aftersale.return_address) if aftersale.return_address else None
    if address:
        address["phone"] = local_phone(address.get("phone"))
    returned = _parcel(aftersale.return_carrier, aftersale.return_tracking_no, aftersale.returned_at)
    if returned:
        returned.update(received_at=aftersale.return_received_at, restocked=aftersale.restocked)
    dispute = aftersale.dispute
    data.update({
        "description": aftersale.description, "images": [_image(aftersale, img) for img in aftersale.images or []],
        "shipping_refund_fen": aftersale.shipping_refund_fen, "before_shipping": aftersale.before_shipping,
        "reapplied": aftersale.reapplied, "reject_reason": aftersale.reject_reason, "return_address": address,
        "return_parcel": returned,
        "replacement_parcel": _parcel(aftersale.replacement_carrier, aftersale.replacement_tracking_no,
                                      aftersale.replacement_shipped_at),
        "dispute": None if dispute is None else {
            "buyer_statement": dispute.buyer_statement, "merchant_statement": dispute.merchant_statement,
            "ruling": dispute.ruling, "ruling_note": dispute.ruling_note, "ruled_at": dispute.ruled_at,
            "created_at": dispute.created_at},
        "timeline": [{"from_status": e.from_status, "to_status": e.to_status, "note": e.note,
                      "created_at": e.created_at} for e in services.timeline(aftersale.id)],
    })
    return data


def _answer(aftersale_no: str, act) -> dict:
    """`act(actor, aftersale_no)` in a transaction (404 first for another shop's number),
    then the request as it is now."""
    merchant_id = api_merchant().id
    with transaction():
        services.for_merchant(merchant_id, aftersale_no)
        act(_actor(merchant_id), aftersale_no)
    return _detail(merchant_id, aftersale_no)


# --- routes -------------------------------------------------------------------------------------

@blp.get("/aftersales")
@api_key_operation(blp, 422)
@blp.arguments(MerchantAfterSaleArgsSchema, location="query")
@blp.response(200, MerchantAfterSalePageSchema)
def list_aftersales(args):
    """The shop's after-sale requests, newest first (status pending: waiting for the shop)."""
    merchant_id = api_merchant().id
    page = paginate(queries.of_merchant(merchant_id, status=args.get("status")), args["page"], args["per_page"])
    actor = _actor(merchant_id)
    return page_payload(page, [_row(a, actor) for a in page.items])


@blp.get("/aftersales/<aftersale_no>")
@api_key_operation(blp, (404, "aftersale_not_found"))
@blp.response(200, MerchantAfterSaleDetailSchema)
def get_aftersale(aftersale_no: str):
    """One request: its lines, the buyer's reason and evidence, the return address and parcels,
    the dispute if the platform stepped in, the timeline and the shop's `actions`."""
    return _detail(api_merchant().id, aftersale_no)


@blp.get("/aftersales/<aftersale_no>/images/<name>")
@api_key_operation(blp, (404, "aftersale_not_found, not_found"))
@blp.alt_response(200, description="the photo, image/jpeg, image/png or image/webp", success=True)
def aftersale_image(aftersale_no: str, name: str):
    """A photo of the request (the buyer's evidence, or a dispute's), as listed in `images`."""
    key = queries.image_key(services.for_merchant(api_merchant().id, aftersale_no), name)
    if key is None:
        abort(404)
    path, content_type = storage.open_stored(key)
    return send_file(path, mimetype=content_type, max_age=3600)


@blp.post("/aftersales/<aftersale_no>/approve")
@api_key_operation(blp, (404, "aftersale_not_found"), CANNOT_ACT,
                   (422, "return_address_required: a return or exchange needs one of the shop's addresses"))
@blp.arguments(MerchantApproveInSchema)
@blp.response(200, MerchantAfterSaleDetailSchema)
def approve(data, aftersale_no: str):
    """Say yes to a pending request: a refund_only is refunded now (money back through the
    payment's gateway); a return_refund or exchange gets the chosen return address and
    waits for the buyer's parcel."""
    return _answer(aftersale_no, lambda actor, no: services.approve(actor, no, data["return_address_id"]))


@blp.post("/aftersales/<aftersale_no>/reject")
@api_key_operation(blp, (404, "aftersale_not_found"), CANNOT_ACT, (422, "reject_reason_required: 2-200 characters"))
@blp.arguments(MerchantRejectInSchema)
@blp.response(200, MerchantAfterSaleDetailSchema)
def reject(data, aftersale_no: str):
    """Say no to a pending request, with a reason the buyer reads (they may edit and
    reapply, or ask the platform to step in)."""
    return _answer(aftersale_no, lambda actor, no: services.reject(actor, no, data["reason"]))


@blp.post("/aftersales/<aftersale_no>/receive")
@api_key_operation(blp, (404, "aftersale_not_found"), CANNOT_ACT)
@blp.arguments(MerchantReceiveInSchema)
@blp.response(200, MerchantAfterSaleDetailSchema)
def receive(data, aftersale_no: str):
    """The returned parcel arrived: a return_refund is then refunded; an exchange waits for
    `ship-replacement`."""
    return _answer(aftersale_no, lambda actor, no: services.receive(actor, no, restock=data["restock"]))


@blp.post("/aftersales/<aftersale_no>/refund")
@api_key_operation(blp, (404, "aftersale_not_found"), CANNOT_ACT)
@blp.response(200, MerchantAfterSaleDetailSchema)
def refund(aftersale_no: str):
    """Refund now, whatever the kind: approving a refund_only, or without waiting for the
    goods (also while the platform is looking into it: the shop gives in)."""
    return _answer(aftersale_no, services.refund)


@blp.post("/aftersales/<aftersale_no>/ship-replacement")
@api_key_operation(blp, (404, "aftersale_not_found"),
                   (409, "aftersale_cannot_act, return_not_received, out_of_stock: no stock for the replacement"),
                   (422, "invalid_carrier, invalid tracking_no"))
@blp.arguments(ShipInSchema)
@blp.response(200, MerchantAfterSaleDetailSchema)
def ship_replacement(data, aftersale_no: str):
    """Send an exchange's replacement (its stock is taken); the buyer confirms receipt."""
    return _answer(aftersale_no, lambda actor, no: services.ship_replacement(actor, no, data["carrier"],
                                                                             data["tracking_no"]))


@blp.get("/return-addresses")
@api_key_operation(blp)
@blp.response(200, ShopReturnAddressListSchema)
def return_addresses():
    """The shop's return addresses (the default first), for `approve`'s `return_address_id`.
    They are managed by the shop's owner in the console (店铺设置 → 退货地址)."""
    return {"items": [{"id": a.id, "label": a.label, "recipient": a.recipient, "phone": local_phone(a.phone),
                       "address": a.address, "is_default": a.is_default}
                      for a in services.return_addresses(api_merchant().id)]}

