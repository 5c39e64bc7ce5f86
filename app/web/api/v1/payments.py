"""`/api/v1/payments/{out_trade_no}/pay`: start paying a checkout with a gateway.

Answers what the client needs to collect the money: `pay_url` (sandbox, Alipay),
`request_payment` (the `wx.requestPayment` arguments for WeChat Pay jsapi in the
mini-program), `code_url` (WeChat native QR) or `h5_url` (WeChat h5), with the
`out_trade_no` and `amount_fen` to show. When some orders of the checkout were
cancelled meanwhile, the rest are re-grouped under a new `out_trade_no`; pay that one.
For WeChat Pay jsapi the buyer's mini-program openid (their `wechat_mp` identity,
stored when they signed in with WeChat) is sent as the payer. Someone else's
payment answers 404 `payment_not_found`.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.exceptions import UnprocessableEntity

from app.accounts.models import Identity
from app.accounts.states import IdentityProvider
from app.core.db import transaction
from app.core.urls import public_url
from app.extensions import db
from app.payments import services as payments
from app.web.api.security import api_user
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.schemas import StrictSchema

blp = Blueprint("payments_api", __name__, url_prefix="/payments", description="Paying a checkout")
blp.errorhandler(UnprocessableEntity)(invalid_body)

# The keys of WeChat Pay's jsapi answer, passed to wx.requestPayment as they are.
REQUEST_PAYMENT_KEYS = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")


class PayInSchema(StrictSchema):
    provider = fields.Str(required=True, metadata={"description": "wechatpay | alipay | sandbox (where enabled)"})
    channel = fields.Str(metadata={"description": "wechatpay: jsapi (default) | native | h5; alipay: wap (default) "
                                                  "| page; sandbox: page"})


class RequestPaymentSchema(Schema):
    appId = fields.Str()  # WeChat's own names, passed through
    timeStamp = fields.Str()
    nonceStr = fields.Str()
    package = fields.Str()
    signType = fields.Str()
    paySign = fields.Str()


class PayOutSchema(Schema):
    out_trade_no = fields.Str(metadata={"description": "may differ from the path (re-grouped checkout)"})
    amount_fen = fields.Int()
    provider = fields.Str()
    channel = fields.Str()
    pay_url = fields.Str(metadata={"description": "sandbox and Alipay: open this page"})
    request_payment = fields.Nested(RequestPaymentSchema, metadata={"description": "WeChat jsapi: wx.requestPayment(...)"})
    code_url = fields.Str(metadata={"description": "WeChat native: show as a QR code"})
    h5_url = fields.Str(metadata={"description": "WeChat h5: open in the phone browser"})


def mini_program_openid(user_id: int) -> str | None:
    return db.session.scalar(sa.select(Identity.subject).where(
        Identity.user_id == user_id, Identity.provider == IdentityProvider.WECHAT_MP).limit(1))


def _client_reply(started: dict) -> dict:
    out = {k: v for k, v in started.items() if k not in REQUEST_PAYMENT_KEYS}
    if any(k in started for k in REQUEST_PAYMENT_KEYS):
        out["request_payment"] = {k: started[k] for k in REQUEST_PAYMENT_KEYS if k in started}
    if str(out.get("pay_url", "")).startswith("/"):
        out["pay_url"] = public_url(out["pay_url"])
    return out


@blp.post("/<out_trade_no>/pay")
@bearer_operation(blp, (404, "payment_not_found"),
                  (409, "already_paid, payment_closed, provider_unavailable, invalid_channel"), 422)
@blp.arguments(PayInSchema)
@blp.response(200, PayOutSchema)
def pay(data, out_trade_no: str):
    """Start paying a pending checkout with the chosen gateway."""
    buyer = api_user()
    with transaction():
        started = payments.start(buyer, out_trade_no, data["provider"], data.get("channel"),
                                 openid=mini_program_openid(buyer.id), client_ip=request.remote_addr)
    return _client_reply(started)
