"""Request cost: the CPU one storefront page costs when it comes from the page cache,
measured in process (no gunicorn, no wrk), beside a Flask hello world.

What it measures: `app.wsgi_app(environ, start_response)` called N times per page
(home, 分类, 搜索, a product page) on a warm page cache, the body read to the end, with
`time.process_time()` (CPU of this process: Python, hashing, signing, the socket work of
the Redis lookup, not the wait for Redis's answer) and `time.perf_counter()` (wall, with
that wait), in ROUNDS rounds: the median and the best round are printed. The machine is
shared and virtual, so another tenant's work lands in this process's CPU time too and
moves the median by up to 2x between runs; it only ever adds, so the best round is the
steadier figure to compare. `redis µs` is the time Redis itself spent per request (its
INFO commandstats, which count every client of the server: another user's commands in
the same seconds add to it). `calls` is the number of function calls a request makes
(cProfile's count), which load does not move: compare it before and after a change.

Each page twice:

- `new`: no cookies at all, which is what every wrk request is (wrk keeps none): since
  the page copies (app/web/shop/page_copies.py) it is answered before Flask,
- `returning`: the cookies a browser holds once it has asked for a CSRF token (its first
  POST: the session) and made three visits (`aid` too, from a search) sent back, which is
  what it sends from then on: answered by Flask from the shared page cache.

bench/hello_app.py is measured the same way as the yardstick. Then, for the home page and
both visitors, what each app-wide or shop hook costs per request (the before/after_request
functions, the session's open and save, and inside `serve_stored_page` the page lookup
and the CSRF token), timed in place, and a cProfile's top functions by cumulative and by
own time.

The shop is built as bench/storefront.py builds it for gunicorn (TestConfig, the page
cache on Redis, rate limits off, the request log written, here to /dev/null) on a
scratch database of its own (BENCH_DATABASE_URL's name + `_cost`, 40 products: a cache
hit reads no rows, so the catalogue's size does not matter) and BENCH_REDIS_URL's db,
which it flushes.

    python -m bench.request_cost [-n 2000] [--top 25] [--no-profile] [--reuse]

About 40 s with the migrations and the profiles; `--reuse --no-profile` about 20 s.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import logging
import os
import pstats
import statistics
import time
from http.cookies import SimpleCookie
from urllib.parse import urlparse

import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

from bench import BENCH_DB
from bench.flash_sale import create_database
from bench.storefront import BROWSER, make_app, migrate, seed_products, seed_shops_and_categories

PRODUCTS = 40
ROUNDS = 20


def scratch_url() -> str:
    parsed = urlparse(BENCH_DB)
    return parsed._replace(path=parsed.path.rstrip("/") + "_cost").geturl()


def build_shop(reuse: bool = False):
    """The shop app on a seeded scratch database, its page cache on, and the paths to
    measure. `reuse`: keep the database a previous run seeded (Redis is flushed anyway,
    so no page stored by other code is served). The request log keeps its level and
    format and writes to /dev/null, as under gunicorn in bench/storefront.py (whose
    stderr goes nowhere)."""
    url = scratch_url()
    create_database(url)
    app = make_app(url, PAGE_CACHE_ENABLED=True)
    for handler in logging.getLogger("app.request").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (kept open for the run)
    logging.getLogger("app.core.page_cache").setLevel(logging.ERROR)
    with app.app_context():
        from app.catalog.models import Product
        from app.extensions import db

        seeded = reuse and sa.inspect(db.engine).has_table(Product.__tablename__) and db.session.scalar(
            sa.select(sa.func.count()).select_from(Product)) == PRODUCTS
        if seeded:
            app.extensions["redis"].client.flushdb()
        else:
            migrate(app)
            merchants, leaves = seed_shops_and_categories()
            seed_products(PRODUCTS, 0, merchants, leaves)
        first_id = db.session.scalar(sa.select(sa.func.min(Product.id)))
        db.session.remove()
    paths = {"home": "/", "categories": "/categories", "search": "/search?q=T恤", "product": f"/products/{first_id + 7}"}
    return app, paths


def call(app, environ: dict) -> tuple[str, list, bytes]:
    """One request through the WSGI app: status, headers, body (read to the end)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return answer["status"], answer["headers"], data


def environs(path: str, cookie: str | None, n: int) -> list[dict]:
    headers = {"User-Agent": BROWSER, **({"Cookie": cookie} if cookie else {})}
    base, query = (path.split("?", 1) + [""])[:2]
    return [EnvironBuilder(path=base, query_string=query, headers=headers).get_environ() for _ in range(n)]


def cookies_given(headers: list) -> list[str]:
    return [name for key, value in headers if key.lower() == "set-cookie" for name in SimpleCookie(value)]


