"""`/api/v1/me`: the signed-in user."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from app.accounts import bindings, profile
from app.core.db import transaction
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.schemas import PhoneCodeSchema, StrictSchema, UserSchema
from app.web.api.v1.serializers import user_payload

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
