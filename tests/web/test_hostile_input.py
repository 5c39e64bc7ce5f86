"""Every route in `app.url_map` answers hostile input with a 4xx (or a redirect), never a 500.

The walk sends, to each rule and method, as an anonymous visitor and as a signed-in
shopper, merchant owner and platform admin:
- integers past PostgreSQL's `integer` in every `<int:...>` segment,
- a NUL byte in every string segment,
- every query and form parameter name the app reads, set to a huge integer, to
  `1e999`, to a NUL byte and to a lone surrogate (JSON only: forms cannot carry one).
A response is a failure when it is a 5xx, or when only the DataError last resort in
app/web/errors.py kept it from one: input must be bounded where it comes in.
Path ids that are not under attack name the actor's own objects, so the hostile
parameters reach the views' code rather than a 404.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from hypothesis import given
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from app.web.input_limits import decimal_up_to

HUGE = "10000000000000000000"  # past 2**63 too
TOO_BIG_ID = "365502761420682"  # past 2**31 - 1 (integer columns)
NUMBER_OVERFLOW = "1e999"
NUL = "\x00"
SURROGATE = "\ud800"
APP_DIR = Path(__file__).resolve().parents[2] / "app"
NAME_IN_SOURCE = re.compile(r"""\.(?:get|getlist|pop)\(\s*["']([a-z][a-z0-9_]*)["']""")
SEGMENT = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-z_]+)>")


def parameter_names() -> list[str]:
    """Names the app reads from requests: `.get("name")` in the web layer, every
    WTForms field and the usual paging and price filters."""
    names = {"page", "per_page", "min_price", "max_price", "min_price_fen", "max_price_fen", "q", "next"}
    for path in (APP_DIR / "web").rglob("*.py"):
        names.update(NAME_IN_SOURCE.findall(path.read_text(encoding="utf-8")))
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        names.update(n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField))
    names.discard("csrf_token")
    return sorted(names)


def build_path(rule, ids: dict, attack: str | None) -> str:
    """The rule's path with segments filled: `attack` is "int" (huge ids), "text"
    (NUL in string segments) or None (the world's own ids, "x" for strings)."""

    def fill(match):
        conv, args, name = match.group("conv") or "default", match.group("args"), match.group("name")
        if conv == "any":
            return args.split(",")[0].strip().strip("'\"")
        if conv == "int":
            return TOO_BIG_ID if attack == "int" else str(ids.get(name, 1))
        if conv == "path":
            return "%00" if attack == "text" else "x"
        return "%00" if attack == "text" else str(ids.get(name, "x"))

    return SEGMENT.sub(fill, rule.rule)


def openapi_operation(spec: dict, rule, method: str) -> dict:
    path = SEGMENT.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
    return spec["paths"].get(path, {}).get(method.lower(), {})


def documented_names(spec: dict, operation: dict) -> tuple[list[str], list[str]]:
    """The operation's query parameter names and its JSON body's property names."""
    query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return query, list(body.get("properties", {}))


def json_body(names: list[str], value: str) -> str:
    """A JSON object with every name set to `value`: numbers as JSON numbers (1e999
    written as such, which Python reads as infinity), text as escaped strings."""
    if value in (HUGE, NUMBER_OVERFLOW):
        return "{" + ", ".join(f"{json.dumps(n)}: {value}" for n in names) + "}"
    return json.dumps(dict.fromkeys(names, value))


