"""Storefront: requests/s of the shop's pages as a ratio to a Flask hello world, and
queries and time per page for a small and a large catalogue.

1. A scratch PostgreSQL database (BENCH_DATABASE_URL's name + `_store`) migrated and
   seeded with bulk inserts: 40 shops, a three-level category tree, first 40 products,
   then 20,000 (two SKUs and an image each, some on promotion).
2. Catalogue size, in process with the page cache off (the cost of a miss): queries and
   median time of home, category list, search (a keyword, and 全部商品 with none) and
   product page at 40 and at 20,000 products. The queries must be equal; the time ratio is printed.
3. Load, with the same gunicorn settings (gthread, WORKERS x THREADS) and the same wrk
   run (CONNECTIONS for SECONDS each): (a) bench/hello_app.py, (b) the shop on the scratch
   database with the page cache on Redis, both up at once and taken in turn for ROUNDS
   rounds. Each target's best round: req/s, p50 and p99, the workers' CPU per request, and
   req/s as a ratio to hello world's best (the target is >= 0.5). wrk sends no cookies:
   every request is a visitor without a session, answered from the process's page copies
   (app/web/shop/page_copies.py) once warm. One more row, not part of the target: the
   product pages for a visitor holding a session (signed out), which Flask answers from
   the shared page cache with the visitor's own CSRF token.

    python -m bench.storefront [--seconds 3] [--rounds 3] [--connections 100] [--workers 2] [--threads 4] [--no-cache]

`--no-cache` runs the shop with the page cache off (the numbers before it). wrk is
installed from Debian's packages when missing (scripts/ensure_wrk.sh).
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlparse

import requests
import sqlalchemy as sa

from bench import BENCH_DB, THREADS, WORKERS
from bench import BENCH_REDIS as REDIS_URL
from bench.flash_sale import cpu_seconds, create_database, plain, worker_pids
from bench.server import Served, gunicorn

ROOT = Path(__file__).resolve().parent.parent

SMALL, LARGE = 40, 20_000
WORDS = ["连衣裙", "T恤", "运动鞋", "蓝牙耳机", "保温杯", "坚果礼盒", "茶叶", "充电宝", "双肩包", "面霜",
         "牛仔裤", "羽绒服", "机械键盘", "台灯", "枕头", "咖啡豆", "橄榄油", "儿童绘本", "瑜伽垫", "雨伞"]
WITH_SESSION = "product, with session"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def scratch_url() -> str:
    parsed = urlparse(BENCH_DB)
    return parsed._replace(path=parsed.path.rstrip("/") + "_store").geturl()


def make_app(url: str, **overrides):
    from app import create_app
    from app.config import TestConfig, normalise_database_url

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=normalise_database_url(url), REDIS_URL=REDIS_URL,
                      RATELIMIT_ENABLED=False, **overrides)


def migrate(app) -> None:
    from flask_migrate import upgrade

    from app.extensions import db

    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    logging.disable(logging.INFO)  # the migrations' own logging would drown the tables
    try:
        upgrade(directory=str(ROOT / "migrations"))
    finally:
        logging.disable(logging.NOTSET)
    app.extensions["redis"].client.flushdb()


def seed_shops_and_categories() -> tuple[list[int], list[int]]:
    from app.catalog.models import Category
    from app.extensions import db
    from app.merchants.models import Merchant

    db.session.execute(sa.insert(Merchant), [
        {"name": f"压测店铺{n}", "business_type": "enterprise", "company_name": f"压测公司{n}",
         "credit_code": "91350100M000100Y43", "contact_name": "店主", "contact_phone": "+8613700000000"}
        for n in range(40)])
    leaves = []
    icons = ["phone", "laptop", "bag", "cup-hot", "book", "basket", "gift", "house"]
    for t, icon in enumerate(icons):
        top = Category(name=f"大类{t}", depth=1, sort=t, icon=icon)
        db.session.add(top)
        db.session.flush()
        for m in range(3):
            mid = Category(name=f"中类{t}-{m}", depth=2, parent_id=top.id, sort=m, icon=icon)
            db.session.add(mid)
            db.session.flush()
            for leaf in range(4):
                node = Category(name=f"小类{t}-{m}-{leaf}", depth=3, parent_id=mid.id, sort=leaf, icon=icon)
                db.session.add(node)
                db.session.flush()
                leaves.append(node.id)
    db.session.commit()
    return list(db.session.scalars(sa.select(Merchant.id))), leaves


def seed_products(count: int, start: int, merchants: list[int], leaves: list[int]) -> None:
    """`count` on-sale products with two SKUs and one image each, in bulk INSERTs."""
    from app.catalog.models import Product, ProductImage, Sku
    from app.core.clock import utcnow
    from app.extensions import db

    rng = random.Random(start)
    now = utcnow()
    rows = []
    for n in range(start, start + count):
        word = WORDS[n % len(WORDS)]
        price = rng.randrange(990, 99900, 10)
        promo = n % 10 == 0
        title = f"{word} 第{n}款"
        rows.append({
            "merchant_id": merchants[n % len(merchants)], "category_id": leaves[n % len(leaves)], "title": title,
            "subtitle": "压测商品", "description_html": "<p>" + "细节描述。" * 40 + "</p>", "tags": [word],
            "specs": [{"name": "规格", "values": ["标准", "加大"]}], "status": "on_sale",
            "changed_since_review": False, "price_fen": price, "sales": rng.randrange(0, 5000),
            "search_text": f"{title} 压测商品 {word}".lower(), "listed_at": now - timedelta(minutes=n),
            "on_promotion": promo, "promotion_price_fen": price * 8 // 10 if promo else None,
            "promotion_starts_at": now - timedelta(hours=1) if promo else None,
            "promotion_ends_at": now + timedelta(days=2) if promo else None,
        })
    ids = db.session.scalars(sa.insert(Product).returning(Product.id), rows).all()
    db.session.execute(sa.insert(Sku), [
        {"product_id": pid, "spec_values": {"规格": v}, "spec_key": f"规格:{v}", "price_fen": row["price_fen"],
         "promotion_price_fen": row["promotion_price_fen"], "stock": 100, "low_stock_threshold": 0}
        for pid, row in zip(ids, rows, strict=True) for v in ("标准", "加大")])
    db.session.execute(sa.insert(ProductImage), [
        {"product_id": pid, "key": f"products/{pid}/main.jpg", "thumb_key": f"products/{pid}/thumb.jpg",
         "position": 0, "width": 800, "height": 800} for pid in ids])
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def size_check(app, paths: dict[str, str], repeat: int = 7) -> dict[str, tuple[int, float]]:
    """{page: (queries, median ms)} with the page cache off (every request a miss)."""
    from app.extensions import db

    client = app.test_client()
    out = {}

    def get(path: str):
        # Inside this app context the test client's requests would share one session and
        # one transaction (a served request's ends with it): what is read once per
        # transaction (settings, the category tree) would not be read again.
        db.session.remove()
        return client.get(path, headers={"User-Agent": BROWSER})

    for name, path in paths.items():
        statements: list[str] = []

        def count(conn, cursor, statement, *args, _s=statements):
            _s.append(statement)

        get(path)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        resp = get(path)
        sa.event.remove(db.engine, "before_cursor_execute", count)
        assert resp.status_code == 200, (path, resp.status_code)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            get(path)
            samples.append(time.perf_counter() - started)
        out[name] = (len(statements), statistics.median(samples) * 1000)
    return out


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_wrk.sh")], check=True)
    return shutil.which("wrk")


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load(server: Served, paths: list[str], seconds: int, connections: int, cookie: str = "") -> dict:
    """wrk with `connections` for `seconds`, cycling through `paths`: req/s, p50, p99 (ms), errors,
    and the CPU the server's workers spent per request (µs)."""
    workers = worker_pids(server.pid)
    script = "local paths = {" + ", ".join(f'"{quote(p, safe="/?=&")}"' for p in paths) + "}\nlocal i = 0\n" + (
        f'wrk.headers["User-Agent"] = "{BROWSER}"\n' + (f'wrk.headers["Cookie"] = "{cookie}"\n' if cookie else "") +
        "request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cpu_before = cpu_seconds(workers)
        done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, server.url],
                              capture_output=True, text=True)
        cpu = cpu_seconds(workers) - cpu_before
        if done.returncode:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        out = done.stdout
    finally:
        os.unlink(f.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "cpu_us": 1e6 * cpu / max(requests_done, 1),
            "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)), "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0, "socket_errors": socket_errors.group(1) if socket_errors else ""}


