"""`/api/v1/merchant/stats`: the shop's sales figures for a range of days (merchant
integrations, X-Api-Key). Days are Asia/Shanghai dates, both ends included; the figures
come from the sales rollups (app/analytics/figures.py), so a year costs what a day does."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validates_schema
from werkzeug.exceptions import UnprocessableEntity

from app.analytics import figures
from app.web.api.merchant_security import api_merchant, document_api_key
from app.web.api.v1.access import api_key_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.schemas import StrictSchema

blp = Blueprint("merchant_stats", __name__, url_prefix="/merchant",
                description="Merchant integrations (ERP): authenticate with the X-Api-Key header")
blp.record_once(document_api_key)
blp.errorhandler(UnprocessableEntity)(invalid_body)


class StatsArgsSchema(StrictSchema):
    from_ = fields.Date(data_key="from", required=True, metadata={"description": "first day, YYYY-MM-DD (Shanghai)"})
    to = fields.Date(required=True, metadata={"description": f"last day, YYYY-MM-DD, at most {figures.MAX_DAYS} days on"})

    @validates_schema
    def range_is_sane(self, data, **_kwargs):
        first, last = data.get("from_"), data.get("to")
        if first and last and last < first:
            raise ValidationError(_("结束日期不能早于开始日期"), "to")
        if first and last and (last - first).days + 1 > figures.MAX_DAYS:
            raise ValidationError(_("查询范围最多 %(n)d 天", n=figures.MAX_DAYS), "to")


class StatsSchema(Schema):
    paid_orders = fields.Int(metadata={"description": "orders whose payment arrived in the range"})
    units = fields.Int(metadata={"description": "units in those orders"})
    gmv_fen = fields.Int(metadata={"description": "what buyers paid for them, shipping included"})
    refund_fen = fields.Int(metadata={"description": "refunds the gateway confirmed in the range"})
    aov_fen = fields.Int(metadata={"description": "gmv_fen / paid_orders, rounded half up (0 with no orders)"})
    paying_buyers = fields.Int(metadata={"description": "distinct buyers who paid in the range"})


@blp.get("/stats")
@api_key_operation(blp, (422, "invalid: from / to missing, not YYYY-MM-DD, reversed or over 366 days"))
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, StatsSchema)
def stats(args):
    """The key's shop's sales figures for the days `from`..`to` (both included)."""
    return figures.for_days(args["from_"], args["to"], api_merchant().id).as_dict()
