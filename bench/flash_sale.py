"""Flash sale: N buyers at once for one SKU with stock S, through the real stack.

The app runs under gunicorn (several workers, threads each) on PostgreSQL and
Redis, in a scratch database this script creates and migrates. N buyers, each
with their own API token and address, POST /api/v1/orders at the same moment.
It prints the accepted orders, the oversold count (must be 0: accepted orders
against S and the final stock), errors by status, orders per second and p50/p99
latency; then a baseline measured in the same run: the same reservation (the
conditional UPDATE) and the order rows written with raw SQL over psycopg at the
same concurrency (N threads sharing as many connections as gunicorn has request
threads), and the ratio of the API's orders/s to the baseline's.

    python -m bench.flash_sale [--stock 50] [--buyers 200] [--workers 4] [--threads 8]

Also run by `make bench` (bench/__main__.py). Database: FLASH_DATABASE_URL, default
the bench database's name + `_flash`; Redis: TEST_REDIS_URL (the bench's db 14).
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shop_bench")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
PRICE_FEN = 990


def scratch_url() -> str:
    if os.environ.get("FLASH_DATABASE_URL"):
        return os.environ["FLASH_DATABASE_URL"]
    parsed = urlparse(BENCH_DB)
    return parsed._replace(path=parsed.path.rstrip("/") + "_flash").geturl()


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(url: str) -> None:
    parsed = urlparse(plain(url))
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Seeded:
    api_sku_id: int
    baseline_sku_id: int
    product_id: int
    merchant_id: int
    buyers: list[tuple[int, str, int]] = field(default_factory=list)  # (user id, token, address id)


def migrate_and_seed(url: str, stock: int, buyers: int) -> Seeded:
    """A fresh schema from the migrations; one shop, one on-sale product with two SKUs
    of `stock` each (one for the API run, one for the baseline), `buyers` users."""
    import logging

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.models import Address, User
    from app.accounts.services import issue_api_token
    from app.catalog.models import Category, Product, Sku
    from app.config import TestConfig, normalise_database_url
    from app.extensions import db
    from app.merchants.models import Merchant

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=normalise_database_url(url), REDIS_URL=REDIS_URL,
                     RATELIMIT_ENABLED=False)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        app.extensions["redis"].client.flushdb()
        merchant = Merchant(name="秒杀店铺", business_type="enterprise", company_name="压测",
                            credit_code="91350100M000100Y43", contact_name="压测", contact_phone="+8613700000000")
        leaf = Category(name="秒杀类目", depth=1)
        db.session.add_all([merchant, leaf])
        db.session.flush()
        product = Product(merchant_id=merchant.id, category_id=leaf.id, title="秒杀商品", status="on_sale",
                          price_fen=PRICE_FEN, search_text="秒杀商品",
                          specs=[{"name": "规格", "values": ["API", "SQL"]}])
        db.session.add(product)
        db.session.flush()
        skus = [Sku(product_id=product.id, spec_values={"规格": v}, spec_key=f"规格:{v}", price_fen=PRICE_FEN,
                    stock=stock, low_stock_threshold=0) for v in ("API", "SQL")]
        db.session.add_all(skus)
        users = [User(phone=f"+86139{n:08d}", nickname=f"买家{n}") for n in range(buyers)]
        db.session.add_all(users)
        db.session.flush()
        addresses = [Address(user_id=u.id, recipient="买家", phone="13900001111", province_code="350000",
                             province="福建省", city_code="350100", city="福州市", district_code="350102",
                             district="鼓楼区", detail="五四路 100 号", is_default=True) for u in users]
        db.session.add_all(addresses)
        db.session.flush()
        seeded = Seeded(skus[0].id, skus[1].id, product.id, merchant.id,
                        [(u.id, issue_api_token(u), a.id) for u, a in zip(users, addresses, strict=True)])
        db.session.commit()
        db.engine.dispose()
    return seeded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "APP_ENV": "testing", "TEST_DATABASE_URL": url, "TEST_REDIS_URL": REDIS_URL,
           "RATELIMIT_ENABLED": "0", "LOG_JSON": "0"}
    command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "5", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            if requests.get(f"{base}/payments/ping", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)  # polling a starting server: there is no event to wait on
    else:
        process.terminate()
        raise RuntimeError("gunicorn did not answer within 30 s")
    # Every worker imports the app lazily on its first requests: warm them all up.
    for _ in range(workers * threads):
        requests.get(f"{base}/api/v1/categories", timeout=10)
    return process, base


@dataclass
class Run:
    wall_s: float
    latencies_ms: list[float]
    statuses: Counter
    accepted: int

    @property
    def orders_per_s(self) -> float:
        return self.accepted / self.wall_s

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def together(n: int, attempt) -> Run:
    """Run `attempt(i)` -> status in n threads released by one barrier; time each and the whole."""
    barrier = threading.Barrier(n + 1)
    latencies = [0.0] * n
    statuses: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        start = time.perf_counter()
        try:
            statuses[i] = attempt(i)
        except Exception as exc:  # counted by kind in the report
            statuses[i] = type(exc).__name__
        latencies[i] = (time.perf_counter() - start) * 1000

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    counts = Counter(statuses)
    return Run(wall, latencies, counts, counts.get(201, 0))


def api_run(base: str, seeded: Seeded) -> Run:
    sessions = [requests.Session() for _ in seeded.buyers]

    def attempt(i: int):
        _user_id, token, address_id = seeded.buyers[i]
        response = sessions[i].post(f"{base}/api/v1/orders", timeout=60, headers={"Authorization": f"Bearer {token}"},
                                    json={"items": [{"sku_id": seeded.api_sku_id, "quantity": 1}],
                                          "address_id": address_id, "idempotency_key": uuid.uuid4().hex})
        if response.status_code == 409 and response.json()["error"]["code"] != "out_of_stock":
            return f"409 {response.json()['error']['code']}"
        return response.status_code

    return together(len(seeded.buyers), attempt)


BASELINE_SQL = {
    "reserve": "UPDATE skus SET stock = stock - 1 WHERE id = %s AND stock >= 1 RETURNING stock",
    "payment": "INSERT INTO payments (out_trade_no, buyer_id, amount_fen, status, idempotency_key, created_at) "
               "VALUES (%s, %s, %s, 'pending', %s, now()) RETURNING id",
    "order": "INSERT INTO orders (order_no, buyer_id, merchant_id, payment_id, status, address, items_fen, "
             "shipping_fen, amount_fen, note, referral_snapshot, stock_mode, stock_state, pay_expires_at, "
             "to_review, created_at) VALUES (%s, %s, %s, %s, 'pending_payment', %s, %s, 0, %s, '', '[]', "
             "'on_order', 'reserved', now() + interval '30 minutes', false, now()) RETURNING id",
    "item": "INSERT INTO order_items (order_id, product_id, sku_id, title, spec_text, unit_price_fen, quantity, "
            "paid_fen, refunded_quantity, reviewed) VALUES (%s, %s, %s, '秒杀商品', '规格:SQL', %s, 1, %s, 0, false)",
    "movement": "INSERT INTO stock_movements (sku_id, delta, stock_after, reason, ref_type, ref_id, created_at) "
                "VALUES (%s, -1, %s, 'order_reserve', 'payment', %s, now())",
}


def baseline_run(url: str, seeded: Seeded, slots: int) -> Run:
    """The same reservation and order rows in raw SQL at the API's concurrency: every
    buyer is a thread, sharing `slots` connections (opened beforehand), as many as
    gunicorn has request threads (workers x threads), so at most that many are in flight."""
    connections = [psycopg.connect(plain(url)) for _ in range(slots)]
    free: queue.Queue = queue.Queue()
    for conn in connections:
        free.put(conn)
    address = json.dumps({"recipient": "买家", "phone": "13900001111", "detail": "五四路 100 号"}, ensure_ascii=False)

    def attempt(i: int):
        conn = free.get()
        try:
            return reserve_and_insert(conn, seeded.buyers[i][0])
        finally:
            free.put(conn)

    def reserve_and_insert(conn, user_id: int):
        with conn.transaction():
            row = conn.execute(BASELINE_SQL["reserve"], (seeded.baseline_sku_id,)).fetchone()
            if row is None:
                return 409
            trade_no = "B" + uuid.uuid4().hex[:20]
            payment_id = conn.execute(BASELINE_SQL["payment"],
                                      (trade_no, user_id, PRICE_FEN, uuid.uuid4().hex)).fetchone()[0]
            order_id = conn.execute(BASELINE_SQL["order"], ("B" + uuid.uuid4().hex[:17], user_id, seeded.merchant_id,
                                                            payment_id, address, PRICE_FEN, PRICE_FEN)).fetchone()[0]
            conn.execute(BASELINE_SQL["item"], (order_id, seeded.product_id, seeded.baseline_sku_id, PRICE_FEN,
                                                PRICE_FEN))
            conn.execute(BASELINE_SQL["movement"], (seeded.baseline_sku_id, row[0], trade_no))
        return 201

    try:
        return together(len(seeded.buyers), attempt)
    finally:
        for conn in connections:
            conn.close()


def final_state(url: str, seeded: Seeded) -> dict:
    with psycopg.connect(plain(url)) as conn:
        stock = dict(conn.execute("SELECT id, stock FROM skus WHERE id = ANY(%s)",
                                  ([seeded.api_sku_id, seeded.baseline_sku_id],)).fetchall())
        orders = dict(conn.execute("SELECT sku_id, count(*) FROM order_items GROUP BY sku_id").fetchall())
        moved = dict(conn.execute("SELECT sku_id, sum(delta) FROM stock_movements GROUP BY sku_id").fetchall())
    return {"stock": stock, "orders": orders, "moved": moved}


def report(name: str, run: Run, stock: int, final_stock: int, order_rows: int, moved: int) -> int:
    oversold = max(0, run.accepted - stock, order_rows - stock, -final_stock)
    consistent = stock - final_stock == run.accepted == order_rows == -moved
    errors = {k: v for k, v in sorted(run.statuses.items(), key=lambda kv: str(kv[0])) if k != 201}
    print(f"  {name}: accepted {run.accepted} of {len(run.latencies_ms)} (stock {stock}, final stock {final_stock}, "
          f"order rows {order_rows}, movements {moved}) oversold {oversold} {'consistent' if consistent else 'MISMATCH'}")
    print(f"    refused/errors by status: {errors}")
    print(f"    wall {run.wall_s * 1000:.0f} ms, {run.orders_per_s:.1f} orders/s, "
          f"{len(run.latencies_ms) / run.wall_s:.1f} requests/s, latency p50 {run.pct(0.5):.1f} ms "
          f"p99 {run.pct(0.99):.1f} ms (mean {statistics.fmean(run.latencies_ms):.1f})")
    return oversold


def run(stock: int = 50, buyers: int = 200, workers: int | None = None, threads: int = 8) -> tuple:
    """Run the flash sale and its baseline; returns a row for bench/__main__'s table."""
    workers = workers or min(4, 2 * (os.cpu_count() or 1))
    url = scratch_url()
    started = time.perf_counter()
    create_database(url)
    seeded = migrate_and_seed(url, stock, buyers)
    process, base = start_gunicorn(url, workers, threads)
    try:
        api = api_run(base, seeded)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    baseline = baseline_run(url, seeded, workers * threads)
    state = final_state(url, seeded)
    print(f"flash sale: {buyers} buyers at once for 1 SKU with stock {stock}; gunicorn {workers} workers x "
          f"{threads} threads on PostgreSQL + Redis ({urlparse(plain(url)).path.lstrip('/')})")
    oversold = report("API  POST /api/v1/orders", api, stock, state["stock"][seeded.api_sku_id],
                      state["orders"].get(seeded.api_sku_id, 0), state["moved"].get(seeded.api_sku_id, 0))
    oversold += report("SQL  baseline (same UPDATE + rows)", baseline, stock, state["stock"][seeded.baseline_sku_id],
                       state["orders"].get(seeded.baseline_sku_id, 0), state["moved"].get(seeded.baseline_sku_id, 0))
    ratio = api.orders_per_s / baseline.orders_per_s
    print(f"  API orders/s / baseline orders/s = {ratio:.3f} "
          f"(the API costs {1 / ratio:.1f}x the bare SQL); total run {time.perf_counter() - started:.1f} s")
    if oversold:
        print(f"  OVERSOLD: {oversold}")
    return ("flash sale orders/s: raw SQL baseline vs API", baseline.orders_per_s, api.orders_per_s, "/s", oversold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stock", type=int, default=50)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    *_row, oversold = run(args.stock, args.buyers, args.workers, args.threads)
    sys.exit(1 if oversold else 0)


if __name__ == "__main__":
    main()
