"""`/api/v1/auth/login/wechat-mp`: sign in from the WeChat mini-program.

The mini-program calls `wx.login()` and posts the code; we trade it for the
openid (and unionid) with WeChat and answer with our own bearer token. The
WeChat `session_key` never leaves the server.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts import identities
from app.accounts.oauth import wechat_mp
from app.accounts.states import IdentityProvider
from app.core.db import transaction
from app.web.api.v1.auth import token_reply
from app.web.api.v1.errors import error_responses
from app.web.api.v1.schemas import TokenSchema

blp = Blueprint("auth_wechat", __name__, url_prefix="/auth", description="WeChat mini-program sign-in")


class WechatMpLoginIn(Schema):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=128))
    agree_terms = fields.Bool(load_default=False, metadata={
        "description": "true once the user ticked \"I have read and agree to the user agreement (/terms) and the "
                       "privacy policy (/privacy)\"; required to create an account (a first sign-in without it is "
                       "a 422 terms_not_accepted), not needed to sign in to an existing one"})


class WechatMpTokenSchema(TokenSchema):
    is_new = fields.Bool()
    phone_required = fields.Bool()


@blp.post("/login/wechat-mp")
@blp.arguments(WechatMpLoginIn)
@blp.response(200, WechatMpTokenSchema)
@error_responses(blp, 403, 422, 429, 502, 503)
def login_wechat_mp(data):
    """Sign in with a `wx.login()` code; the first sign-in creates the account (`is_new`),
    which needs `agree_terms: true`.

    `phone_required` is true when the platform asks third-party accounts to
    bind a phone number (setting `require_phone_for_third_party`) and this
    account has none yet.
    """
    session = wechat_mp.code2session(data["code"])
    with transaction():
        user, is_new = identities.sign_in_with_identity(IdentityProvider.WECHAT_MP, session.openid,
                                                        unionid=session.unionid, agreed_terms=data["agree_terms"])
    return token_reply(user, "wechat_mp", is_new=is_new, phone_required=identities.needs_phone(user))
