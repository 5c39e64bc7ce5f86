"""秒杀 refusals answered before Flask: `POST /api/v1/flash-sales/<item>/buy` from a buyer
Redis already says no to (sold out, limit reached, not started, ended) gets Flask's own
answer for that refusal, replayed from this process's memory.

In a 秒杀 nineteen buyers in twenty are refused, and inside Flask a refusal cost about
1.2 ms of CPU in process (1.7 ms under the burst: request and app contexts, the hooks,
argument parsing, the error handler), four times a hello world; here it costs the two
Redis round trips it needs and little else (docs/flash-sales.md, "Refusals before Flask").

What it guarantees:

- Nothing is decided here that Flask would decide differently. The request must be one
  Flask would accept as it is: a JSON body of at most MAX_BODY bytes with only the
  buy's fields, each valid, and a bearer token the token cache vouches for. Then the
  read-only check script (`fastpath.check`: the take script's checks, in its order)
  must refuse. Anything else (a malformed body, an unknown token, Redis down or
  without the item, a replayed idempotency key, a buyer the script would let take)
  goes to Flask untouched, with the body it sent.
- Nothing is taken here: the check only reads, so a refusal here changes nothing, and a
  buyer it lets through takes (or is refused) in Flask's own take, atomically.
- The answer is the one Flask gave for the same refusal in the same language (status,
  headers and body, kept the first time Flask gave it: `offer`), with its own request
  id, and it is logged like every other request. Until Flask has given one, the
  request goes to Flask.
- No rate limit applies to this endpoint (a limit added to it would have to be checked
  here as well), and a refusal writes nothing, in Flask or here.
"""
from __future__ import annotations

import io
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from redis.exceptions import RedisError
from werkzeug.http import parse_cookie

from app.accounts.services import cached_user_id_for_api_token
from app.core.bounds import MAX_INT
from app.core.clock import utcnow
from app.flashsales import buying, fastpath
from app.flashsales.errors import FlashSaleError
from app.flashsales.states import MAX_LIMIT
from app.orders.checkout import IDEMPOTENCY_KEY
from app.web.api.security import token_in
from app.web.caught_answers import run_and_catch
from app.web.i18n import LANG_COOKIE
from app.web.logging_setup import log_request

PATH = re.compile(r"/api/v1/flash-sales/([1-9][0-9]{0,17})/buy")
PREFIX = "/api/v1/flash-sales/"
MAX_BODY = 1024  # a buy's body is under 150 bytes; a longer one is Flask's to read
FIELDS = frozenset({"quantity", "address_id", "idempotency_key"})
OFFER = "api.flash_refusal"  # in the WSGI environ: Flask's mark, the refusal's code
EXTENSION = "flash_refusals"
REFUSED = {  # what the check script answers -> the code Flask answers it with (buying.LOSERS)
    fastpath.Take.SOLD_OUT: FlashSaleError.SOLD_OUT,
    fastpath.Take.LIMIT_REACHED: FlashSaleError.LIMIT_REACHED,
    fastpath.Take.NOT_STARTED: FlashSaleError.NOT_STARTED,
    fastpath.Take.ENDED: FlashSaleError.ENDED,
}


@dataclass(frozen=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Refusal:
    code: str
    user_id: int


def _whole_id(value) -> bool:
    return type(value) is int and 1 <= value <= MAX_INT  # the schema's id_field


def _buy(body: bytes) -> tuple[int, str] | None:
    """(quantity, idempotency key) of a body Flask's schema would take as it is, or None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not set(data) <= FIELDS or not _whole_id(data.get("address_id")):
        return None
    quantity, key = data.get("quantity", 1), data.get("idempotency_key")
    if type(quantity) is not int or not 1 <= quantity <= MAX_LIMIT:
        return None
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key.strip()):
        return None
    return quantity, key.strip()


def _language(environ: dict, languages) -> str:
    """The language cookie as Flask reads it (i18n.select_locale): one of `languages`, or ""."""
    if "HTTP_COOKIE" not in environ:
        return ""
    choice = parse_cookie(environ["HTTP_COOKIE"]).get(LANG_COOKIE, "")
    return choice if choice in languages else ""


def _read_body(environ: dict) -> bytes | None:
    """The body when it is short enough to look at; the environ is given a fresh stream
    over it, so Flask reads it all the same."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


class FlashRefusals:
    """WSGI layer around the Flask app (`app.wsgi_app`)."""

    def __init__(self, wsgi_app: Callable, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self.answers: dict[tuple[str, str], Answer] = {}  # (code, language cookie) -> Flask's answer
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "POST" or not path.startswith(PREFIX):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        match = PATH.fullmatch(path)
        refusal = self._refusal(int(match.group(1)), environ) if match else None
        if refusal is None:
            return self.wsgi_app(environ, start_response)
        answer = self.answers.get((refusal.code, _language(environ, self.app.config["LANGUAGES"])))
        if answer is None:
            return self._pass_and_keep(refusal.code, environ, start_response)
        return self._answer(answer, refusal, started, environ, start_response)

    def _refusal(self, item_id: int, environ: dict) -> Refusal | None:
        """The refusal Redis makes now, or None: Flask's to answer."""
        if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != "application/json":
            return None  # (webargs reads other types' bodies differently, or not at all)
        token = token_in(environ.get("HTTP_AUTHORIZATION", ""))
        body = _read_body(environ) if token else None
        buy = _buy(body) if body is not None else None
        if buy is None:
            return None
        quantity, key = buy
        with self.app.app_context():
            client = buying.gate_client()
            if client is None:
                return None
            user_id = cached_user_id_for_api_token(token)
            if user_id is None:
                return None
            try:
                outcome = fastpath.check(client, item_id, user_id, quantity, key, utcnow())
            except RedisError:  # Flask's take meets the same failure and falls back to PostgreSQL
                return None
        code = REFUSED.get(outcome)
        return Refusal(code, user_id) if code is not None else None

    def _answer(self, answer: Answer, refusal: Refusal, started: float, environ: dict,
                start_response: Callable) -> list[bytes]:
        request_id = environ.get("HTTP_X_REQUEST_ID") or secrets.token_hex(8)
        start_response(answer.status, [*answer.headers, ("X-Request-Id", request_id)])
        log_request({"request_id": request_id, "method": "POST", "path": environ.get("PATH_INFO", ""),
                     "status": int(answer.status[:3]), "ms": round((time.perf_counter() - started) * 1000, 1),
                     "user_id": refusal.user_id, "ip": environ.get("REMOTE_ADDR")})
        return [answer.body]

    def _pass_and_keep(self, code: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        # Flask may decide otherwise (a unit came back meanwhile): then nothing is kept.
        chunks, sent = run_and_catch(self.wsgi_app, environ, start_response, lambda env: env.get(OFFER) == code)
        if sent is None:
            return chunks
        status, headers = sent
        if not any(name.lower() == "set-cookie" for name, _value in headers):
            kept = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            with self.lock:
                self.answers[(code, _language(environ, self.app.config["LANGUAGES"]))] = Answer(
                    status, kept, b"".join(chunks))
        return chunks


def offer(environ: dict, code: str) -> None:
    """Flask's side: this answer is the refusal `code`, the same for every buyer refused so
    in this language, and may be given again before Flask."""
    if code in REFUSED.values():
        environ[OFFER] = code


def init_app(app: Flask) -> FlashRefusals:
    layer = FlashRefusals(app.wsgi_app, app)
    app.wsgi_app = layer
    app.extensions[EXTENSION] = layer
    return layer
