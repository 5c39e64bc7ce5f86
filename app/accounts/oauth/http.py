"""The one place the adapters make HTTP requests: timeout from config, and
every transport failure or unreadable reply becomes `ProviderUnavailable`."""
from __future__ import annotations

import json
import logging

import requests
from flask import current_app

from app.accounts.oauth import ProviderUnavailable

log = logging.getLogger(__name__)


def timeout() -> float:
    return float(current_app.config.get("HTTP_TIMEOUT_SECONDS", 10))


def _send(method: str, url: str, unreachable: str, **kwargs) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=timeout(), **kwargs)
    except requests.RequestException as exc:
        log.warning("third-party sign-in: %s %s failed: %s", method, url.split("?")[0], exc)
        raise ProviderUnavailable(unreachable) from None
    if response.status_code >= 500 or response.status_code in (404, 405):
        log.warning("third-party sign-in: %s %s answered HTTP %s", method, url, response.status_code)
        raise ProviderUnavailable(unreachable)
    return response


def get_json(url: str, params: dict, unreachable: str) -> dict:
    """GET and parse a JSON object (WeChat answers JSON as text/plain)."""
    response = _send("GET", url, unreachable, params=params)
    return parse_json_object(response.content.decode("utf-8", errors="replace"), unreachable)


def post_form_text(url: str, query: dict, form: dict, unreachable: str) -> str:
    """POST a UTF-8 form and return the reply's text exactly as sent (Alipay
    signs the raw text, so it must not be re-encoded)."""
    response = _send(
        "POST", url, unreachable, params=query, data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
    )
    return response.content.decode("utf-8", errors="replace")


def parse_json_object(text: str, unreachable: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError:
        log.warning("third-party sign-in: reply is not JSON: %r", text[:200])
        raise ProviderUnavailable(unreachable) from None
    if not isinstance(data, dict):
        raise ProviderUnavailable(unreachable)
    return data