def browser_cookies(app, path: str, visits: int = 3) -> tuple[str, list[list[str]]]:
    """The Cookie header a browser sends after it asked for a CSRF token and made `visits`
    visits to `path` (each sending what the ones before set), and the cookies each visit set."""
    jar, given = SimpleCookie(), []
    for key, value in call(app.wsgi_app, environs("/csrf-token", None, 1)[0])[1]:  # the first POST's token
        if key.lower() == "set-cookie":
            jar.load(value)
    for _ in range(visits):
        cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items()) or None
        _status, headers, _ = call(app.wsgi_app, environs(path, cookie, 1)[0])
        given.append(cookies_given(headers))
        for key, value in headers:
            if key.lower() == "set-cookie":
                jar.load(value)
    return "; ".join(f"{k}={m.value}" for k, m in jar.items()), given


def redis_usec(client) -> int:
    """Microseconds Redis has spent on commands since its stats were last reset."""
    return sum(v["usec"] for k, v in client.info("commandstats").items() if k.startswith("cmdstat_"))


def measure(wsgi, path: str, cookie: str | None, n: int, redis=None, rounds: int = ROUNDS) -> dict:
    """CPU µs per request (median and best of `rounds` rounds of n / rounds requests),
    wall µs (median), Redis's µs, the last status and the cookies it set."""
    call(wsgi, environs(path, cookie, 1)[0])  # warm: the page stored, the code paths imported
    per_round = max(1, n // rounds)
    cpus, walls = [], []
    redis_before = redis_usec(redis) if redis else 0
    for _ in range(rounds):
        envs = environs(path, cookie, per_round)
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        for environ in envs:
            status, headers, _ = call(wsgi, environ)
        cpus.append((time.process_time() - cpu) / per_round * 1e6)
        walls.append((time.perf_counter() - wall) / per_round * 1e6)
    redis_spent = (redis_usec(redis) - redis_before) / (per_round * rounds) if redis else 0.0
    return {"cpu": statistics.median(cpus), "best": min(cpus), "wall": statistics.median(walls),
            "redis": redis_spent, "status": status, "cookies": cookies_given(headers)}


def calls_per_request(wsgi, path: str, cookie: str | None, n: int = 200) -> float:
    """Function calls (Python and built-in) per request, counted by cProfile: unlike the
    times, the same on a busy machine as on an idle one."""
    envs = environs(path, cookie, n)
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in envs:
        call(wsgi, environ)
    profiler.disable()
    return sum(nc for _cc, nc, _tt, _ct, _callers in pstats.Stats(profiler).stats.values()) / n


class Stopwatch:
    """Wraps a function: the CPU and wall time spent in it, summed over the calls."""

    def __init__(self, func):
        self.func, self.calls, self.cpu, self.wall = func, 0, 0.0, 0.0

    def __call__(self, *args, **kwargs):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return self.func(*args, **kwargs)
        finally:
            self.cpu += time.process_time() - cpu
            self.wall += time.perf_counter() - wall
            self.calls += 1


def hook_places(app) -> list[tuple[str, object, str]]:
    """(label, owner, attribute or list index) of everything a request may run around the
    view: the before/after_request functions, the session's open and save, the page lookup
    and the CSRF token of a stored page (these two run inside `serve_stored_page`)."""
    from app.core import page_cache
    from app.web.shop import full_pages

    places = []
    for registry, kind in ((app.before_request_funcs, "before"), (app.after_request_funcs, "after")):
        for blueprint, funcs in registry.items():
            for index, func in enumerate(funcs):
                places.append((f"{kind} {blueprint or 'app'}: {func.__qualname__}", funcs, index))
    places += [("session: open_session", app.session_interface, "open_session"),
               ("  in serve_stored_page: _shareable_request", full_pages, "_shareable_request"),
               ("  in serve_stored_page: make_response", full_pages, "make_response"),
               ("  in serve_stored_page: record_search", full_pages, "record_search"),
               ("session: save_session", app.session_interface, "save_session"),
               ("  in serve_stored_page: page_cache.page_lookup", page_cache, "page_lookup"),
               ("  in serve_stored_page: generate_csrf", full_pages, "generate_csrf")]
    return places


def hook_times(app, path: str, cookie: str | None, n: int) -> None:
    """Each hook's CPU and wall µs per request, timed in place (a stopwatch around each,
    about 1 µs of its own), and what is left for Flask, werkzeug and the rest."""
    places = hook_places(app)
    watches = []
    for _label, owner, where in places:
        original = owner[where] if isinstance(where, int) else getattr(owner, where)
        watch = Stopwatch(original)
        # A method found on the class (the session interface's) is hidden by an instance
        # attribute and uncovered again afterwards; the rest are put back as they were.
        watches.append((watch, original, isinstance(where, str) and where not in vars(owner)))
        if isinstance(where, int):
            owner[where] = watch
        else:
            setattr(owner, where, watch)
    try:
        envs = environs(path, cookie, n)
        call(app.wsgi_app, envs[0])
        for watch, _original, _inherited in watches:
            watch.calls, watch.cpu, watch.wall = 0, 0.0, 0.0
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        for environ in envs:
            call(app.wsgi_app, environ)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        for (_label, owner, where), (_watch, original, inherited) in zip(places, watches, strict=True):
            if isinstance(where, int):
                owner[where] = original
            elif inherited:
                delattr(owner, where)
            else:
                setattr(owner, where, original)
    print(f"  {'hook':<58} {'CPU µs':>7} {'wall µs':>8} {'calls':>6}")
    outer = 0.0
    for (label, _owner, _where), (watch, _original, _inherited) in zip(places, watches, strict=True):
        if watch.calls:
            print(f"  {label:<58} {watch.cpu / n * 1e6:>7.1f} {watch.wall / n * 1e6:>8.1f} {watch.calls / n:>6.1f}")
            outer += 0 if label.startswith(" ") else watch.cpu
    print(f"  {'everything else (Flask, werkzeug, the WSGI call)':<58} {(cpu - outer) / n * 1e6:>7.1f}")
    print(f"  {'whole request':<58} {cpu / n * 1e6:>7.1f} {wall / n * 1e6:>8.1f}")


def profile(app, path: str, cookie: str | None, n: int, top: int) -> None:
    envs = environs(path, cookie, n)
    call(app.wsgi_app, envs[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in envs:
        call(app.wsgi_app, environ)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(tt for _cc, _nc, tt, _ct, _callers in stats.stats.values())
    print(f"  cProfile: {total / n * 1e6:.0f} µs/request under the profiler, which inflates code of many small "
          "calls most: read the shares, and the times above")
    for order in ("cumulative", "tottime"):
        print(f"\n  top {top} by {order}:")
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3 if order == "cumulative" else 2], reverse=True)
        for (filename, line, name), (_cc, nc, tt, ct, _callers) in rows[:top]:
            where = f"{os.path.relpath(filename) if filename.startswith('/') else filename}:{line}({name})"
            print(f"    {ct / n * 1e6:>8.1f} cum {tt / n * 1e6:>7.1f} own {nc / n:>6.1f}x  {where[-90:]}")


def run(n: int = 2000, top: int = 25, with_profile: bool = True, reuse: bool = False) -> None:
    from bench.hello_app import app as hello

    app, paths = build_shop(reuse)
    redis = app.extensions["redis"].client
    print(f"Request cost in process, {n} requests per row, page cache warm (µs per request)")
    print(f"{'target':<12} {'visitor':<10} {'CPU µs':>7} {'best':>6} {'wall µs':>8} {'redis µs':>9} "
          f"{'best vs hello':>14} {'calls':>6}  status, cookies set")
    hello_row = measure(hello.wsgi_app, "/", None, n)
    print(f"{'hello world':<12} {'-':<10} {hello_row['cpu']:>7.0f} {hello_row['best']:>6.0f} {hello_row['wall']:>8.0f} "
          f"{'-':>9} {1:>14.1f} {calls_per_request(hello.wsgi_app, '/', None):>6.0f}  {hello_row['status']}")
    cookies = {}
    for name, path in paths.items():
        cookie, given = browser_cookies(app, path)
        cookies[name] = cookie
        for visitor, sent in (("new", None), ("returning", cookie)):
            row = measure(app.wsgi_app, path, sent, n, redis)
            print(f"{name:<12} {visitor:<10} {row['cpu']:>7.0f} {row['best']:>6.0f} {row['wall']:>8.0f} "
                  f"{row['redis']:>9.1f} {row['best'] / hello_row['best']:>13.1f}x "
                  f"{calls_per_request(app.wsgi_app, path, sent):>6.0f}  {row['status']}, "
                  f"{', '.join(row['cookies']) or 'none'}")
        print(f"{'':<12} (visits 1, 2, 3 of a browser set: {'; '.join(', '.join(g) or 'none' for g in given)})")
    if with_profile:
        for visitor, sent in (("new visitor", None), ("returning visitor", cookies["home"])):
            print(f"\nWhere a stored home page's time goes, {visitor}, {n} requests:")
            hook_times(app, paths["home"], sent, n)
            profile(app, paths["home"], sent, n, top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per row")
    parser.add_argument("--top", type=int, default=25, help="rows of each cProfile listing")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the database a previous run seeded")
    args = parser.parse_args()
    run(args.n, args.top, not args.no_profile, args.reuse)


if __name__ == "__main__":
    main()
