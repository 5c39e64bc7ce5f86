"""`/api/v1/me`: the signed-in user."""
from __future__ import annotations

from flask_smorest import Blueprint

from app.web.api.security import api_user, token_required
from app.web.api.v1.schemas import ErrorSchema, UserSchema
from app.web.api.v1.serializers import user_payload

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


@blp.get("")
@blp.response(200, UserSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.doc(security=[{"bearer": []}])
@token_required
def me():
    return user_payload(api_user())
