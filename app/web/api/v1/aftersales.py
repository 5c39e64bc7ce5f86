"""`/api/v1/aftersales`: the buyer's after-sales for the mini-program (issue 12).

Every endpoint acts for the bearer token's user and loads requests and orders scoped to
them: another buyer's order number answers 404 `order_not_found` and another buyer's
request 404 `aftersale_not_found`, exactly like ones that do not exist, and nothing
changes. Each write calls one service of app.aftersales inside `transaction()` and
answers with the request as it is now; `actions` lists what the buyer may do next
(`cancel`, `ship_back`, `reapply`, `escalate`, `confirm_replacement`).

Images (evidence, a dispute's photos) travel inside the JSON as base64 strings or data
URLs, as review photos do (`app/web/api/v1/images.py`).
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnprocessableEntity

from app.aftersales import applications, disputes, labels, policies, queries, services
from app.aftersales.states import (
    DESCRIPTION_MAX,
    MAX_IMAGES,
    MESSAGE_MAX,
    REASON_TEXT_MAX,
    STATEMENT_MAX,
    AfterSaleKind,
    AfterSaleStatus,
    Reason,
    Side,
)
from app.core.db import transaction
from app.core.pagination import paginate
from app.extensions import db
from app.orders import carriers
from app.orders import services as order_services
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.images import DESCRIPTION as IMAGES_DESCRIPTION
from app.web.api.v1.images import decode_images
from app.web.api.v1.schemas import (
    OrderMerchantSchema,
    PageSchema,
    StrictSchema,
    id_field,
    int_field,
    page_field,
    per_page_field,
)
from app.web.api.v1.serializers import address_payload, page_payload, product_image_url

blp = Blueprint("aftersales", __name__, url_prefix="/aftersales",
                description="The buyer's after-sales: refund-only, return and refund, exchange; 平台介入 and its thread")

blp.errorhandler(UnprocessableEntity)(invalid_body)

KINDS = [str(k) for k in AfterSaleKind]
REASONS = [str(r) for r in Reason]
STATUSES = " | ".join(str(s) for s in AfterSaleStatus)
BUYER_ACTS = "cancel | ship_back | reapply | escalate | confirm_replacement"


# --- schemas ------------------------------------------------------------------------------------

class AfterSaleLineInSchema(StrictSchema):
    order_item_id = id_field(required=True, strict=True, metadata={"description": "an item of the order"})
    quantity = int_field(1, 999, required=True, strict=True,
                         metadata={"description": "units of that item (at most what is left to refund)"})


class AfterSaleRequestInSchema(StrictSchema):
    """What the buyer fills in, applying or reapplying."""

    items = fields.List(fields.Nested(AfterSaleLineInSchema), required=True, validate=validate.Length(min=1, max=50))
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "refund_only (while paid and not shipped: the only kind, a cancel-and-refund) | "
                       "return_refund | exchange"})
    reason = fields.Str(required=True, validate=validate.OneOf(REASONS),
                        metadata={"description": "a preset; `other` needs reason_text"})
    reason_text = fields.Str(load_default="", validate=validate.Length(max=REASON_TEXT_MAX))
    description = fields.Str(load_default="", validate=validate.Length(max=DESCRIPTION_MAX))
    images = fields.List(fields.Str(), load_default=list, validate=validate.Length(max=MAX_IMAGES),
                         metadata={"description": f"up to {MAX_IMAGES} {IMAGES_DESCRIPTION}"})


class AfterSaleApplyInSchema(AfterSaleRequestInSchema):
    order_no = fields.Str(required=True, validate=validate.Length(min=1, max=32))


class AfterSaleCreatedSchema(Schema):
    aftersale_no = fields.Str()
    status = fields.Str(metadata={"description": STATUSES})
    refund_fen = fields.Int(metadata={"description": "what goes back to the buyer if it is refunded"})


class AfterSaleListArgsSchema(StrictSchema):
    status = fields.Str(load_default="all", validate=validate.OneOf(queries.BUYER_TABS),
                        metadata={"description": "the tab: " + " | ".join(queries.BUYER_TABS)})
    page = page_field()
    per_page = per_page_field(10)


class AfterSaleLineSchema(Schema):
    order_item_id = fields.Int()
    product_id = fields.Int()
    title = fields.Str()
    spec_text = fields.Str()
    image_url = fields.Str(allow_none=True)
    unit_price_fen = fields.Int()
    quantity = fields.Int(metadata={"description": "units asked about"})


class BuyerAfterSaleRowSchema(Schema):
    aftersale_no = fields.Str()
    order_no = fields.Str()
    merchant = fields.Nested(OrderMerchantSchema)
    kind = fields.Str(metadata={"description": " | ".join(KINDS)})
    kind_text = fields.Str()
    status = fields.Str(metadata={"description": STATUSES})
    status_text = fields.Str(metadata={"description": "the status in the buyer's words"})
    refund_fen = fields.Int(metadata={"description": "what goes back (decided when refunded); shipping included "
                                                     "when an unshipped order goes back whole"})
    quantity = fields.Int()
    lines = fields.List(fields.Nested(AfterSaleLineSchema))
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "when the party waited for must act (else the request moves on by itself)"})
    created_at = fields.DateTime()


class AfterSaleReturnAddressSchema(Schema):
    recipient = fields.Str()
    phone = fields.Str()
    address = fields.Str()


class AfterSaleShipmentSchema(Schema):
    carrier = fields.Str()
    carrier_name = fields.Str()
    tracking_no = fields.Str()
    shipped_at = fields.DateTime(allow_none=True)


class AfterSaleEventSchema(Schema):
    from_status = fields.Str(allow_none=True)
    to_status = fields.Str()
    note = fields.Str(allow_none=True)
    created_at = fields.DateTime()


class DisputeMessageSchema(Schema):
    side = fields.Str(metadata={"description": "buyer | merchant | platform"})
    body = fields.Str()
    image_count = fields.Int()
    created_at = fields.DateTime()


class BuyerDisputeSchema(Schema):
    statement = fields.Str(metadata={"description": "the buyer's"})
    merchant_statement = fields.Str(allow_none=True)
    ruling = fields.Str(allow_none=True, metadata={"description": "refund | return_refund | close, once ruled"})
    ruling_note = fields.Str(allow_none=True)
    ruled_at = fields.DateTime(allow_none=True)
    messages = fields.List(fields.Nested(DisputeMessageSchema))


class BuyerAfterSaleDetailSchema(BuyerAfterSaleRowSchema):
    reason = fields.Str(metadata={"description": " | ".join(REASONS)})
    reason_text = fields.Str(metadata={"description": "the preset's words, or the buyer's own for `other`"})
    description = fields.Str()
    image_count = fields.Int()
    reject_reason = fields.Str(allow_none=True)
    reapplied = fields.Int(metadata={"description": "times reapplied (at most 3)"})
    return_address = fields.Nested(AfterSaleReturnAddressSchema, allow_none=True,
                                   metadata={"description": "where to send the goods, once approved"})
    return_shipment = fields.Nested(AfterSaleShipmentSchema, allow_none=True)
    replacement_shipment = fields.Nested(AfterSaleShipmentSchema, allow_none=True)
    timeline = fields.List(fields.Nested(AfterSaleEventSchema))
    dispute = fields.Nested(BuyerDisputeSchema, allow_none=True)
    actions = fields.List(fields.Str(), metadata={"description": "what the buyer may do now: " + BUYER_ACTS})


class BuyerAfterSalePageSchema(PageSchema):
    items = fields.List(fields.Nested(BuyerAfterSaleRowSchema))


class ReturnShipmentInSchema(StrictSchema):
    carrier = fields.Str(required=True, metadata={"description": "Kuaidi100 company code, e.g. shunfeng"})
    tracking_no = fields.Str(required=True, metadata={"description": "6-32 of A-Z 0-9 -"})


class EscalateInSchema(StrictSchema):
    statement = fields.Str(required=True, metadata={"description": f"1-{STATEMENT_MAX} characters"})
    images = fields.List(fields.Str(), load_default=list, validate=validate.Length(max=MAX_IMAGES),
                         metadata={"description": f"evidence: up to {MAX_IMAGES} {IMAGES_DESCRIPTION}"})


class DisputeMessageInSchema(StrictSchema):
    body = fields.Str(required=True, metadata={"description": f"1-{MESSAGE_MAX} characters"})
    images = fields.List(fields.Str(), load_default=list, validate=validate.Length(max=MAX_IMAGES),
                         metadata={"description": f"up to {MAX_IMAGES} {IMAGES_DESCRIPTION}"})


class DisputeMessageListSchema(Schema):
    items = fields.List(fields.Nested(DisputeMessageSchema), metadata={"description": "oldest first"})


# --- payloads ---------------------------------------------------------------------------------------

def _shipment(carrier: str | None, tracking_no: str | None, shipped_at) -> dict | None:
    if not tracking_no:
        return None
    return {"carrier": carrier, "carrier_name": carriers.name_for(carrier), "tracking_no": tracking_no,
            "shipped_at": shipped_at}


def row_payload(aftersale) -> dict:
    return {
        "aftersale_no": aftersale.aftersale_no, "order_no": aftersale.order.order_no,
        "merchant": {"id": aftersale.merchant.id, "name": aftersale.merchant.name},
        "kind": aftersale.kind, "kind_text": labels.KIND.label(aftersale.kind),
        "status": aftersale.status, "status_text": labels.AFTERSALE.label(aftersale.status, "buyer"),
        "refund_fen": aftersale.refund_fen, "quantity": aftersale.quantity,
        "lines": [{"order_item_id": line.order_item_id, "product_id": line.item.product_id, "title": line.item.title,
                   "spec_text": line.item.spec_text, "image_url": product_image_url(line.item.image_key),
                   "unit_price_fen": line.item.unit_price_fen, "quantity": line.quantity} for line in aftersale.lines],
        "due_at": aftersale.due_at, "created_at": aftersale.created_at,
    }


def _messages(dispute) -> list[dict]:
    return [{"side": m.side, "body": m.body, "image_count": len(m.images or []), "created_at": m.created_at}
            for m in dispute.messages]


def detail_payload(aftersale, actor: policies.Actor) -> dict:
    data = row_payload(aftersale)
    dispute = aftersale.dispute
    data.update({
        "actions": list(services.actions_for(aftersale, actor)),
        "reason": aftersale.reason, "reason_text": labels.reason_text(aftersale),
        "description": aftersale.description, "image_count": len(aftersale.images or []),
        "reject_reason": aftersale.reject_reason, "reapplied": aftersale.reapplied,
        "return_address": address_payload(aftersale.return_address) if aftersale.return_address else None,
        "return_shipment": _shipment(aftersale.return_carrier, aftersale.return_tracking_no, aftersale.returned_at),
        "replacement_shipment": _shipment(aftersale.replacement_carrier, aftersale.replacement_tracking_no,
                                          aftersale.replacement_shipped_at),
        "timeline": [{"from_status": e.from_status, "to_status": e.to_status, "note": e.note,
                      "created_at": e.created_at} for e in services.timeline(aftersale.id)],
        "dispute": None if dispute is None else {
            "statement": dispute.buyer_statement, "merchant_statement": dispute.merchant_statement,
            "ruling": dispute.ruling, "ruling_note": dispute.ruling_note, "ruled_at": dispute.ruled_at,
            "messages": _messages(dispute)},
    })
    return data


def _detail(buyer_id: int, aftersale_no: str) -> dict:
    db.session.expire_all()
    return detail_payload(services.for_buyer(buyer_id, aftersale_no), policies.buyer(buyer_id))


def _application(data: dict) -> applications.Application:
    return applications.Application(lines=[(line["order_item_id"], line["quantity"]) for line in data["items"]],
                                kind=data["kind"], reason=data["reason"], reason_text=data["reason_text"],
                                description=data["description"], images=decode_images(data["images"]))


def _buyer_action(action, aftersale_no: str) -> dict:
    """`action(buyer_id)` in a transaction, then the request as it is now."""
    buyer_id = api_user().id
    with transaction():
        action(buyer_id)
    return _detail(buyer_id, aftersale_no)


# --- routes ----------------------------------------------------------------------------------------

@blp.post("")
@bearer_operation(blp, (404, "order_not_found: not the buyer's order; invalid_items: not an item of it"),
                  (409, "aftersale_not_allowed: the window is over, the item has an open request, more units than "
                        "are left, or a kind other than refund_only before shipping"),
                  (422, "invalid (the body), invalid_reason (other without reason_text), invalid_image, "
                        "unsupported_image, image_too_large"))
@blp.arguments(AfterSaleApplyInSchema)
@blp.response(201, AfterSaleCreatedSchema)
def apply(data):
    """Ask for after-sales on items of one of the buyer's orders.

    A refund-only of a paid, unshipped order is approved at once when the shop allows
    it (its default): the answer's status is then `refunding`."""
    buyer_id = api_user().id
    application = _application(data)
    with transaction():
        order_services.for_buyer(buyer_id, data["order_no"])  # someone else's order: 404 order_not_found
        made = applications.apply(buyer_id, data["order_no"], application)
        out = {"aftersale_no": made.aftersale_no, "status": made.status, "refund_fen": made.refund_fen}
    return out


