"""`/api/v1/auth`: codes, registration, sign-in and sign-out for the mini-program."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.accounts import services as accounts
from app.analytics import tracking
from app.core.db import transaction
from app.core.errors import Unauthorized
from app.core.urls import external_url
from app.web.api.security import bearer_token
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import error_responses
from app.web.api.v1.schemas import PhoneCodeSchema, TokenSchema
from app.web.api.v1.serializers import user_payload
from app.web.forms import client_ip

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-in and registration")


class SmsCodeIn(Schema):
    phone = fields.Str(required=True)
    purpose = fields.Str(required=True, validate=validate.OneOf(["register", "login", "reset", "bind"]))


def agree_terms_field():
    """Registration's consent: the app shows the user agreement (/terms) and the privacy
    policy (/privacy) with an unticked box and sends true only once the user ticked it."""
    return fields.Bool(required=True, validate=validate.Equal(True, error="请阅读并同意《用户协议》和《隐私政策》"),
                       metadata={"description": "must be true: the user ticked \"I have read and agree to the user "
                                                "agreement (/terms) and the privacy policy (/privacy)\"; the account "
                                                "records the time and the policy version"})


class SmsLoginIn(PhoneCodeSchema):
    pass


class PasswordResetIn(PhoneCodeSchema):
    password = fields.Str(required=True)


class PhoneRegisterIn(PhoneCodeSchema):
    password = fields.Str(required=True)
    agree_terms = agree_terms_field()


class PasswordLoginIn(Schema):
    account = fields.Str(required=True)
    password = fields.Str(required=True)


class EmailStartIn(Schema):
    email = fields.Str(required=True)


class EmailRegisterIn(Schema):
    token = fields.Str(required=True)
    password = fields.Str(required=True)
    agree_terms = agree_terms_field()


def token_reply(user, method: str, status: int = 200, **extra):
    """The token answer of every API sign-in; the events sent under the `X-Anon-Id`
    header before signing in become the user's."""
    with transaction():
        accounts.record_sign_in(user, f"api_{method}", client_ip(), None)
        tracking.merge_anonymous(request.headers.get("X-Anon-Id"), user.id)
        token = accounts.issue_api_token(user)
    return {"token": token, "user": user_payload(user), **extra}, status


@blp.post("/sms-codes")
@blp.arguments(SmsCodeIn)
@blp.response(202)
@error_responses(blp, (401, "purpose bind without a valid bearer token"),
                 (409, "already_registered (register), phone_taken (bind)"), 422, 429)
def send_sms_code(data):
    """Send a 6-digit code by SMS (60 s between sends, daily and hourly limits).
    Purpose `bind` (adding a phone to the signed-in account) needs the bearer token."""
    if data["purpose"] == "bind" and accounts.user_for_api_token(bearer_token() or "") is None:
        raise Unauthorized(_("请先登录"), code="unauthorized")
    with transaction():
        accounts.request_sms_code(data["phone"], data["purpose"], client_ip())
    return {}


@blp.post("/register/phone")
@blp.arguments(PhoneRegisterIn)
@blp.response(201, TokenSchema)
@error_responses(blp, 409, 422)
def register_phone(data):
    """Create an account with a phone number, the SMS code, a password and the user's consent
    (`agree_terms: true`)."""
    with transaction():
        user = accounts.register_with_phone(data["phone"], data["code"], data["password"],
                                            agreed_terms=data["agree_terms"])
    return token_reply(user, "register", 201)


@blp.post("/login/password")
@blp.arguments(PasswordLoginIn)
@blp.response(200, TokenSchema)
@error_responses(blp, (401, "invalid_credentials"), (403, "account_banned"), 429)
def login_password(data):
    """Sign in with a phone number or email and the password."""
    with transaction():
        user = accounts.authenticate_password(data["account"], data["password"], client_ip())
    return token_reply(user, "password")


@blp.post("/login/sms")
@blp.arguments(SmsLoginIn)
@blp.response(200, TokenSchema)
@error_responses(blp, (403, "account_banned"), 422)
def login_sms(data):
    """Sign in with a phone number and an SMS code."""
    with transaction():
        user = accounts.authenticate_sms(data["phone"], data["code"])
    return token_reply(user, "sms")


@blp.post("/email/start")
@blp.arguments(EmailStartIn)
@blp.response(202)
@error_responses(blp, 422,
                 (429, "email_too_soon (one a minute per address), " "rate_limited (per address a day, per client an hour)"))
def email_start(data):
    """Mail a registration link (the token in it is valid 24 hours, once)."""
    with transaction():
        accounts.start_email_registration(
            data["email"], lambda token: external_url("shop.register_email_finish", token=token),
            ip=client_ip(),
        )
    return {}


@blp.post("/register/email")
@blp.arguments(EmailRegisterIn)
@blp.response(201, TokenSchema)
@error_responses(blp, 409, 422)
def register_email(data):
    """Finish an email registration with the token from the mail, a password and the user's
    consent (`agree_terms: true`)."""
    with transaction():
        user = accounts.complete_email_registration(data["token"], data["password"],
                                                    agreed_terms=data["agree_terms"])
    return token_reply(user, "register", 201)


@blp.post("/password/reset")
@blp.arguments(PasswordResetIn)
@blp.response(200)
@error_responses(blp, 422)
def password_reset(data):
    """Set a new password with an SMS code; every session and token is signed out."""
    with transaction():
        accounts.reset_password_by_sms(data["phone"], data["code"], data["password"])
    return {"ok": True}


@blp.post("/logout")
@bearer_operation(blp, before_phone=True)
@blp.response(204)
def logout():
    """Revoke the token used for this request."""
    with transaction():
        accounts.revoke_api_token(bearer_token() or "")
    return None