def run(seconds: int = 3, connections: int = 100, workers: int = WORKERS, threads: int = THREADS, cache: bool = True,
        rounds: int = 3) -> list:
    started = time.monotonic()
    ensure_wrk()
    url = scratch_url()
    create_database(url)
    app = make_app(url, PAGE_CACHE_ENABLED=False)
    logging.getLogger("app.request").setLevel(logging.WARNING)
    logging.getLogger("app.core.page_cache").setLevel(logging.ERROR)
    with app.app_context():
        from app.catalog.models import Product
        from app.extensions import db

        migrate(app)
        merchants, leaves = seed_shops_and_categories()
        seed_products(SMALL, 0, merchants, leaves)
        first_id = db.session.scalar(sa.select(sa.func.min(Product.id)))
        pages = {"home": "/", "categories": "/categories", "search": f"/search?q={WORDS[1]}",
                 "all products": "/search", "product": f"/products/{first_id + 7}"}
        small = size_check(app, pages)
        seed_products(LARGE - SMALL, SMALL, merchants, leaves)
        large = size_check(app, pages)
        product_ids = list(db.session.scalars(sa.select(Product.id).order_by(Product.id).limit(200)))
        db.session.remove()
        db.engine.dispose()
    seeded_at = time.monotonic()

    print(f"\nStorefront: queries and time per page with the cache missing, {SMALL} vs {LARGE:,} products")
    print(f"{'page':<12} {'queries':>8} {'queries':>8} {'ms':>8} {'ms':>8} {'time ratio':>11}")
    print(f"{'':<12} {SMALL:>8} {LARGE:>8} {SMALL:>8} {LARGE:>8} {'large/small':>11}")
    for name in pages:
        (qa, ta), (qb, tb) = small[name], large[name]
        print(f"{name:<12} {qa:>8} {qb:>8} {ta:>8.1f} {tb:>8.1f} {tb / ta:>11.2f}{'' if qa == qb else '  QUERIES DIFFER'}")

    settings = {"workers": workers, "threads": threads}
    env = {"APP_ENV": "testing", "TEST_DATABASE_URL": plain(url), "TEST_REDIS_URL": REDIS_URL,
           "RATELIMIT_ENABLED": "0", "LOG_JSON": "0", "PAGE_CACHE_ENABLED": "1" if cache else "0"}
    load_paths = {"home": ["/"], "categories": ["/categories"] + [f"/categories?id={i}" for i in range(1, 9)],
                  "search": [f"/search?q={w}" for w in WORDS[:5]] + ["/search?sort=newest", "/search?promotion=1"],
                  "product": [f"/products/{i}" for i in product_ids]}
    runs: dict[str, list[dict]] = {"hello world": [], **{name: [] for name in load_paths}}
    # Both servers up at once, the targets taken in turn for `rounds` rounds, the best round
    # of each counting. One run is not enough on this kind of machine: with keep-alive, wrk's
    # connections stay with the worker that accepted them, and a run where one worker got
    # most of them is about a third as fast (hello world 2,400 against 7,900 req/s in
    # consecutive runs, its CPU per request doubled), for either server.
    with gunicorn("bench.hello_app:app", **settings) as hello, \
            gunicorn("wsgi:app", env=env, ready_path="/categories", **settings) as shop:
        for paths in load_paths.values():
            # Steady state: every page asked once before the clock starts (a miss is timed above).
            for path in paths:
                requests.get(shop.url + path, headers={"User-Agent": BROWSER}, timeout=30)
        # A visitor holding a session (signed out) is answered by Flask, not from the copies:
        # the product pages again with the session cookie /csrf-token gives.
        session = requests.get(shop.url + "/csrf-token", timeout=10).cookies["session"]
        targets = {"hello world": (hello, ["/"], ""), **{name: (shop, paths, "") for name, paths in load_paths.items()},
                   WITH_SESSION: (shop, load_paths["product"], f"session={session}")}
        runs[WITH_SESSION] = []
        for _ in range(rounds):
            for name, (server, paths, cookie) in targets.items():
                runs[name].append(load(server, paths, seconds, connections, cookie))
    best = {name: max(found, key=lambda r: r["rps"]) for name, found in runs.items()}
    hello_rps = best["hello world"]["rps"]

    print(f"\nStorefront under load: wrk {connections} connections x {seconds} s per run, {rounds} rounds, "
          f"gunicorn gthread {workers} workers x {threads} threads, page cache {'on (Redis)' if cache else 'OFF'}")
    print("(each row's best round; CPU is the gunicorn workers' per request in that round)")
    print(f"{'target':<22} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'CPU µs':>8} {'vs hello':>9} {'non-2xx':>8}  rounds' req/s")
    for name, r in best.items():
        each = ", ".join(f"{x['rps']:.0f}" for x in runs[name])
        print(f"{name:<22} {r['rps']:>9.0f} {r['p50']:>9.1f} {r['p99']:>9.1f} {r['cpu_us']:>8.0f} "
              f"{r['rps'] / hello_rps:>9.2f} {r['errors']:>8}  {each}"
              f"{'  socket errors: ' + r['socket_errors'] if r['socket_errors'] else ''}")
    print(f"(seeding and size check {seeded_at - started:.0f} s, whole bench {time.monotonic() - started:.0f} s)")
    pages_only = {name: r for name, r in best.items() if name not in ("hello world", WITH_SESSION)}
    worst = min(pages_only, key=lambda n: pages_only[n]["rps"])
    return [(f"storefront {worst} page req/s (a: hello world, b: shop)", hello_rps, pages_only[worst]["rps"], "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args()
    run(args.seconds, args.connections, args.workers, args.threads, cache=not args.no_cache, rounds=args.rounds)


if __name__ == "__main__":
    main()
