"""The embedded default keeps working: migrate a fresh SQLite file, seed the demo
data twice, then browse the main pages as a visitor and as the demo super admin.

Everything runs in subprocesses configured only through the environment, exactly
like `make run`, so the development app's extensions (Redis holder, rate-limit
storage) never touch this test process. Needs neither PostgreSQL nor Redis.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the development app: signs in through the real form (CSRF on) and
# reports each page's status and a little of what it showed.
BROWSE = r"""
import json, re, sys
from wsgi import app

def token(html):
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)

out = {}
client = app.test_client()
for path in ["/", "/login", "/register", "/categories", "/cart", "/healthz", "/api/v1/openapi.json", "/api/v1/docs"]:
    resp = client.get(path)
    # the whole OpenAPI document (it is long), a little of the rest
    out[path] = {"status": resp.status_code, "text": resp.get_data(as_text=True)[:2000000]}
login_page = client.get("/login").get_data(as_text=True)
resp = client.post("/login", data={"mode": "password", "account": "13800000001", "password": "demo1234",
                                   "csrf_token": token(login_page)})
out["POST /login"] = {"status": resp.status_code, "text": resp.headers.get("Location", "")}
for path in ["/me", "/me/addresses", "/admin/", "/admin/orders", "/admin/payments", "/admin/stats/rules", "/admin/stats/segments"]:
    resp = client.get(path)
    out["signed in " + path] = {"status": resp.status_code, "text": resp.get_data(as_text=True)[:200000]}
shopper = app.test_client()
resp = shopper.post("/login", data={"mode": "password", "account": "13900000001", "password": "demo1234",
                                    "csrf_token": token(shopper.get("/login").get_data(as_text=True))})
for path in ["/orders", "/orders?tab=to_review", "/cart", "/aftersales"]:
    resp = shopper.get(path)
    out["shopper " + path] = {"status": resp.status_code, "text": resp.get_data(as_text=True)[:200000]}
# every demo after-sale request's page, and the order pages they belong to
numbers = sorted(set(re.findall(r'href="/aftersales/(S[0-9]+)"', out["shopper /aftersales"]["text"])))
out["shopper aftersale pages"] = {"status": [shopper.get("/aftersales/" + no).status_code for no in numbers],
                                  "text": ""}
json.dump(out, sys.stdout)
"""


# This module needs no PostgreSQL or Redis: replace the suite's autouse fixtures.
@pytest.fixture(autouse=True)
def _database():
    yield


@pytest.fixture(autouse=True)
def _redis():
    yield


@pytest.fixture(autouse=True)
def outbox():
    yield


@pytest.fixture
def dev_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REDIS_", "RATELIMIT_", "DATABASE_", "SESSION_COOKIE_", "FLASK_"))}
    env.update({
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "PYTHONPATH": str(ROOT),
        "DEMO_HISTORY_DAYS": "4",  # a short history: the months make `make run` a little slower, not different
    })
    return env


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def counts(db_file: Path) -> dict[str, int]:
    with sqlite3.connect(db_file) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("users", "addresses", "messages")}


@pytest.mark.timeout(480)  # four subprocesses; the demo seed alone is 30-60 s on a loaded machine
def test_the_embedded_default_migrates_seeds_and_serves_the_main_pages(dev_env, tmp_path):
    flask = ("-m", "flask", "--app", "wsgi")
    run(dev_env, *flask, "db", "upgrade")
    first = run(dev_env, *flask, "seed-demo")
    after_first = counts(tmp_path / "shop.db")
    second = run(dev_env, *flask, "seed-demo")

    assert "13800000001" in first.stdout and "demo1234" in first.stdout
    assert second.stdout == first.stdout
    # 40 approvals, 12 low-stock alerts, 4 paid orders for the shops, 3 shipping notices for the
    # shopper, 4 commission notices for the sharer the shopper is bound to; then the after-sales
    # demo: 5 more orders with their notices, and each request's news to its shop and shopper;
    # 经常一起买's 3 regular customers and the segments' 16, with their orders' notices; the
    # history: 30 customers with an address each and 8 browsers, their orders' notices
    assert (after_first["users"], after_first["addresses"]) == (9 + 3 + 16 + 38, 1 + 3 + 16 + 30)
    assert after_first["messages"] > 157
    assert counts(tmp_path / "shop.db") == after_first  # the second run changed nothing

    pages = json.loads(run(dev_env, "-c", BROWSE).stdout)
    statuses = {path: page["status"] for path, page in pages.items()}
    assert statuses == {
        "/": 200, "/login": 200, "/register": 200, "/categories": 200, "/cart": 200, "/healthz": 200,
        "/api/v1/openapi.json": 200, "/api/v1/docs": 200,
        "POST /login": 302, "signed in /me": 200, "signed in /me/addresses": 200, "signed in /admin/": 200,
        "signed in /admin/orders": 200, "signed in /admin/payments": 200, "signed in /admin/stats/rules": 200,
        "signed in /admin/stats/segments": 200,
        "shopper /orders": 200, "shopper /orders?tab=to_review": 200, "shopper /cart": 200,
        "shopper /aftersales": 200, "shopper aftersale pages": [200] * 5,
    }
    health = json.loads(pages["/healthz"]["text"])
    assert health["checks"]["database"] == "ok" and health["checks"]["redis"].startswith("not configured")
    assert json.loads(pages["/api/v1/openapi.json"]["text"])["openapi"].startswith("3.")
    assert pages["POST /login"]["text"].endswith("/admin/")  # the demo super admin lands in the admin console
    assert "平台管理员" in pages["signed in /me"]["text"]
    assert "新增收货地址" in pages["signed in /me/addresses"]["text"]
    assert "工作台" in pages["signed in /admin/"]["text"]
    # 经常一起买 on SQLite: the demo's pairs and what the history adds
    rules_page = pages["signed in /admin/stats/rules"]["text"]
    assert rules_page.count('class="rule-row"') >= 12  # a page of them: the pairs, and the history's
    # segments computed on SQLite: named from their centroids (which kinds depends on the demo's history)
    segments_page = pages["signed in /admin/stats/segments"]["text"]
    assert sum(kind in segments_page for kind in ("高价值活跃", "沉睡老客", "只逛不买", "新客", "潜力客户", "普通客户")) >= 2
    # the demo orders, made on SQLite by the same checkout, payment and shipping code
    assert pages["shopper /orders"]["text"].count('order-card"') == 10  # one page of the 11
    assert pages["shopper /orders?tab=to_review"]["text"].count('order-card"') == 5
