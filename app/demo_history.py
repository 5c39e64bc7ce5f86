"""Months of shop life for the demo, so every chart, rule and segment has something to
show on first start (`flask seed-demo`, part of `make run`).

Thirty history customers in different provinces, of four kinds, buy from the three demo
shops over `DEMO_HISTORY_DAYS` days (120 by default) at the hours people buy:
- 常客: an order every week or so, the whole time;
- 老客 gone quiet: several orders in the first half, none since;
- 新客: a first order in the last two weeks;
- occasional buyers: one to three orders;
plus browsers who view and add to the cart but never buy, and anonymous visitors.
Orders go through the real checkout, sandbox payment, shipping and receipt, with the
app's clock moved to their moment, so the rollups, events, commissions (some customers
came through the demo sharer's link) and first purchases are what the live shop makes;
about one paid order in fifteen is cancelled and refunded by the platform a day later.
Views, carts and searches (a few finding nothing) surround them as track.js would send.
Seeded once: the first history customer's account marks it done.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts import addresses, regions
from app.accounts.models import User
from app.accounts.services import find_by_phone
from app.aftersales import platform
from app.analytics.models import Event
from app.catalog.models import Product, Sku
from app.core.clock import SHANGHAI, travel, utcnow
from app.core.db import transaction
from app.distribution import commissions, distributors, referrals
from app.extensions import db
from app.finance import ledger, merchant_withdrawals
from app.finance.states import AccountKind
from app.inventory import services as inventory
from app.merchants.models import MerchantMember
from app.orders import checkout
from app.orders import services as order_services
from app.orders.models import Order
from app.payments import services as payments

CUSTOMERS = 30
BROWSERS = 8
FIRST_PHONE = 13910000000
PROVINCES = ("310000", "440000", "330000", "320000", "110000", "510000", "420000", "350000", "370000", "610000")
# Weights of the hours people pay at: a lunch bump and an evening peak.
HOUR_WEIGHTS = [1, 1, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 8, 6, 5, 5, 5, 6, 7, 9, 11, 12, 9, 4]
SEARCHES = ("苹果", "车厘子", "坚果", "耳机", "茶", "杯子", "猕猴桃", "充电宝", "橙子", "礼盒")
NOTHING_FOUND = ("榴莲千层", "手机壳 iPhone 17", "螺蛳粉", "电动牙刷头")


def seed() -> int:
    """Make the history unless it exists; returns the orders made."""
    days = int(current_app.config.get("DEMO_HISTORY_DAYS", 120))
    if days <= 0 or find_by_phone(f"+86{FIRST_PHONE}") is not None:
        return 0
    rng = random.Random(2026)
    with transaction():
        customers, browsers = _people(rng)
        skus = _stocked_skus()
        owners = dict(db.session.execute(sa.select(MerchantMember.merchant_id, MerchantMember.user_id)
                                         .where(MerchantMember.role == "owner")).all())
        sharer = distributors.open_centre(find_by_phone("+8613900000002"))
        for customer in customers[::3]:  # a third came through the sharer's link
            referrals.bind(customer["user"], sharer.code, "link", is_new_user=True)
    today = utcnow().astimezone(SHANGHAI).date()
    plan = sorted(_plan(rng, customers, days, today), key=lambda visit: visit[0])
    admin = find_by_phone("+8613800000001")
    made = 0
    for moment, customer in plan:
        made += _order(rng, moment, customer, skus, owners, admin)
    _browsing(rng, browsers, today)
    _withdrawals(admin, owners)
    return made


def _people(rng: random.Random) -> tuple[list[dict], list[User]]:
    kinds = ["regular"] * 8 + ["lapsed"] * 6 + ["new"] * 6 + ["occasional"] * 10
    customers = []
    for n, kind in enumerate(kinds):
        phone = str(FIRST_PHONE + n)
        user = User(phone=f"+86{phone}", nickname=f"历史顾客{n + 1:02d}")
        db.session.add(user)
        db.session.flush()
        province = PROVINCES[n % len(PROVINCES)]
        city = regions.children(province)[0]
        district = regions.children(city["code"])[0]
        address = addresses.add(user.id, {
            "recipient": f"顾客{n + 1:02d}", "phone": phone, "province_code": province, "city_code": city["code"],
            "district_code": district["code"], "detail": f"演示路 {n + 1} 号", "is_default": True})
        customers.append({"user": user, "address_id": address.id, "kind": kind})
    browsers = [User(phone=f"+86{FIRST_PHONE + 100 + n}", nickname=f"逛逛{n + 1:02d}") for n in range(BROWSERS)]
    db.session.add_all(browsers)
    db.session.flush()
    return customers, browsers


def _stocked_skus() -> list[tuple[int, int]]:
    """(sku, product) of every on-sale product's first SKU, each stocked for the history."""
    rows = db.session.execute(sa.select(Sku.id, Sku.product_id).join(Product).where(Product.status == "on_sale")
                              .order_by(Product.id, Sku.id)).all()
    first = {}
    for sku_id, product_id in rows:
        first.setdefault(product_id, sku_id)
    for sku_id in first.values():
        inventory.adjust(sku_id, 300, None, "演示：历史订单备货")
    return [(sku_id, product_id) for product_id, sku_id in first.items()]


