"""Sales dashboards: what the platform's and a shop's 30-day page cost at 100,000 paid
orders and again at 1,000,000 (goal: at most twice as much).

The dashboards read only the rollups and the behaviour events, so this fills those as a
year of orders would have: synthetic orders are generated in SQL (shops, buyers,
products, Shanghai days and hours, provinces), aggregated into the rollup tables with the
same grouping the receivers use (`app/analytics/rollups.py`), and three behaviour events
per order (product view, add to cart, pay) plus a search every other order are written
to `events`; then the days before yesterday settle, as the hourly job settles them
(`app/analytics/settled_days.py`). Buyers grow with the orders (one per ten orders), as
they would."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from app.accounts.models import User
from app.analytics import settled_days
from app.analytics.models import HourSales, KeywordDay, PeopleDay, ProvinceSales, SettledDay
from app.catalog.models import Category, Product
from app.extensions import db
from app.merchants.models import Merchant, MerchantMember

SHOPS = 50
PRODUCTS_PER_SHOP = 40
ORDERS_PER_BUYER = 10
SMALL, LARGE = 100_000, 1_000_000
PROVINCES = ("广东省", "浙江省", "江苏省", "上海市", "北京市", "山东省", "福建省", "四川省", "湖北省", "河南省",
             "湖南省", "安徽省", "河北省", "陕西省", "重庆市", "天津市", "辽宁省", "云南省", "广西壮族自治区", "江西省")


def seed_catalogue() -> tuple[int, str, str]:
    """Fifty shops of forty products; returns the first shop's id and the session ids of
    its owner and of an admin."""
    owner = User(phone="+8613500000000", nickname="压测店主")
    admin = User(phone="+8613500000001", nickname="压测运营", admin_role="super")
    leaf = Category(name="看板压测类目", depth=1)
    db.session.add_all([owner, admin, leaf])
    db.session.flush()
    shops = [Merchant(name=f"看板压测店{n:02d}", business_type="enterprise", company_name="压测",
                      credit_code="91350100M000100Y43", contact_name="压测", contact_phone="+8613700000000")
             for n in range(SHOPS)]
    db.session.add_all(shops)
    db.session.flush()
    db.session.add(MerchantMember(merchant_id=shops[0].id, user_id=owner.id, role="owner"))
    db.session.execute(sa.insert(Product), [
        {"merchant_id": shop.id, "category_id": leaf.id, "title": f"{shop.name}商品{p:02d}", "status": "on_sale",
         "search_text": f"{shop.name}商品{p:02d}", "price_fen": 1000 + p * 250}
        for shop in shops for p in range(PRODUCTS_PER_SHOP)])
    db.session.commit()
    return shops[0].id, owner.get_id(), admin.get_id()


def add_buyers(count: int) -> None:
    start = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    db.session.execute(sa.insert(User), [{"phone": f"+86139{start + n:08d}", "nickname": f"买家{start + n}"}
                                         for n in range(count)])
    db.session.commit()


def add_orders(count: int, seed: float) -> None:
    """`count` paid orders spread over the last 365 days, added to the rollups and events."""
    connection = db.session.connection()
    connection.execute(sa.text("SELECT setseed(:s)"), {"s": seed})
    first_shop = db.session.scalar(sa.select(sa.func.min(Merchant.id)).where(Merchant.name.like("看板压测店%")))
    first_product = db.session.scalar(sa.select(sa.func.min(Product.id)).where(Product.merchant_id == first_shop))
    buyers = db.session.execute(sa.text(
        "SELECT min(id), count(*) FROM users WHERE nickname LIKE '买家%'")).one()
    connection.execute(sa.text("DROP TABLE IF EXISTS bench_orders"))
    connection.execute(sa.text("""
        CREATE UNLOGGED TABLE bench_orders AS
        SELECT g AS n, s.shop AS merchant_id,
               :first_product + (s.shop - :first_shop) * :per_shop + floor(random() * :per_shop)::int AS product_id,
               :first_buyer + floor(random() * :buyers)::int AS buyer_id,
               now() - random() * interval '365 days' AS paid_at,
               (CAST(:provinces AS text[]))[1 + floor(random() * :n_provinces)::int] AS province,
               1 + floor(random() * 3)::int AS units
        FROM generate_series(1, :count) g
        CROSS JOIN LATERAL (SELECT :first_shop + floor(random() * :shops)::int + g * 0 AS shop) s
    """), {"count": count, "first_shop": first_shop, "shops": SHOPS, "first_product": first_product,
           "per_shop": PRODUCTS_PER_SHOP, "first_buyer": buyers[0], "buyers": buyers[1],
           "provinces": list(PROVINCES), "n_provinces": len(PROVINCES)})
    connection.execute(sa.text("""
        ALTER TABLE bench_orders ADD COLUMN day date, ADD COLUMN hour int, ADD COLUMN amount_fen int;
        UPDATE bench_orders o SET day = (o.paid_at AT TIME ZONE 'Asia/Shanghai')::date,
                                  hour = extract(hour FROM o.paid_at AT TIME ZONE 'Asia/Shanghai')::int,
                                  amount_fen = o.units * p.price_fen + 800
        FROM products p WHERE p.id = o.product_id;
    """))
    for statement in ROLLUPS:
        connection.execute(sa.text(statement))
    connection.execute(sa.text("DROP TABLE bench_orders"))
    # The days before yesterday settle (the hourly job). Orders added to days that had
    # settled, as this bench does, make those days settle again.
    for model in (SettledDay, PeopleDay, KeywordDay):
        db.session.execute(sa.delete(model))
    for model in (HourSales, ProvinceSales):
        db.session.execute(sa.delete(model).where(model.scope_id == settled_days.PLATFORM))
    db.session.commit()
    settled_days.settle_due(limit=None)
    # What autovacuum does on a running database: statistics, and the visibility map that
    # lets index-only scans skip the table.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("sales_days", "sales_buyer_days", "sales_first_purchases", "sales_product_days",
                      "sales_hours", "sales_provinces", "analytics_people_days", "analytics_keyword_days", "events"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))


# The rollup rows the receivers would have written for these orders, and their events.
ROLLUPS = (
    """INSERT INTO sales_days (merchant_id, day, paid_orders, units, gmv_fen, refund_fen, commission_fen)
       SELECT merchant_id, day, count(*), sum(units), sum(amount_fen), 0, 0 FROM bench_orders GROUP BY 1, 2
       ON CONFLICT (merchant_id, day) DO UPDATE SET paid_orders = sales_days.paid_orders + excluded.paid_orders,
           units = sales_days.units + excluded.units, gmv_fen = sales_days.gmv_fen + excluded.gmv_fen""",
    """INSERT INTO sales_buyer_days (merchant_id, day, buyer_id)
       SELECT DISTINCT merchant_id, day, buyer_id FROM bench_orders ON CONFLICT DO NOTHING""",
    """INSERT INTO sales_first_purchases (scope_id, buyer_id, day)
       SELECT merchant_id, buyer_id, min(day) FROM bench_orders GROUP BY 1, 2
       ON CONFLICT (scope_id, buyer_id) DO UPDATE SET day = LEAST(sales_first_purchases.day, excluded.day)""",
    """INSERT INTO sales_first_purchases (scope_id, buyer_id, day)
       SELECT 0, buyer_id, min(day) FROM bench_orders GROUP BY 2
       ON CONFLICT (scope_id, buyer_id) DO UPDATE SET day = LEAST(sales_first_purchases.day, excluded.day)""",
    """INSERT INTO sales_product_days (product_id, day, merchant_id, units, revenue_fen)
       SELECT product_id, day, merchant_id, sum(units), sum(amount_fen - 800) FROM bench_orders GROUP BY 1, 2, 3
       ON CONFLICT (product_id, day) DO UPDATE SET units = sales_product_days.units + excluded.units,
           revenue_fen = sales_product_days.revenue_fen + excluded.revenue_fen""",
    """INSERT INTO sales_hours (scope_id, day, hour, paid_orders)
       SELECT merchant_id, day, hour, count(*) FROM bench_orders GROUP BY 1, 2, 3
       ON CONFLICT (scope_id, day, hour) DO UPDATE SET paid_orders = sales_hours.paid_orders + excluded.paid_orders""",
    """INSERT INTO sales_provinces (scope_id, day, province, paid_orders, gmv_fen)
       SELECT merchant_id, day, province, count(*), sum(amount_fen) FROM bench_orders GROUP BY 1, 2, 3
       ON CONFLICT (scope_id, day, province) DO UPDATE
           SET paid_orders = sales_provinces.paid_orders + excluded.paid_orders,
               gmv_fen = sales_provinces.gmv_fen + excluded.gmv_fen""",
    """INSERT INTO events (type, user_id, product_id, merchant_id, path, props, created_at)
       SELECT kind, buyer_id, product_id, merchant_id, '/products/' || product_id, '{}',
              paid_at - (step * interval '3 minutes')
       FROM bench_orders CROSS JOIN (VALUES ('page_view', 3), ('add_to_cart', 2), ('pay', 0)) AS k(kind, step)""",
    """INSERT INTO events (type, user_id, query, props, created_at)
       SELECT 'search', buyer_id, '关键词' || (n % 300), json_build_object('results', CASE WHEN n % 7 = 0 THEN 0 ELSE 12 END),
              paid_at - interval '5 minutes'
       FROM bench_orders WHERE n % 2 = 0""",
)


def run(app, timed):
    _shop_id, owner_id, admin_id = seed_catalogue()
    admin, merchant = app.test_client(), app.test_client()
    for client, user_id in ((admin, admin_id), (merchant, owner_id)):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True

    def page(client, url):
        # The bench holds an app context, which requests would share: start each one as a
        # production request starts (no `g`, no session left from the one before).
        for name in list(g):
            g.pop(name)
        db.session.remove()
        assert client.get(url).status_code == 200

    def platform_page():
        page(admin, "/admin/stats?range=30d")

    def shop_page():
        page(merchant, "/merchant/stats?range=30d")

    add_buyers(SMALL // ORDERS_PER_BUYER)
    add_orders(SMALL, 0.11)
    small = (timed(platform_page, 7) * 1000, timed(shop_page, 7) * 1000)
    add_buyers((LARGE - SMALL) // ORDERS_PER_BUYER)
    add_orders(LARGE - SMALL, 0.22)
    large = (timed(platform_page, 7) * 1000, timed(shop_page, 7) * 1000)
    return [
        (f"platform dashboard, 30 days: {SMALL:,} vs {LARGE:,} orders", small[0], large[0], "ms"),
        (f"shop dashboard, 30 days: {SMALL:,} vs {LARGE:,} orders", small[1], large[1], "ms"),
    ]
