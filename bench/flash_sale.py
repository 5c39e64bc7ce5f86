"""Flash sale (秒杀): N buyers at once for one flash-sale item of S units, through the
real endpoint `POST /api/v1/flash-sales/<item_id>/buy`, and the raw-SQL ceiling of the
same work, in one run.

Setup. A scratch database made from the migrations: one shop, one product with two
SKUs, and one platform event created and published through app/flashsales/services.py
(so each SKU's event stock is really carved out by the stock service), with an item of
S units per SKU (one for the API, one for the baseline), per-buyer limit 1, its start
moved back by hand so it is running (as tests/flashsales/conftest.py does), and Redis
loaded with redis_sync. N buyers, each with their own API token (issued by the accounts
service) and address. The app runs under gunicorn with the Procfile's settings (2
workers x 4 threads, gthread; bench.WORKERS / THREADS) on PostgreSQL and Redis.

The load generator is one asyncio event loop in this process: every buyer is a
coroutine with its own TCP connection, opened before the release (a buyer's page is open
while the countdown runs, and the baseline's connections are opened before its release
too), released together by one asyncio.Event, that writes a pre-built HTTP/1.1 request
and reads the whole answer (a minimal client on
asyncio streams: no library on the hot path, a few tens of microseconds of CPU per
request). A buyer's latency is client-observed, from the moment its coroutine starts
sending to the moment the last byte of the answer is read, so it
includes the wait in the listen queue and in gunicorn's thread pool. The client's
own CPU time over the run is printed next to the wall time, and the server's (the
gunicorn workers', read from /proc) with it: the client must be a small share.
The app's own request log (the `ms=` of app.request, before_request to after_request,
or for a refusal answered before Flask its time in that layer) gives the time a request
spent in the app, to separate queueing from work.

Baseline. The same reservation and the same rows in raw SQL over psycopg at the same
concurrency: every buyer is a thread, sharing workers x threads connections (opened
beforehand). One transaction per buyer: the item's conditional UPDATE
(`stock_sold + 1 <= stock_total AND held AND released_units IS NULL`; losers stop
here), the buyer's row (`quantity + 1 <= limit`), then the rows a winner of the API
writes: payment, order, order item, order event, analytics event, flash-sale order.
(A flash-sale order writes no stock movement: the units left the SKU once, at publish,
as one `flash_sale_hold` movement.)

Orders/s, on both sides: accepted / time from the release to the last accepted
answer (the time to sell out). The drain (all N answered) is printed too.

The floor. Flask's hello world under the same gunicorn settings gets the same N
connections released at once: its p99 is what no Flask endpoint can beat on this
machine, printed (and put in the table) beside the refused p99. Under it, the buyers'
own requests go to bench/bare_refusal.py, a bare asyncio server that answers each with
the same 409 and does nothing else: its p99 is this machine's and this load generator's
share, which no server written in Python gets under.

    python -m bench.flash_sale [--stock 100] [--buyers 2000] [--workers 2] [--threads 4]

Also run by `make bench` (bench/__main__.py), which exits non-zero on any oversold unit,
5xx, unanswered buyer or rows that disagree. Database: FLASH_DATABASE_URL, default the
bench database's name + `_flash`; Redis: BENCH_REDIS_URL (default db 12).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from bench import BENCH_DB, THREADS, WORKERS
from bench import BENCH_REDIS as REDIS_URL

ROOT = Path(__file__).resolve().parent.parent

SKU_PRICE_FEN = 9900
EVENT_PRICE_FEN = 990
REFUSED_P99_TARGET_MS = 50.0
ORDERS_RATIO_TARGET = 0.5
SPECS = ("API", "SQL1", "SQL2")  # one SKU, and one event item, for the API and for each baseline run


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
    stock: int  # each item's stock_total
    sku_stock: int  # each SKU's stock before the event carved its units
    api_item_id: int
    baseline_item_ids: tuple[int, int]  # one before the API run, one after
    api_sku_id: int
    baseline_sku_ids: tuple[int, int]
    product_id: int
    merchant_id: int
    buyers: list[tuple[int, str, int]] = field(default_factory=list)  # (user id, token, address id)


def _app(url: str):
    from app import create_app
    from app.config import TestConfig, normalise_database_url

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=normalise_database_url(url), REDIS_URL=REDIS_URL,
                      RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_ENABLED=False)


def migrate_and_seed(url: str, stock: int, buyers: int) -> Seeded:
    """A fresh schema from the migrations; one shop, one product with two SKUs, one running
    platform event with an item of `stock` units on each SKU, `buyers` users with tokens."""
    import logging

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app.accounts.models import Address, User
    from app.accounts.services import issue_api_token
    from app.catalog.models import Category, Product, Sku
    from app.core.clock import utcnow
    from app.core.db import transaction
    from app.extensions import db
    from app.flashsales import redis_sync, services
    from app.flashsales.models import FlashSale
    from app.flashsales.policies import platform
    from app.merchants.models import Merchant

    app = _app(url)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sku_stock = 2 * stock
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        app.extensions["redis"].client.flushdb()
        merchant = Merchant(name="秒杀店铺", business_type="enterprise", company_name="压测",
                            credit_code="91350100M000100Y43", contact_name="压测", contact_phone="+8613700000000")
        leaf = Category(name="秒杀类目", depth=1)
        operator = User(phone="+8613800000000", nickname="运营", admin_role="operator")
        db.session.add_all([merchant, leaf, operator])
        db.session.flush()
        product = Product(merchant_id=merchant.id, category_id=leaf.id, title="秒杀商品", status="on_sale",
                          price_fen=SKU_PRICE_FEN, search_text="秒杀商品",
                          specs=[{"name": "规格", "values": list(SPECS)}])
        db.session.add(product)
        db.session.flush()
        skus = [Sku(product_id=product.id, spec_values={"规格": v}, spec_key=f"规格:{v}", price_fen=SKU_PRICE_FEN,
                    stock=sku_stock, low_stock_threshold=0) for v in SPECS]
        db.session.add_all(skus)
        users = [User(phone=f"+86139{n:08d}", nickname=f"买家{n}") for n in range(buyers)]
        db.session.add_all(users)
        db.session.flush()
        addresses = [Address(user_id=u.id, recipient="买家", phone="13900001111", province_code="350000",
                             province="福建省", city_code="350100", city="福州市", district_code="350102",
                             district="鼓楼区", detail="五四路 100 号", is_default=True) for u in users]
        db.session.add_all(addresses)
        db.session.flush()
        buyer_rows = [(u.id, issue_api_token(u), a.id) for u, a in zip(users, addresses, strict=True)]
        sku_ids = [s.id for s in skus]
        product_id, merchant_id = product.id, merchant.id
        db.session.commit()

        # The event through the real services: create, publish (carves the stock), as an operator.
        actor = platform(operator)
        now = utcnow()
        with transaction():
            sale = services.create(actor, {
                "title": "整点秒杀", "starts_at": now + timedelta(minutes=1), "ends_at": now + timedelta(hours=1),
                "items": [{"sku_id": sku_id, "price_fen": EVENT_PRICE_FEN, "stock": stock, "per_buyer_limit": 1}
                          for sku_id in sku_ids]})
            sale_id = sale.id
        with transaction():
            services.publish(actor, sale_id)
        # Running now: the start moved back by hand (a scheduled event cannot be created in the past).
        db.session.execute(FlashSale.__table__.update().where(FlashSale.id == sale_id)
                           .values(starts_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        db.session.expire_all()
        # The queued jobs (start, rebuild) have no worker here: Redis is loaded as they would.
        redis_sync.rebuild_sale(sale_id)
        items = {i.sku_id: i.id for i in db.session.get(FlashSale, sale_id).items}
        seeded = Seeded(stock, sku_stock, items[sku_ids[0]], (items[sku_ids[1]], items[sku_ids[2]]), sku_ids[0],
                        (sku_ids[1], sku_ids[2]), product_id, merchant_id, buyer_rows)
        db.session.remove()
        db.engine.dispose()
    return seeded


# --- the server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, timeout: float = 5.0) -> int:
    """A blocking GET (setup only), answering the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def start_gunicorn(url: str, workers: int, threads: int, log_path: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "APP_ENV": "testing", "TEST_DATABASE_URL": url, "TEST_REDIS_URL": REDIS_URL,
           "RATELIMIT_ENABLED": "0", "LOG_JSON": "0"}
    command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "5", "wsgi:app"]
    with open(log_path, "w") as log:  # the app's request log (stderr): one line per request, with its ms
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    return process, port


