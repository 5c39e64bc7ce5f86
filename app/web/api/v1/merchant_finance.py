"""`/api/v1/merchant/balance`: the key's shop's money (merchant integrations, X-Api-Key),
read from the books (app/finance/merchant_funds.py). The three fields are pinned by
issue 14: a client may rely on exactly these."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.finance import merchant_funds
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation

blp = Blueprint("merchant_finance", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): authenticate with the X-Api-Key header")
blp.record_once(document_api_key)


class BalanceSchema(Schema):
    pending_fen = fields.Int(required=True, metadata={
        "description": "owed to the shop for orders whose after-sales window is still open (待结算)"})
    available_fen = fields.Int(required=True, metadata={
        "description": "settled and not yet withdrawn; withdrawals being processed are already taken off (可提现)"})
    withdrawn_fen = fields.Int(required=True, metadata={
        "description": "the amounts of the shop's paid withdrawals, all time (已提现)"})


@blp.get("/balance")
@api_key_operation(blp)
@blp.response(200, BalanceSchema)
def balance():
    """The key's shop's balances, in fen."""
    found = merchant_funds.balances(api_merchant().id)
    return {"pending_fen": found.pending_fen, "available_fen": found.available_fen,
            "withdrawn_fen": found.withdrawn_fen}
