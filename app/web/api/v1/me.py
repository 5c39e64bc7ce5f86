"""`/api/v1/me`: the signed-in user."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.accounts import bindings
from app.core.db import transaction
from app.web.api.security import BEARER, api_user, token_required
from app.web.api.v1.errors import error_responses
from app.web.api.v1.schemas import UserSchema
from app.web.api.v1.serializers import user_payload

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


@blp.get("")
@token_required
@blp.response(200, UserSchema)
@error_responses(blp, 401)
@blp.doc(security=BEARER)
def me():
    return user_payload(api_user())


class BindPhoneIn(Schema):
    phone = fields.Str(required=True)
    code = fields.Str(required=True)


@blp.post("/phone")
@token_required
@blp.arguments(BindPhoneIn)
@blp.response(200, UserSchema)
@error_responses(blp, 401, 409, 422)
@blp.doc(security=BEARER)
def bind_phone(data):
    """Bind a phone to the signed-in account with a code sent for purpose `bind`."""
    user = api_user()
    with transaction():
        bindings.bind_phone(user, data["phone"], data["code"])
    return user_payload(user)
