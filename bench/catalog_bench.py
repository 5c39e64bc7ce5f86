"""Catalog: what the trigram index buys Chinese substring search on PostgreSQL
(the same ILIKE query with the index, then with index scans switched off), and
what the stock service's conditional UPDATE costs next to a plain one."""
from __future__ import annotations

import random

import sqlalchemy as sa

from app.catalog.models import Category, Product, Sku
from app.extensions import db
from app.merchants.models import Merchant

PRODUCTS = 50_000
QUERY = "蓝牙耳机"  # put in 1 product in 500: a selective search, as real ones are


def seed() -> int:
    merchant = Merchant(name="压测店铺", business_type="enterprise", company_name="压测", credit_code="91350100M000100Y43",
                        contact_name="压测", contact_phone="+8613700000000")
    leaf = Category(name="压测类目", depth=1)
    db.session.add_all([merchant, leaf])
    db.session.flush()
    rng = random.Random(7)
    rows = []
    for n in range(PRODUCTS):
        # Titles of common CJK characters, so trigrams are as varied as in a real catalog.
        title = "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(rng.randint(8, 16)))
        if n % 500 == 0:
            title = title[:4] + QUERY + title[4:]
        rows.append({"merchant_id": merchant.id, "category_id": leaf.id, "title": title[:60], "status": "on_sale",
                     "search_text": title.lower(), "price_fen": rng.randint(100, 99900)})
    db.session.execute(sa.insert(Product), rows)
    product_id = db.session.scalar(sa.select(sa.func.min(Product.id)))
    db.session.add(Sku(product_id=product_id, spec_values={}, spec_key="", price_fen=100, stock=10**9))
    db.session.commit()
    db.session.execute(sa.text("ANALYZE products"))
    db.session.commit()
    return db.session.scalar(sa.select(Sku.id).where(Sku.product_id == product_id))


def run(app, timed):
    sku_id = seed()
    query = sa.select(sa.func.count(Product.id)).where(Product.search_text.ilike(f"%{QUERY}%"))

    def search():
        db.session.scalar(query)

    indexed = timed(search, 30) * 1000
    db.session.execute(sa.text("SET enable_bitmapscan = off"))
    db.session.execute(sa.text("SET enable_indexscan = off"))
    # psycopg prepares a statement after a few runs, and a prepared plan outlives
    # the SETs above: the scan gets its own statement text, so it is planned anew.
    scan_query = sa.select(sa.func.count(Product.id).label("scanned")).where(Product.search_text.ilike(f"%{QUERY}%"))

    def scan():
        db.session.scalar(scan_query)

    scanned = timed(scan, 30) * 1000
    db.session.rollback()

    def guarded():
        db.session.execute(sa.update(Sku).where(Sku.id == sku_id, Sku.stock >= 1).values(stock=Sku.stock - 1))
        db.session.commit()

    def plain():
        db.session.execute(sa.update(Sku).where(Sku.id == sku_id).values(stock=Sku.stock - 1))
        db.session.commit()

    plain_ms = timed(plain, 200) * 1000
    guarded_ms = timed(guarded, 200) * 1000
    return [
        (f"search '%{QUERY}%' in {PRODUCTS} products: trigram index vs seq scan", indexed, scanned, "ms"),
        ("stock UPDATE: plain vs conditional (stock >= n)", plain_ms, guarded_ms, "ms"),
    ]