def requests_for(app, spec: dict, ids: dict, names: list[str]):
    """(method, path, query, body) for every rule and method: the path attacks, then
    every parameter set to each hostile value. API operations get the parameters their
    OpenAPI document names (their schemas refuse unknown ones), web pages every name."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "logout" in rule.rule:  # signing out would end the walk's session
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            kinds = {m.group("conv") or "default" for m in SEGMENT.finditer(rule.rule)}
            if "int" in kinds:
                yield method, build_path(rule, ids, "int"), {}, None
            if kinds & {"default", "string", "path"}:
                yield method, build_path(rule, ids, "text"), {}, None
            path = build_path(rule, ids, None)
            if rule.rule.startswith("/api/"):
                query_names, body_names = documented_names(spec, openapi_operation(spec, rule, method))
                for value in (HUGE, NUMBER_OVERFLOW, NUL, SURROGATE):
                    if body_names:
                        yield method, path, {}, json_body(body_names, value)
                    for name in query_names:  # one at a time: a schema stops at the first bad one
                        yield method, path, {name: value if value != SURROGATE else b"\xed\xa0\x80"}, None
            else:
                for value in (HUGE, NUMBER_OVERFLOW, NUL):
                    params = dict.fromkeys(names, value)
                    yield method, path, params, (None if method == "GET" else params)


class Recorder(logging.Handler):
    """Keeps the records of one logger (whatever pytest's own log capture is set to)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def error_log():
    recorder = Recorder()
    logger = logging.getLogger("app.web.errors")
    logger.addHandler(recorder)
    yield recorder
    logger.removeHandler(recorder)


def walk(client, spec, ids, names, headers=None, sign_in=None, error_log=None) -> list[str]:
    """Send every request; list those answered 5xx or saved only by the DataError last resort."""
    failures = []
    for method, path, query, body in requests_for(client.application, spec, ids, names):
        error_log.records.clear()
        if sign_in is not None:
            sign_in()  # a request may have ended the session (a password change, a role change)
        kwargs = {"query_string": query, "headers": headers or {}}
        if isinstance(body, str):
            kwargs.update(data=body, content_type="application/json")
        elif body is not None:
            kwargs["data"] = body
        response = client.open(path, method=method, **kwargs)
        refused_by_database = any(r.getMessage().startswith("database refused input") for r in error_log.records)
        if response.status_code >= 500 or refused_by_database:
            shown = (body if isinstance(body, str) else next(iter(query.values()), "")) if query or body \
                else "(path)"
            failures.append(f"{response.status_code} {method} {path} {shown!r}"[:200])
    return failures


@pytest.mark.parametrize("actor", ["anonymous", "shopper", "owner", "admin"])
def test_no_route_answers_hostile_input_with_a_server_error(app, client, login, world, actor, error_log):
    names = parameter_names()
    headers, sign_in = {}, None
    if actor != "anonymous":
        def sign_in():
            login(world[actor])
        # API routes see the same actor: the shopper's bearer token, the owner's shop key.
        headers = {"shopper": world["bearer"], "owner": world["api_key"]}.get(actor, {})
    spec = client.get("/api/v1/openapi.json").get_json()
    failures = walk(client, spec, world["ids"], names, headers, sign_in, error_log)
    assert failures == [], "\n".join(failures)


def test_lone_surrogates_in_json_are_refused_cleanly(client, world):
    """JSON can carry a lone surrogate (`"\\ud800"`), which no database text column
    can store: a 400, not a 500, and nothing is written."""
    body = '{"phone": "\\ud800", "purpose": "login"}'
    response = client.post("/api/v1/auth/sms-codes", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"
    response = client.post(f"/api/v1/orders/{world['ids']['order_no']}/reviews", headers=world["bearer"],
                           data='{"item_id": 1, "rating": 5, "text": "\\udfff"}', content_type="application/json")
    assert response.status_code == 400


def test_the_reported_inputs_get_clear_answers(client, login, world):
    """The issue's examples, each answered as bad input, changing nothing."""
    from app.catalog.models import Sku
    from app.extensions import db

    assert client.get("/api/v1/products/365502761420682").get_json()["error"]["code"] == "not_found"
    # 404 for every method, not a 405 because another method shares the path
    for method in ("GET", "PATCH"):
        assert client.open("/api/v1/merchant/skus/2147483648", method=method, headers=world["api_key"]).status_code == 404
    response = client.get("/api/v1/products?page=10000000000000000000")
    assert response.status_code == 422 and "page" in response.get_json()["error"]["fields"]
    response = client.get("/api/v1/products?min_price_fen=1e999")
    assert response.status_code == 422 and "min_price_fen" in response.get_json()["error"]["fields"]
    sku_id = world["ids"]["sku_id"]
    for body in ({"set": 2147483648}, {"adjust": -2147483648, "reason": "x"}):
        response = client.patch(f"/api/v1/merchant/skus/{sku_id}/stock", json=body, headers=world["api_key"])
        assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == set(body) - {"reason"}
    db.session.expire_all()
    assert db.session.get(Sku, sku_id).stock == 9  # 10, less the world's order
    response = client.get("/api/v1/orders/%00", headers=world["bearer"])
    assert response.status_code == 400 and response.get_json()["error"]["fields"] == {"path": response.get_json()["error"]["message"]}
    login(world["shopper"])
    response = client.get("/orders/%00")
    assert response.status_code == 400 and "无法识别的字符" in response.get_data(as_text=True)
    assert client.get("/search?min_price=1e999&page=10000000000000000000").status_code == 200
    response = client.post("/me/profile", data={"nickname": "a\x00b"})
    assert response.status_code == 400 and world["shopper"].nickname != "a\x00b"


@given(limit=st.integers(0, 10**12), number=st.integers(0, 10**13))
def test_the_id_pattern_matches_exactly_the_numbers_up_to_its_limit(limit, number):
    pattern = decimal_up_to(limit)
    assert bool(re.fullmatch(pattern, str(number))) == (number <= limit)
    assert re.fullmatch(pattern, str(limit)) and not re.fullmatch(pattern, f"0{number}")