@blp.get("")
@bearer_operation(blp, 422)
@blp.arguments(AfterSaleListArgsSchema, location="query")
@blp.response(200, BuyerAfterSalePageSchema)
def list_aftersales(args):
    """The buyer's requests, newest first, by tab (`status`)."""
    buyer_id = api_user().id
    page = paginate(queries.of_buyer(buyer_id, args["status"]), args["page"], args["per_page"])
    return page_payload(page, [row_payload(a) for a in page.items])


@blp.get("/<aftersale_no>")
@bearer_operation(blp, (404, "aftersale_not_found"))
@blp.response(200, BuyerAfterSaleDetailSchema)
def get_aftersale(aftersale_no: str):
    """One of the buyer's requests: lines, reason, the return address once approved, the
    shipments, the timeline, the dispute and its thread, and `actions`."""
    return _detail(api_user().id, aftersale_no)


@blp.post("/<aftersale_no>/return-shipment")
@bearer_operation(blp, (404, "aftersale_not_found"), (409, "aftersale_cannot_act: not awaiting the return"),
                  (422, "invalid_carrier, invalid_tracking_no"))
@blp.arguments(ReturnShipmentInSchema)
@blp.response(200, BuyerAfterSaleDetailSchema)
def return_shipment(data, aftersale_no: str):
    """The buyer sent the goods back (status `returned`); the shop has 10 days to confirm the parcel."""
    return _buyer_action(lambda buyer_id: services.ship_back(buyer_id, aftersale_no, data["carrier"],
                                                             data["tracking_no"]), aftersale_no)


