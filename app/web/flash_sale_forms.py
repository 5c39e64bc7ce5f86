"""The 秒杀 event form shared by the admin and merchant consoles: what the form posts
(times as Asia/Shanghai `datetime-local`, prices in yuan, one row per SKU) turned into
what `app.flashsales.services.clean` checks, and the SKU search that adds a row."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.catalog.models import Product, Sku
from app.catalog.states import ProductStatus
from app.core.clock import SHANGHAI, to_local
from app.core.money import InvalidAmount, fen_to_yuan, yuan_to_fen
from app.extensions import db
from app.flashsales.models import FlashSale
from app.flashsales.states import MAX_ITEMS

SEARCH_LIMIT = 10


def _when(raw: str | None) -> datetime | None:
    try:
        return datetime.strptime((raw or "").strip()[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def parse(form) -> tuple[dict, dict, dict]:
    """(raw for services.clean, errors found while reading, values to show again)."""
    errors: dict[str, str] = {}
    rows = []
    sku_ids, prices, stocks, limits = (form.getlist(name)[:MAX_ITEMS + 1] for name in
                                        ("sku_id", "price", "stock", "per_buyer_limit"))
    for n, sku_id in enumerate(sku_ids):
        price = prices[n] if n < len(prices) else ""
        try:
            price_fen = yuan_to_fen(price) if price.strip() else None
        except InvalidAmount:
            price_fen = None
            errors[f"items.{n}.price_fen"] = _("请输入正确的金额，如 9.90")
        rows.append({"sku_id": sku_id, "price_fen": price_fen,
                     "stock": stocks[n] if n < len(stocks) else None,
                     "per_buyer_limit": limits[n] if n < len(limits) else None})
    raw = {"title": form.get("title", ""), "starts_at": _when(form.get("starts_at")),
           "ends_at": _when(form.get("ends_at")), "items": rows}
    values = {"title": form.get("title", ""), "starts_at": form.get("starts_at", ""),
              "ends_at": form.get("ends_at", ""),
              "rows": [{"sku_id": sku_ids[n], "price": prices[n] if n < len(prices) else "",
                        "stock": stocks[n] if n < len(stocks) else "",
                        "per_buyer_limit": limits[n] if n < len(limits) else ""} for n in range(len(sku_ids))]}
    return raw, errors, values


def values_of(sale: FlashSale) -> dict:
    """The form filled from a saved event (editing it)."""
    return {"title": sale.title, "starts_at": to_local(sale.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": to_local(sale.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "rows": [{"sku_id": i.sku_id, "price": fen_to_yuan(i.price_fen), "stock": i.stock_total,
                      "per_buyer_limit": i.per_buyer_limit} for i in sale.items]}


def sku_facts(values: dict) -> dict[int, Sku]:
    """The SKUs the form's rows name (with products), for their titles and prices."""
    ids = {int(r["sku_id"]) for r in values.get("rows", []) if str(r["sku_id"]).isdigit() and len(str(r["sku_id"])) < 10}
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(sa.select(Sku).where(Sku.id.in_(ids))
                                                  .options(selectinload(Sku.product)))}


def search_skus(q: str, merchant_id: int | None) -> list[Sku]:
    """On-sale SKUs whose product title matches `q` (a shop's own when merchant_id)."""
    q = (q or "").strip()[:40]
    if not q:
        return []
    stmt = (sa.select(Sku).join(Product).where(Product.status == ProductStatus.ON_SALE, Sku.active, Sku.stock > 0,
                                               Product.title.icontains(q, autoescape=True))
            .options(selectinload(Sku.product)).order_by(Product.id.desc(), Sku.id).limit(SEARCH_LIMIT))
    if merchant_id is not None:
        stmt = stmt.where(Product.merchant_id == merchant_id)
    return list(db.session.scalars(stmt))
