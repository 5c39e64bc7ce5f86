"""Browser tests: the real app served by werkzeug on a random local port,
driven by the system Chromium through Playwright (sync API).

Every test here commits for real (the live server runs in another thread with
its own connections), so each one is marked `live_db`: the shared rollback
fixture leaves it alone and empties the tables afterwards.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page
from werkzeug.serving import make_server

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests.conftest import Outbox

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser/ commits for real."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.live_db)


class LiveServer:
    """`make_app(url)` builds the app once the port is known, so the app's
    PUBLIC_BASE_URL is the server's own address (mailed links and the sandbox's
    notification reach it)."""

    def __init__(self, make_app: Callable[[str], object], outbox_dir: Path) -> None:
        self.outbox = Outbox(outbox_dir)
        self._server = make_server("127.0.0.1", 0, self._serve, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.app = make_app(self.url)
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def _serve(self, environ, start_response):
        return self.app(environ, start_response)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(app, tmp_path_factory) -> Iterator[LiveServer]:
    """The app as a browser sees it: real CSRF, jobs run inline (so an SMS is in
    the console outbox as soon as the request returns), its own outbox and uploads.
    Depends on the session `app` fixture, which builds the schema from the migrations."""
    base = tmp_path_factory.mktemp("live")
    server = LiveServer(lambda url: create_app(
        TestConfig,
        PUBLIC_BASE_URL=url,
        JOBS_INLINE=True,
        WTF_CSRF_ENABLED=True,
        OUTBOX_DIR=str(base / "outbox"),
        UPLOAD_DIR=str(base / "uploads"),
        REPORT_DIR=str(base / "reports"),
    ), base / "outbox")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args) -> dict:
    """pytest-playwright's browser, but Debian's Chromium (Playwright's download is unavailable)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def csp_violations() -> Iterator[list[str]]:
    """What Chromium refused under the Content-Security-Policy during the test (it logs
    each refusal as a console error naming the policy: "Refused to load …" or "Applying
    inline style violates the following Content Security Policy directive …"); the test
    fails on any."""
    refused: list[str] = []
    yield refused
    assert refused == [], "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


@pytest.fixture
def open_context(new_context, live_server, csp_violations) -> Callable[..., BrowserContext]:
    """A fresh browser profile (cookies of its own) pointed at the live server,
    phone-sized unless told otherwise. Extra cookies, e.g. {"lang": "en"}, are set up front.
    Every page it opens is watched for CSP refusals (see `csp_violations`)."""

    def watch(message) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused to" in message.text):
            csp_violations.append(f"{message.location.get('url', '')}: {message.text}")

    def open_(viewport: dict | None = None, cookies: dict[str, str] | None = None) -> BrowserContext:
        context = new_context(base_url=live_server.url, viewport=viewport or MOBILE, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
        context.set_default_timeout(10_000)
        context.on("console", watch)
        if cookies:
            context.add_cookies([{"name": k, "value": v, "url": live_server.url} for k, v in cookies.items()])
        return context

    return open_


@pytest.fixture
def snap() -> Callable[[Page, str], None]:
    """Save a full-page screenshot of `page` at phone and desktop size
    (tests/browser/screenshots/<name>-390.png and <name>-1440.png), then
    restore the page's own size."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def shoot(page: Page, name: str) -> None:
        original = page.viewport_size or MOBILE
        for size in (MOBILE, DESKTOP):
            page.set_viewport_size(size)
            page.wait_for_load_state("load")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"), full_page=True,
                            animations="disabled", caret="hide")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px wide"
        page.set_viewport_size(original)

    return shoot
