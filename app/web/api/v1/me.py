"""`/api/v1/me`: the signed-in user."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.accounts import bindings, deletion, profile
from app.core.db import transaction
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.schemas import PhoneCodeSchema, StrictSchema, UserSchema
from app.web.api.v1.serializers import user_payload
from app.web.forms import client_ip

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


@blp.get("")
@bearer_operation(blp, before_phone=True)
@blp.response(200, UserSchema)
def me():
    return user_payload(api_user())


class MarketingIn(StrictSchema):
    accepts = fields.Bool(required=True, metadata={"description": "false: no marketing message reaches the user"})


@blp.put("/marketing")
@bearer_operation(blp, 422)
@blp.arguments(MarketingIn)
@blp.response(200, UserSchema)
def set_marketing(data):
    """Turn marketing messages (segment messages from the platform and shops) on or off."""
    user = api_user()
    with transaction():
        profile.set_marketing(user, data["accepts"])
    return user_payload(user)


class BindPhoneIn(PhoneCodeSchema):
    pass


@blp.post("/phone")
@bearer_operation(blp, 409, 422, before_phone=True)
@blp.arguments(BindPhoneIn)
@blp.response(200, UserSchema)
def bind_phone(data):
    """Bind a phone to the signed-in account with a code sent for purpose `bind`."""
    user = api_user()
    with transaction():
        bindings.bind_phone(user, data["phone"], data["code"])
    return user_payload(user)


# --- 注销账号: deleting one's own account (app/accounts/deletion.py) ---------------------------

class BlockerSchema(Schema):
    code = fields.Str(metadata={"description": "unfinished_orders, pending_withdrawals, commission_balance, "
                                               "owns_shop, application_in_review, admin"})
    message = fields.Str()
    link = fields.Str(allow_none=True, metadata={"description": "the shop page where it can be finished"})


class DeletionSchema(Schema):
    can_delete = fields.Bool(metadata={"description": "nothing stands in the way (the confirmation still must)"})
    confirm_with = fields.Str(allow_none=True, metadata={
        "description": "password, sms (a code sent by POST /me/deletion/code to the account's own phone), "
                       "or null: set a password or bind a phone first"})
    blockers = fields.List(fields.Nested(BlockerSchema))


class DeleteIn(StrictSchema):
    password = fields.Str(load_default=None, metadata={"description": "when confirm_with is password"})
    code = fields.Str(load_default=None, metadata={"description": "when confirm_with is sms"})


@blp.get("/deletion")
@bearer_operation(blp, before_phone=True)
@blp.response(200, DeletionSchema)
def deletion_state():
    """What deleting the account would need now: what still stands in the way, and how
    the owner confirms. What deleting removes and keeps: docs/decisions.md."""
    user = api_user()
    found = deletion.blockers(user)
    return {"can_delete": not found, "confirm_with": deletion.confirmation_method(user),
            "blockers": [{"code": b.code, "message": b.message, "link": b.link} for b in found]}


@blp.post("/deletion/code")
@bearer_operation(blp, (422, "no_phone, invalid_method (the account confirms with its password)"),
                  (429, "too many codes"), before_phone=True)
@blp.response(202)
def deletion_code():
    """Send the confirmation code to the account's own phone (accounts without a password)."""
    with transaction():
        deletion.send_code(api_user(), client_ip())
    return None


@blp.post("/deletion")
@bearer_operation(blp, (409, "cannot_delete (something is under way: see GET /me/deletion), already_deleted"),
                  (422, "wrong_password, invalid_code, code_expired, cannot_confirm"),
                  (429, "too many wrong passwords"), before_phone=True)
@blp.arguments(DeleteIn)
@blp.response(204)
def delete_me(data):
    """Delete the signed-in account (注销账号), confirmed with its password or the code.
    Every token of the account stops working; orders stay, showing 已注销用户."""
    with transaction():
        deletion.delete_account(api_user(), password=data["password"], code=data["code"])
    return None
