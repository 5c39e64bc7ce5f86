"""`/api/v1/merchant/shop`: the shop an API key acts for (merchant integrations)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.aftersales import services as aftersale_services
from app.core.urls import external_url
from app.merchants.models import Merchant
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation

blp = Blueprint("merchant_shop", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): authenticate with the X-Api-Key header")
blp.record_once(document_api_key)


class ContactSchema(Schema):
    name = fields.Str()
    phone = fields.Str(metadata={"description": "11-digit mainland mobile number"})


class ReturnAddressSchema(Schema):
    recipient = fields.Str()
    phone = fields.Str()
    address = fields.Str()


class ShippingRuleSchema(Schema):
    flat_fee_fen = fields.Int(metadata={"description": "Shipping fee per order, in fen"})
    free_threshold_fen = fields.Int(allow_none=True, metadata={
        "description": "Orders whose items reach this amount (fen) ship free; null = never free"})


class MerchantShopSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    status = fields.Str(metadata={"description": "active | suspended | closed"})
    status_reason = fields.Str(allow_none=True)
    suspended_until = fields.DateTime(allow_none=True, metadata={"description": "null while suspended until lifted"})
    description = fields.Str()
    logo_url = fields.Str(allow_none=True)
    contact = fields.Nested(ContactSchema)
    return_address = fields.Nested(ReturnAddressSchema, allow_none=True, metadata={
        "description": "the default return address (GET /merchant/return-addresses lists them all)"})
    shipping = fields.Nested(ShippingRuleSchema)
    stock_alert_channels = fields.List(fields.Str(), metadata={"description": "any of insite, sms, email"})


def _local(phone: str | None) -> str:
    return phone[3:] if phone and phone.startswith("+86") else (phone or "")


def shop_payload(merchant: Merchant) -> dict:
    logo_url = None
    if merchant.logo_key:
        logo_url = external_url("shop.logo", name=merchant.logo_key.split("/", 1)[1])
    # The default of the shop's return addresses (GET /merchant/return-addresses lists them
    # all), else the one on its profile from before the address book.
    return_address = aftersale_services.default_address(merchant.id)
    if return_address is not None:
        return_address = {**return_address, "phone": _local(return_address.get("phone"))}
    return {
        "id": merchant.id,
        "name": merchant.name,
        "status": merchant.status,
        "status_reason": merchant.status_reason,
        "suspended_until": merchant.suspended_until,
        "description": merchant.description or "",
        "logo_url": logo_url,
        "contact": {"name": merchant.contact_name, "phone": _local(merchant.contact_phone)},
        "return_address": return_address,
        "shipping": {"flat_fee_fen": merchant.shipping_flat_fen,
                     "free_threshold_fen": merchant.free_shipping_threshold_fen},
        "stock_alert_channels": list(merchant.stock_alert_channels or []),
    }


@blp.get("/shop")
@api_key_operation(blp)
@blp.response(200, MerchantShopSchema)
def shop():
    """The key's own shop. There is no id to pass: a key only ever sees its merchant."""
    return shop_payload(api_merchant())