@blp.post("/<aftersale_no>/cancel")
@bearer_operation(blp, (404, "aftersale_not_found"), (409, "aftersale_cannot_act: refunded, shipped or ended already"))
@blp.response(200, BuyerAfterSaleDetailSchema)
def cancel(aftersale_no: str):
    """Withdraw the request (status `cancelled`); its items may be asked about again."""
    return _buyer_action(lambda buyer_id: services.cancel(buyer_id, aftersale_no), aftersale_no)


@blp.post("/<aftersale_no>/escalate")
@bearer_operation(blp, (404, "aftersale_not_found"),
                  (409, "aftersale_cannot_act: only after a rejection, or when the shop let its deadline for the "
                        "returned parcel pass"),
                  (422, "statement_required, too_many_images, invalid_image, unsupported_image"))
@blp.arguments(EscalateInSchema)
@blp.response(200, BuyerAfterSaleDetailSchema)
def escalate(data, aftersale_no: str):
    """平台介入: the platform steps in (status `disputed`); the thread opens."""
    images = decode_images(data["images"])
    return _buyer_action(lambda buyer_id: disputes.escalate(buyer_id, aftersale_no, data["statement"], images),
                         aftersale_no)


@blp.post("/<aftersale_no>/reapply")
@bearer_operation(blp, (404, "aftersale_not_found, invalid_items"),
                  (409, "aftersale_cannot_act (not rejected or closed), reapply_limit (3 times), "
                        "aftersale_not_allowed (the window is over)"),
                  (422, "invalid, invalid_reason, invalid_image, unsupported_image"))