def _moment(rng: random.Random, day) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return datetime.combine(day, time(hour, rng.randrange(60)), SHANGHAI)


def _plan(rng: random.Random, customers: list[dict], days: int, today) -> list[tuple[datetime, dict]]:
    """When each customer orders, by kind (days ago, then a moment that day)."""
    for customer in customers:
        kind = customer["kind"]
        if kind == "regular":
            offsets, ago = [], days - rng.randrange(7)
            while ago > 1:
                offsets.append(ago)
                ago -= rng.randint(5, 10)
        elif kind == "lapsed":
            offsets = rng.sample(range(days // 2, days), min(4, days - days // 2))
        elif kind == "new":
            offsets = [rng.randint(2, max(2, min(14, days)))]
        else:
            offsets = rng.sample(range(2, max(3, days)), min(rng.randint(1, 3), max(1, days - 2)))
        customer["moments"] = [_moment(rng, today - timedelta(days=ago)) for ago in offsets]
    return [(moment, customer) for customer in customers for moment in customer["moments"]]


def _order(rng: random.Random, moment: datetime, customer: dict, skus: list[tuple[int, int]], owners: dict,
           admin: User) -> int:
    """One checkout at `moment`: viewed, carted, paid, shipped and received over the next
    days (or refunded by the platform); its events as the shop would have recorded them."""
    user = customer["user"]
    lines = rng.sample(skus, rng.choice((1, 1, 2, 2, 3)) if customer["kind"] == "regular" else rng.choice((1, 1, 2)))
    before = moment - timedelta(minutes=rng.randint(3, 40))
    _events([{"type": "page_view", "user_id": user.id, "product_id": product_id, "at": before,
              "dwell_ms": rng.randint(4000, 90000)} for _sku, product_id in lines]
            + [{"type": "add_to_cart", "user_id": user.id, "product_id": product_id, "at": before + timedelta(minutes=1)}
               for _sku, product_id in lines]
            + [{"type": "search", "user_id": user.id, "query": rng.choice(SEARCHES), "results": 3,
                "at": before - timedelta(minutes=2)}])
    with travel(moment - utcnow()), transaction():
        payment = checkout.submit(user, [(sku_id, rng.choice((1, 1, 2))) for sku_id, _p in lines],
                                  customer["address_id"], {}, f"demo-history-{user.id}-{moment:%Y%m%d%H%M}")
        payments.apply_success(payment, "sandbox", f"SBHIST{payment.id:08d}")
    orders = list(db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id)))
    for order in orders:
        if rng.random() < 1 / 15:
            with travel(moment + timedelta(hours=20) - utcnow()), transaction():
                platform.cancel_and_refund(admin, order.order_no, None, "缺货，平台取消并退款")
            continue
        shipped, received = moment + timedelta(hours=rng.randint(3, 30)), moment + timedelta(days=rng.randint(2, 5))
        if received >= utcnow():
            continue  # still on its way
        with travel(shipped - utcnow()), transaction():
            order_services.ship(owners[order.merchant_id], order.merchant_id, order.order_no, "shunfeng",
                                f"SF17{order.id:011d}")
        with travel(received - utcnow()), transaction():
            order_services.confirm_receipt(user.id, order.order_no)
        _settle_commissions(received + timedelta(days=8))
        _complete(order.id, received + timedelta(days=8))
    return len(orders)