def warm_up(process: subprocess.Popen, port: int, workers: int, threads: int, item_id: int,
            limit_s: float = 180) -> list[int]:
    """Wait until every worker has loaded the app and answered (a gthread worker starts its
    request threads only once the app is loaded and a request came), each having run the
    public list (PostgreSQL) and a buy with a token that does not exist (401). Answers
    the workers' pids."""
    body = json.dumps({"address_id": 1, "idempotency_key": "warm-up-0000"}).encode()

    def one(_n: int) -> None:
        try:
            _get(port, "/api/v1/flash-sales")
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(_request(port, item_id, "not-a-token", body))
                while s.recv(65536):
                    pass
        except (OSError, IndexError, ValueError):
            pass  # not listening yet, or a worker still booting: the loop asks again

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        pids = worker_pids(process.pid)
        if len(pids) == workers and all(thread_count(pid) > threads // 2 for pid in pids):
            return pids
        with ThreadPoolExecutor(workers * threads) as pool:
            list(pool.map(one, range(2 * workers * threads)))
        time.sleep(0.2)  # polling starting workers: there is no event to wait on
    process.terminate()
    raise RuntimeError(f"gunicorn's {workers} workers were not all up within {limit_s:.0f} s")


def thread_count(pid: int) -> int:
    try:
        return int(re.search(r"^Threads:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M).group(1))
    except (OSError, AttributeError):
        return 0


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in children]


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields_[11]) + int(fields_[12])
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the load generator ----------------------------------------------------------------


def _request(port: int, item_id: int, token: str, body: bytes) -> bytes:
    return (f"POST /api/v1/flash-sales/{item_id}/buy HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


@dataclass
class Answer:
    outcome: str  # "201", "409 sold_out", ..., or "unanswered: <error>"
    status: int | None
    started: float  # perf_counter at the send
    ms: float


async def _buy(port: int, request: bytes, go: asyncio.Event, timeout: float,
               opened: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None) -> Answer:
    """One buyer: wait for `go`, send, read the whole answer. With `opened` (a connection
    made before the release) the clock starts at the send; without, at the connect."""
    await go.wait()
    started = time.perf_counter()
    writer = opened[1] if opened else None
    try:
        async with asyncio.timeout(timeout):
            if opened:
                reader = opened[0]
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else await reader.read()
        ms = (time.perf_counter() - started) * 1000
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        return Answer(f"unanswered: {type(exc).__name__}", None, started, (time.perf_counter() - started) * 1000)
    finally:
        if writer is not None:
            writer.close()
    outcome = str(status)
    if status != 201:
        try:
            outcome += " " + json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            pass
    return Answer(outcome, status, started, ms)


@dataclass
class Run:
    answers: list[Answer]
    released: float
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    opened_s: float = 0.0  # opening every buyer's connection, before the release

    @property
    def accepted(self) -> list[Answer]:
        return [a for a in self.answers if a.status == 201]

    @property
    def refused(self) -> list[Answer]:
        return [a for a in self.answers if a.status is not None and 400 <= a.status < 500]

    def _end(self, answers: list[Answer]) -> float:
        return max((a.started + a.ms / 1000 for a in answers), default=self.released) - self.released

    @property
    def sell_out_s(self) -> float:
        return self._end(self.accepted)

    @property
    def drain_s(self) -> float:
        return self._end(self.answers)

    @property
    def orders_per_s(self) -> float:
        return len(self.accepted) / self.sell_out_s if self.accepted else 0.0

    @property
    def outcomes(self) -> Counter:
        return Counter(a.outcome for a in self.answers)

    @property
    def server_errors(self) -> int:
        return sum(1 for a in self.answers if a.status is not None and a.status >= 500)

    @property
    def unanswered(self) -> int:
        return sum(1 for a in self.answers if a.status is None)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def api_run(port: int, seeded: Seeded, server_pids: list[int], timeout: float = 60.0) -> Run:
    """Every buyer's connection is opened first (the page is open and the countdown is
    running, as the baseline's connections are opened before its release), then all the
    requests are sent at once."""
    requests = [_request(port, seeded.api_item_id, token,
                         json.dumps({"quantity": 1, "address_id": address_id,
                                     "idempotency_key": uuid.uuid4().hex}).encode())
                for _user, token, address_id in seeded.buyers]
    return burst(port, requests, server_pids, timeout)


def hello_run(buyers: int, workers: int, threads: int, timeout: float = 60.0) -> Run:
    """The floor under any refusal: Flask's hello world (bench/hello_app.py) under the same
    gunicorn settings, `buyers` connections opened first and released at once, as the
    buyers are. No Flask endpoint answers the last of them sooner than this on this
    machine, so the refused p99 is printed beside it."""
    from bench.server import gunicorn  # bench.server imports this module

    with gunicorn("bench.hello_app:app", workers=workers, threads=threads) as served:
        port = int(urlparse(served.url).port)
        request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        return burst(port, [request] * buyers, worker_pids(served.pid), timeout)


def bare_run(seeded: Seeded, timeout: float = 60.0) -> Run:
    """The machine's floor (bench/bare_refusal.py): the buyers' own requests, released at
    once to a bare asyncio server that answers each with the same 409 and does nothing
    else. What is left of a refusal's p99 here is this machine and this load generator."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.bare_refusal", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("bench.bare_refusal did not start")
        requests = [_request(port, seeded.api_item_id, token,
                             json.dumps({"quantity": 1, "address_id": address_id,
                                         "idempotency_key": uuid.uuid4().hex}).encode())
                    for _user, token, address_id in seeded.buyers]
        return burst(port, requests, [process.pid], timeout)
    finally:
        process.terminate()
        process.wait(timeout=10)


def burst(port: int, requests: list[bytes], server_pids: list[int], timeout: float) -> Run:
    """Open one connection per request, then send them all at once (one asyncio.Event)."""

    async def main() -> Run:
        opening = time.perf_counter()
        connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in requests))
        opened_s = time.perf_counter() - opening
        go = asyncio.Event()
        tasks = [asyncio.create_task(_buy(port, r, go, timeout, c)) for r, c in zip(requests, connections, strict=True)]
        await asyncio.sleep(0)  # every buyer is waiting on `go`
        server_cpu, client_cpu = cpu_seconds(server_pids), own_cpu_seconds()
        released = time.perf_counter()
        go.set()
        answers = await asyncio.gather(*tasks)
        return Run(list(answers), released, own_cpu_seconds() - client_cpu, cpu_seconds(server_pids) - server_cpu,
                   opened_s)

    return asyncio.run(main())


def paced_run(port: int, seeded: Seeded, count: int, rate: float, timeout: float = 30.0) -> Run:
    """After the sell-out: `count` of the buyers try again, one every 1/rate s (below what
    the server can answer, so nobody queues): what a refusal costs when it is not
    waiting behind 2,000 others."""
    buyers = seeded.buyers[-count:]
    requests = [_request(port, seeded.api_item_id, token,
                         json.dumps({"quantity": 1, "address_id": address_id,
                                     "idempotency_key": uuid.uuid4().hex}).encode())
                for _user, token, address_id in buyers]

    async def main() -> Run:
        go = asyncio.Event()
        go.set()
        released = time.perf_counter()
        tasks = []
        for n, request in enumerate(requests):
            await asyncio.sleep(max(0.0, released + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(_buy(port, request, go, timeout)))
        return Run(list(await asyncio.gather(*tasks)), released)

    return asyncio.run(main())


# --- the raw-SQL baseline -----------------------------------------------------------------

BASELINE_SQL = {
    "item": "UPDATE flash_sale_items SET stock_sold = stock_sold + 1 WHERE id = %s AND held AND "
            "released_units IS NULL AND stock_sold + 1 <= stock_total RETURNING per_buyer_limit",
    "buyer_row": "INSERT INTO flash_sale_buyers (item_id, buyer_id, quantity) VALUES (%s, %s, 0) "
                 "ON CONFLICT (item_id, buyer_id) DO NOTHING",
    "buyer": "UPDATE flash_sale_buyers SET quantity = quantity + 1 WHERE item_id = %s AND buyer_id = %s "
             "AND quantity + 1 <= %s",
    "payment": "INSERT INTO payments (out_trade_no, buyer_id, amount_fen, status, idempotency_key, created_at) "
               "VALUES (%s, %s, %s, 'pending', %s, now()) RETURNING id",
    "order": "INSERT INTO orders (order_no, buyer_id, merchant_id, payment_id, status, address, items_fen, "
             "shipping_fen, amount_fen, note, referral_snapshot, stock_mode, stock_state, pay_expires_at, "
             "to_review, created_at) VALUES (%s, %s, %s, %s, 'pending_payment', %s, %s, 0, %s, '', '[]', "
             "'on_order', 'held', now() + interval '30 minutes', false, now()) RETURNING id",
    "order_item": "INSERT INTO order_items (order_id, product_id, sku_id, title, spec_text, unit_price_fen, "
                  "quantity, paid_fen, refunded_quantity, reviewed) "
                  "VALUES (%s, %s, %s, '秒杀商品', '规格:SQL', %s, 1, %s, 0, false)",
    "order_event": "INSERT INTO order_events (order_id, actor_id, to_status, created_at) "
                   "VALUES (%s, %s, 'pending_payment', now())",
    "event": "INSERT INTO events (type, user_id, merchant_id, props, created_at) VALUES ('order', %s, %s, %s, now())",
    "flash_order": "INSERT INTO flash_sale_orders (item_id, order_id, buyer_id, quantity, created_at) "
                   "VALUES (%s, %s, %s, 1, now())",
}


def baseline_run(url: str, seeded: Seeded, slots: int, item_id: int, sku_id: int) -> Run:
    """The same reservation and rows in raw SQL at the API's concurrency: `slots`
    connections (opened beforehand), as many as gunicorn has request threads (workers x
    threads), each served by a thread of its own that takes the waiting buyers one after
    another. Every buyer arrives at the release, as with the API, so a buyer's latency runs
    from the release to its answer.

    (It was a thread per buyer sharing the connections: at the release 2,000 threads woke
    at once and the 8 holding a connection queued for the GIL behind them after every
    statement, so the harness, not PostgreSQL, set the pace: 90-300 orders/s, varying
    from run to run, against 450 with 300 buyers.)"""
    connections = [psycopg.connect(plain(url)) for _ in range(slots)]
    address = json.dumps({"recipient": "买家", "phone": "13900001111", "detail": "五四路 100 号"}, ensure_ascii=False)

    def attempt(conn, user_id: int) -> str:
        try:
            with conn.transaction():
                row = conn.execute(BASELINE_SQL["item"], (item_id,)).fetchone()
                if row is None:
                    return "409 sold_out"
                conn.execute(BASELINE_SQL["buyer_row"], (item_id, user_id))
                if conn.execute(BASELINE_SQL["buyer"], (item_id, user_id, row[0])).rowcount != 1:
                    raise LimitReached
                payment_id = conn.execute(BASELINE_SQL["payment"], ("B" + uuid.uuid4().hex[:20], user_id,
                                                                    EVENT_PRICE_FEN, uuid.uuid4().hex)).fetchone()[0]
                order_no = "B" + uuid.uuid4().hex[:17]
                order_id = conn.execute(BASELINE_SQL["order"], (order_no, user_id, seeded.merchant_id, payment_id,
                                                                address, EVENT_PRICE_FEN, EVENT_PRICE_FEN)).fetchone()[0]
                conn.execute(BASELINE_SQL["order_item"], (order_id, seeded.product_id, sku_id,
                                                          EVENT_PRICE_FEN, EVENT_PRICE_FEN))
                conn.execute(BASELINE_SQL["order_event"], (order_id, user_id))
                conn.execute(BASELINE_SQL["event"], (user_id, seeded.merchant_id,
                                                     json.dumps({"order_no": order_no, "amount_fen": EVENT_PRICE_FEN})))
                conn.execute(BASELINE_SQL["flash_order"], (item_id, order_id, user_id))
            return "201"
        except LimitReached:
            return "409 limit_reached"

    n = len(seeded.buyers)
    waiting: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(n):
        waiting.put(i)
    barrier = threading.Barrier(slots + 1)
    answers: list[Answer | None] = [None] * n
    released = 0.0

    def serve(conn) -> None:
        barrier.wait()
        while True:
            try:
                i = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = attempt(conn, seeded.buyers[i][0])
            except Exception as exc:  # counted by kind in the report
                outcome = f"500 {type(exc).__name__}"
            answers[i] = Answer(outcome, int(outcome.split()[0]), released, (time.perf_counter() - released) * 1000)

    threads = [threading.Thread(target=serve, args=(conn,)) for conn in connections]
    for t in threads:
        t.start()
    client_cpu = own_cpu_seconds()
    released = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    for conn in connections:
        conn.close()
    return Run([a for a in answers if a is not None], released, own_cpu_seconds() - client_cpu)


class LimitReached(Exception):
    pass


# --- checking the rows --------------------------------------------------------------------


def final_state(url: str, item_id: int, sku_id: int) -> dict:
    with psycopg.connect(plain(url)) as conn:
        one = lambda sql, *args: conn.execute(sql, args).fetchone()[0]  # noqa: E731
        return {
            "stock_total": one("SELECT stock_total FROM flash_sale_items WHERE id = %s", item_id),
            "stock_sold": one("SELECT stock_sold FROM flash_sale_items WHERE id = %s", item_id),
            "flash_orders": one("SELECT count(*) FROM flash_sale_orders WHERE item_id = %s", item_id),
            "buyer_units": one("SELECT coalesce(sum(quantity), 0) FROM flash_sale_buyers WHERE item_id = %s", item_id),
            "orders": one("SELECT count(DISTINCT order_id) FROM order_items WHERE sku_id = %s", sku_id),
            "units_ordered": one("SELECT coalesce(sum(quantity), 0) FROM order_items WHERE sku_id = %s", sku_id),
            "payments": one("SELECT count(DISTINCT o.payment_id) FROM orders o JOIN order_items i "
                            "ON i.order_id = o.id WHERE i.sku_id = %s", sku_id),
            "sku_stock": one("SELECT stock FROM skus WHERE id = %s", sku_id),
            "movements": one("SELECT coalesce(sum(delta), 0) FROM stock_movements WHERE sku_id = %s", sku_id),
        }


def redis_left(item_id: int) -> int | None:
    from redis import Redis

    value = Redis.from_url(REDIS_URL).get(f"flash:{{{item_id}}}:left")
    return int(value) if value is not None else None


def check(name: str, run: Run, seeded: Seeded, state: dict, left: int | None = None) -> list[str]:
    """Print the outcome and the rows; answer the problems (oversold, 5xx, unanswered, mismatch)."""
    accepted, total = len(run.accepted), state["stock_total"]
    oversold = max(0, accepted - total, state["flash_orders"] - total, state["orders"] - total,
                   state["stock_sold"] - total, state["units_ordered"] - total)
    agree = {accepted, state["flash_orders"], state["orders"], state["payments"], state["units_ordered"],
             state["stock_sold"], state["buyer_units"]}
    # The SKU's units left it once, at publish (flash_sale_hold); buying moves no SKU stock.
    carved = state["sku_stock"] == seeded.sku_stock - total and state["movements"] == -total
    redis_ok = left is None or left == total - state["stock_sold"]
    refused = [a.ms for a in run.refused]
    winners = [a.ms for a in run.accepted]
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
    print(f"  {name}")
    print(f"    answers: {outcomes}; 5xx {run.server_errors}, unanswered {run.unanswered}")
    print(f"    rows: accepted {accepted}, flash_sale_orders {state['flash_orders']}, orders {state['orders']}, "
          f"payments {state['payments']}, units ordered {state['units_ordered']}, item stock_sold "
          f"{state['stock_sold']}/{total}, buyer units {state['buyer_units']}"
          + (f", Redis left {left}" if left is not None else "")
          + f"; SKU stock {state['sku_stock']} (was {seeded.sku_stock}), movements {state['movements']}"
          f" -> oversold {oversold}, {'all agree' if len(agree) == 1 and carved and redis_ok else 'MISMATCH'}")
    print(f"    sold out in {run.sell_out_s * 1000:.0f} ms = {run.orders_per_s:.1f} accepted orders/s; all "
          f"{len(run.answers)} answered in {run.drain_s * 1000:.0f} ms ({len(run.answers) / run.drain_s:.0f} answers/s)")
    print(f"    winners p50 {pct(winners, 0.5):.1f} ms p99 {pct(winners, 0.99):.1f} ms; refused p50 "
          f"{pct(refused, 0.5):.1f} ms p99 {pct(refused, 0.99):.1f} ms (client-observed, send to last byte)")
    problems = []
    if oversold:
        problems.append(f"{name}: oversold {oversold}")
    if run.server_errors:
        problems.append(f"{name}: {run.server_errors} answers 5xx")
    if run.unanswered:
        problems.append(f"{name}: {run.unanswered} buyers unanswered")
    if len(agree) != 1 or not carved or not redis_ok:
        problems.append(f"{name}: the rows disagree")
    return problems


def server_times(log_path: str, start: int, end: int) -> dict[int, list[float]]:
    """The app's request log (bytes start..end): ms inside Flask per status, for the buys."""
    times: dict[int, list[float]] = {}
    pattern = re.compile(r"path=/api/v1/flash-sales/\d+/buy status=(\d+) ms=([\d.]+)")
    with open(log_path, "rb") as log:
        log.seek(start)
        for line in log.read(end - start).decode(errors="replace").splitlines():
            if match := pattern.search(line):
                times.setdefault(int(match.group(1)), []).append(float(match.group(2)))
    return times


def floor(label: str, run_: Run, status: int, problems: list[str]) -> list[float]:
    """Print a floor run (every request answered `status`) and return its latencies."""
    ms = [a.ms for a in run_.answers if a.status == status]
    print(f"  {label}: {len(ms)} of {len(run_.answers)} answered {status}, p50 {pct(ms, 0.5):.1f} ms "
          f"p99 {pct(ms, 0.99):.1f} ms, all in {run_.drain_s * 1000:.0f} ms; server {run_.server_cpu_s:.2f} s CPU "
          f"({run_.server_cpu_s / len(run_.answers) * 1000:.2f} ms a request), load generator "
          f"{run_.client_cpu_s:.2f} s CPU")
    if len(ms) != len(run_.answers):
        problems.append(f"{label.split(':')[0]}: {len(run_.answers) - len(ms)} not answered {status}")
    return ms


def run(stock: int = 100, buyers: int = 2000, workers: int = WORKERS, threads: int = THREADS) -> tuple[list, list]:
    """Run the flash sale and its baseline. Returns (rows for bench/__main__'s table,
    problems: oversold units, 5xx, unanswered buyers, rows that disagree)."""
    url = scratch_url()
    started = time.perf_counter()
    create_database(url)
    seeded = migrate_and_seed(url, stock, buyers)
    # The ceiling is measured twice, before and after the API run (the machine's other work
    # moves it), and the higher one counts.
    before = baseline_run(url, seeded, workers * threads, seeded.baseline_item_ids[0], seeded.baseline_sku_ids[0])
    with tempfile.NamedTemporaryFile(prefix="flash-sale-", suffix=".log", delete=False) as log_file:
        log_path = log_file.name
    process, port = start_gunicorn(url, workers, threads, log_path)
    try:
        pids = warm_up(process, port, workers, threads, seeded.api_item_id)
        time.sleep(0.5)  # the workers flush their warm-up log lines (nothing to wait on: a short grace)
        warm_log_bytes = os.path.getsize(log_path)
        api = api_run(port, seeded, pids)
        time.sleep(0.5)  # the workers flush their last log lines (nothing to wait on: a short grace)
        burst_log_bytes = os.path.getsize(log_path)
        paced = paced_run(port, seeded, min(200, buyers), 100.0)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    hello = hello_run(buyers, workers, threads)
    bare = bare_run(seeded)
    after = baseline_run(url, seeded, workers * threads, seeded.baseline_item_ids[1], seeded.baseline_sku_ids[1])
    print(f"flash sale: {buyers} buyers at once for one item of {stock} units (limit 1 each), "
          f"POST /api/v1/flash-sales/<item>/buy; gunicorn {workers} workers x {threads} threads on PostgreSQL + "
          f"Redis, {os.cpu_count()} cpus ({urlparse(plain(url)).path.lstrip('/')})")
    problems = check("API  POST /api/v1/flash-sales/<item>/buy", api, seeded,
                     final_state(url, seeded.api_item_id, seeded.api_sku_id), redis_left(seeded.api_item_id))
    print(f"    the {buyers} connections were opened in {api.opened_s:.2f} s before the release (not counted)")
    print(f"    load generator: {api.client_cpu_s:.2f} s CPU over {api.drain_s:.2f} s "
          f"({api.client_cpu_s / api.drain_s:.0%} of one core, {api.client_cpu_s / buyers * 1e6:.0f} us a buyer); "
          f"gunicorn workers {api.server_cpu_s:.2f} s CPU ({api.server_cpu_s / buyers * 1000:.2f} ms a request)")
    inside = server_times(log_path, warm_log_bytes, burst_log_bytes)
    os.unlink(log_path)
    for status, values in sorted(inside.items()):
        print(f"    inside the app, status {status}: p50 {pct(values, 0.5):.2f} ms p99 {pct(values, 0.99):.2f} ms "
              f"mean {statistics.fmean(values):.2f} ms ({len(values)} requests)")
    paced_ms = [a.ms for a in paced.refused]
    print(f"    then {len(paced.answers)} losers again, paced at 100/s (nobody queues): "
          f"{', '.join(f'{k} {v}' for k, v in sorted(paced.outcomes.items()))}; p50 {pct(paced_ms, 0.5):.1f} ms "
          f"p99 {pct(paced_ms, 0.99):.1f} ms")
    if paced.server_errors or paced.unanswered:
        problems.append(f"paced refusals: {paced.server_errors} 5xx, {paced.unanswered} unanswered")
    hello_ms = floor("the floor: Flask's hello world, same gunicorn settings, the same connections released at once",
                     hello, 200, problems)
    bare_ms = floor("under it: a bare asyncio server answering every buyer's request with the same 409 (no Flask, "
                    "no Redis), released at once", bare, 409, problems)
    for name, run_, n in (("before", before, 0), ("after", after, 1)):
        problems += check(f"SQL  baseline {name} the API run (same reservation + rows, psycopg)", run_, seeded,
                          final_state(url, seeded.baseline_item_ids[n], seeded.baseline_sku_ids[n]))
    baseline = max(before, after, key=lambda r: r.orders_per_s)
    ratio = api.orders_per_s / baseline.orders_per_s if baseline.orders_per_s else 0.0
    whole = (len(api.accepted) / api.drain_s) / (len(baseline.accepted) / baseline.drain_s)
    print(f"  over the whole run instead (accepted / time until all {buyers} were answered, the previous "
          f"bench's measure): API / baseline = {whole:.3f}")
    refused_p99 = pct([a.ms for a in api.refused], 0.99)
    print(f"  API accepted orders/s / baseline = {ratio:.3f} (target >= {ORDERS_RATIO_TARGET}); refused p99 "
          f"{refused_p99:.1f} ms (target <= {REFUSED_P99_TARGET_MS:.0f}); total run {time.perf_counter() - started:.1f} s")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    rows = [("flash sale accepted orders/s: raw SQL vs API", baseline.orders_per_s, api.orders_per_s, "/s"),
            ("flash sale refused p99, all at once: target vs API", REFUSED_P99_TARGET_MS, refused_p99, "ms"),
            # the same burst to Flask's hello world: what no endpoint can beat on this machine
            ("flash sale refused p99, all at once: hello world vs API", pct(hello_ms, 0.99), refused_p99, "ms"),
            # the same burst to a server that only answers 409: this machine's and this client's share
            ("flash sale refused p99, all at once: bare server vs API", pct(bare_ms, 0.99), refused_p99, "ms"),
            # the same refusals arriving at 100/s: what one costs when nobody queues before it
            ("flash sale refused p99, paced 100/s: target vs API", REFUSED_P99_TARGET_MS, pct(paced_ms, 0.99), "ms")]
    return rows, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args()
    _rows, problems = run(args.stock, args.buyers, args.workers, args.threads)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