@blp.arguments(AfterSaleRequestInSchema)
@blp.response(200, BuyerAfterSaleDetailSchema)
def reapply(data, aftersale_no: str):
    """Edit a rejected request (or one closed because nothing was shipped back) and send it
    again (status `pending`), at most 3 times; photos left out keep the earlier ones."""
    application = _application(data)
    return _buyer_action(lambda buyer_id: applications.reapply(buyer_id, aftersale_no, application), aftersale_no)


@blp.post("/<aftersale_no>/confirm-replacement")
@bearer_operation(blp, (404, "aftersale_not_found"), (409, "aftersale_cannot_act: no replacement shipped"))
@blp.response(200, BuyerAfterSaleDetailSchema)
def confirm_replacement(aftersale_no: str):
    """The exchange's replacement arrived (status `completed`)."""
    return _buyer_action(lambda buyer_id: services.confirm_replacement(buyer_id, aftersale_no), aftersale_no)


@blp.get("/<aftersale_no>/messages")
@bearer_operation(blp, (404, "aftersale_not_found"))
@blp.response(200, DisputeMessageListSchema)
def messages(aftersale_no: str):
    """The 平台介入 thread (buyer, shop and platform), oldest first; empty before escalating."""
    aftersale = services.for_buyer(api_user().id, aftersale_no)
    return {"items": _messages(aftersale.dispute) if aftersale.dispute is not None else []}


@blp.post("/<aftersale_no>/messages")
@bearer_operation(blp, (404, "aftersale_not_found"),
                  (409, "aftersale_cannot_act: not escalated, or the platform has ruled (the thread is closed)"),
                  (422, "message_required, too_many_images, invalid_image, unsupported_image"))
@blp.arguments(DisputeMessageInSchema)
@blp.response(201, DisputeMessageSchema)
def post_message(data, aftersale_no: str):
    """Write in the 平台介入 thread as the buyer, while the platform has not ruled."""
    buyer_id = api_user().id
    images = decode_images(data["images"])
    with transaction():
        aftersale = services.for_buyer(buyer_id, aftersale_no)
        message = disputes.post(aftersale, buyer_id, Side.BUYER, data["body"], images)
        out = {"side": message.side, "body": message.body, "image_count": len(message.images or []),
               "created_at": message.created_at}
    return out