def _complete(order_id: int, at: datetime) -> None:
    """The hourly sweep, run at `at` when that is in the past: the order completes and its
    money is the shop's to withdraw (less the platform's fee)."""
    if at >= utcnow():
        return
    with travel(at - utcnow()), transaction():
        order_services.complete(order_id)


def _withdrawals(admin: User, owners: dict) -> None:
    """The shops asked for some of their money: the first was paid, the others wait for
    finance (the 商家提现 queue has work)."""
    for n, (merchant_id, owner_id) in enumerate(sorted(owners.items())):
        available = ledger.shown_balance(AccountKind.MERCHANT_AVAILABLE, merchant_id)
        if available < 2 * merchant_withdrawals.minimum_fen():
            continue
        with travel(timedelta(days=-2)), transaction():
            withdrawal = merchant_withdrawals.request(db.session.get(User, owner_id), merchant_id, {
                "amount": f"{available // 200:.2f}", "method": "bank", "account_name": "示例商贸有限公司",
                "account_no": f"62220210{merchant_id:011d}", "bank_name": "中国工商银行杭州分行"})
        if n == 0:
            with travel(timedelta(days=-1)), transaction():
                merchant_withdrawals.approve(admin, withdrawal.id)
                merchant_withdrawals.mark_paid(admin, withdrawal.id, f"ICBC2026{withdrawal.id:08d}")


def _settle_commissions(at: datetime) -> None:
    """The hourly sweep, run at `at` when that is in the past: commissions due settle then."""
    if at >= utcnow():
        return
    with travel(at - utcnow()):
        for commission_id in commissions.due_ids():
            with transaction():
                commissions.settle(commission_id)


def _browsing(rng: random.Random, browsers: list[User], today) -> None:
    """Browsers and anonymous visitors over the last month: views, carts, searches."""
    products = list(db.session.scalars(sa.select(Product.id).where(Product.status == "on_sale")))
    rows = []
    for ago in range(30, 0, -1):
        day = today - timedelta(days=ago)
        for browser in rng.sample(browsers, 3):
            at = _moment(rng, day)
            viewed = rng.sample(products, 3)
            rows += [{"type": "page_view", "user_id": browser.id, "product_id": p, "at": at, "dwell_ms": 20000}
                     for p in viewed]
            if rng.random() < 0.4:
                rows.append({"type": "add_to_cart", "user_id": browser.id, "product_id": viewed[0], "at": at})
        for n in range(6):
            rows.append({"type": "page_view", "anon_id": f"demo-anon-{ago:03d}-{n}", "product_id": rng.choice(products),
                         "at": _moment(rng, day), "dwell_ms": rng.randint(2000, 30000)})
        rows.append({"type": "search", "anon_id": f"demo-anon-{ago:03d}-0", "query": rng.choice(NOTHING_FOUND),
                     "results": 0, "at": _moment(rng, day)})
    _events(rows)


def _events(rows: list[dict]) -> None:
    shops = dict(db.session.execute(sa.select(Product.id, Product.merchant_id)).all())
    with transaction():
        db.session.execute(sa.insert(Event), [{
            "type": row["type"], "user_id": row.get("user_id"), "anon_id": row.get("anon_id"),
            "product_id": row.get("product_id"), "merchant_id": shops.get(row.get("product_id")),
            "query": row.get("query"), "dwell_ms": row.get("dwell_ms"),
            "path": f"/products/{row['product_id']}" if row.get("product_id") else "/search",
            "props": {"results": row["results"]} if "results" in row else {},
            "created_at": row["at"]} for row in rows])
