"""`/api/v1/flash-sales`: the running and upcoming 秒杀 items, and buying one.

`POST /flash-sales/{item_id}/buy` acts for the bearer token's user. Losers are
answered from Redis without touching the database: 409 `sold_out` or
`limit_reached`, 422 `not_started` or `ended`. A winner's order is made by the
normal checkout at the event price and answered like `POST /orders` (201 with the
payment and the order). The same `idempotency_key` again answers 201 with the first
payment and takes nothing more. Rules: app/flashsales/buying.py, docs/flash-sales.md.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.exceptions import UnprocessableEntity

from app.core.bounds import MAX_INT
from app.core.db import transaction
from app.core.errors import DomainError
from app.flashsales import buying, queries
from app.web.api import flash_refusals
from app.web.api.security import api_identity
from app.web.api.v1.access import bearer_operation
from app.web.api.v1.errors import invalid_body
from app.web.api.v1.orders import CheckoutOutSchema, checkout_payload
from app.web.api.v1.schemas import StrictSchema, id_field, int_field

blp = Blueprint("flash_sales", __name__, url_prefix="/flash-sales", description="秒杀: flash-sale items and buying them")
blp.errorhandler(UnprocessableEntity)(invalid_body)


class BuyInSchema(StrictSchema):
    quantity = int_field(-MAX_INT, load_default=1, strict=True, metadata={"description": "1..the item's per-buyer limit"})
    address_id = id_field(required=True, strict=True)
    idempotency_key = fields.Str(required=True, metadata={
        "description": "8-64 of A-Z a-z 0-9 _ -, new for each purchase the buyer means to make; "
                       "a repeat returns the first purchase's payment"})


class FlashItemSchema(Schema):
    item_id = fields.Int()
    flash_sale_id = fields.Int()
    title = fields.Str(metadata={"description": "the event's title"})
    product_id = fields.Int()
    sku_id = fields.Int()
    price_fen = fields.Int(metadata={"description": "the event price"})
    original_price_fen = fields.Int()
    stock_total = fields.Int()
    sold_percent = fields.Int(metadata={"description": "0..100, as PostgreSQL has it"})
    per_buyer_limit = fields.Int()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    running = fields.Bool()


class FlashItemListSchema(Schema):
    items = fields.List(fields.Nested(FlashItemSchema))


def _item(shown: queries.ShopItem) -> dict:
    item, sale = shown.item, shown.sale
    return {"item_id": item.id, "flash_sale_id": sale.id, "title": sale.title, "product_id": item.product_id,
            "sku_id": item.sku_id, "price_fen": item.price_fen, "original_price_fen": item.sku.price_fen,
            "stock_total": item.stock_total, "sold_percent": item.sold_percent,
            "per_buyer_limit": item.per_buyer_limit, "starts_at": sale.starts_at, "ends_at": sale.ends_at,
            "running": shown.running}


@blp.get("")
@blp.response(200, FlashItemListSchema)
def list_running():
    """Items of the events running now (soonest to end first, at most 20)."""
    return {"items": [_item(s) for s in queries.running(20)]}


@blp.post("/<int:item_id>/buy")
@bearer_operation(blp, (404, "flash_sale_item_not_found, address_not_found"),
                  (409, "sold_out, limit_reached, busy (the same key is still being handled), product_unavailable"),
                  (422, "not_started, ended, invalid_quantity, invalid"), cached=True)
@blp.arguments(BuyInSchema)
@blp.response(201, CheckoutOutSchema)
def buy(data, item_id: int):
    """Buy a flash-sale item: one payment and one order at the event price.

    Decided in Redis first (a Lua script checks the window, the buyer's limit and the
    units left, and takes them); PostgreSQL stays the truth and decides alone when
    Redis is unavailable. The caller's token may be vouched for by the token cache
    (Redis); the token is checked in PostgreSQL before anything is bought or shown."""
    try:
        with transaction():
            payment = buying.buy(api_identity(), item_id, data["quantity"], data["address_id"],
                                 data["idempotency_key"])
            answer = checkout_payload(payment)  # before the commit: no reading it all back after
    except DomainError as refused:  # the same for every buyer so refused: may be answered before Flask
        flash_refusals.offer(request.environ, refused.code)
        raise
    return answer
