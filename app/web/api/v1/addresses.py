"""`/api/v1/addresses`: the signed-in user's address book."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.accounts import addresses
from app.core.db import transaction
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation

blp = Blueprint("addresses", __name__, url_prefix="/addresses", description="Address book")


class AddressSchema(Schema):
    id = fields.Int(dump_only=True)
    recipient = fields.Str(required=True)
    phone = fields.Str(required=True)
    province_code = fields.Str(required=True)
    province = fields.Str(dump_only=True)
    city_code = fields.Str(required=True)
    city = fields.Str(dump_only=True)
    district_code = fields.Str(required=True)
    district = fields.Str(dump_only=True)
    detail = fields.Str(required=True)
    is_default = fields.Bool(load_default=False)


class AddressPatchSchema(AddressSchema):
    class Meta:
        partial = True


class AddressListSchema(Schema):
    items = fields.List(fields.Nested(AddressSchema))


def _out(address) -> dict:
    data = AddressSchema().dump(address)
    data["phone"] = address.phone[3:] if address.phone.startswith("+86") else address.phone
    return data


@blp.get("")
@bearer_operation(blp)
@blp.response(200, AddressListSchema)
def list_addresses():
    return {"items": [_out(a) for a in addresses.list_for(api_user().id)]}


@blp.post("")
@bearer_operation(blp, 422)
@blp.arguments(AddressSchema)
@blp.response(201, AddressSchema)
def create_address(data):
    with transaction():
        address = addresses.add(api_user().id, data)
    return _out(address)


@blp.patch("/<int:address_id>")
@bearer_operation(blp, 404, 422)
@blp.arguments(AddressPatchSchema(partial=True))
@blp.response(200, AddressSchema)
def update_address(data, address_id: int):
    with transaction():
        address = addresses.update(api_user().id, address_id, data)
    return _out(address)


@blp.delete("/<int:address_id>")
@bearer_operation(blp, 404)
@blp.response(204)
def delete_address(address_id: int):
    with transaction():
        addresses.delete(api_user().id, address_id)
    return None
