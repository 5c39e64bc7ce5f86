"""Kuaidi100 real-time query (实时快递查询), `POST {KUAIDI100_BASE_URL}/poll/query.do`.

The request is a UTF-8 form with three fields:

- `customer`: the account's customer id (授权码);
- `param`: a JSON object as a string: `com` (carrier code, lower case), `num`
  (tracking number), `phone` (needed by SF and ZTO, optional for others),
  `resultv2` ("1": each step also carries its area and status name), `show`
  ("0": JSON) and `order` ("desc": newest first);
- `sign`: upper-case hex MD5 of `param + key + customer`, over the exact
  `param` string that is sent.

A track comes back as `{"message": "ok", "status": "200", "state": "3",
"data": [{"time", "ftime", "context", "location", "areaName", "status"}]}` with
times in Beijing time. A refusal comes back, also with HTTP 200, as
`{"result": false, "returnCode": "500", "message": "..."}`: 500 means the carrier
has nothing for this number yet, which is an empty result here; every other
code (bad company or data 400, phone check 408, server 501/502, signature 503,
account expired 601) is a `TrackingError`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import requests
from flask_babel import gettext as _

from app.core.clock import SHANGHAI
from app.orders.errors import OrderError
from app.orders.tracking.base import (
    COLLECTED,
    CUSTOMS,
    DELIVERED,
    FORWARDED,
    IN_TRANSIT,
    OUT_FOR_DELIVERY,
    PROBLEM,
    REJECTED,
    RETURNED,
    RETURNING,
    TrackingError,
    TrackingEventData,
    TrackingResult,
)

log = logging.getLogger(__name__)

QUERY_PATH = "/poll/query.do"
NO_INFO_CODE = "500"
# Codes that mean our account or signature is wrong: nobody but an admin can fix them.
CONFIG_CODES = {"503", "601"}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")

# Kuaidi100's `state` for the whole parcel.
STATES = {
    "0": IN_TRANSIT, "1": COLLECTED, "2": PROBLEM, "3": DELIVERED, "4": RETURNED,
    "5": OUT_FOR_DELIVERY, "6": RETURNING, "7": FORWARDED, "8": CUSTOMS,
    "10": CUSTOMS, "11": CUSTOMS, "12": CUSTOMS, "13": CUSTOMS, "14": REJECTED,
}

# Our columns (tracking_events.description / .location): longer carrier texts are cut, not refused.
DESCRIPTION_MAX = 300
LOCATION_MAX = 100


def sign(param: str, key: str, customer: str) -> str:
    """The `sign` form field: MD5(param + key + customer), upper-case hex."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


def query_param(carrier_code: str, tracking_no: str, phone: str | None = None) -> str:
    """The `param` form field, serialised once so the signed text is the sent text."""
    param = {"com": carrier_code.lower(), "num": tracking_no}
    if phone and phone.strip():
        param["phone"] = phone.strip()
    param.update(resultv2="1", show="0", order="desc")
    return json.dumps(param, ensure_ascii=False, separators=(",", ":"))


def state_for(code: object) -> str:
    """Our state name for Kuaidi100's `state`. The advanced three-digit codes
    (301 signed by the addressee, 304 signed at a locker ...) start with their
    basic state; anything unknown still has a track, so it is in transit."""
    text = str(code if code is not None else "").strip()
    if text in STATES:
        return STATES[text]
    if len(text) == 3 and text[0] in STATES:
        return STATES[text[0]]
    return IN_TRANSIT


def parse_time(text: object) -> datetime | None:
    """A Beijing-time "YYYY-MM-DD HH:MM[:SS]" as aware UTC, or None."""
    if not isinstance(text, str):
        return None
    for fmt in TIME_FORMATS:
        try:
            local = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=SHANGHAI).astimezone(UTC)
    return None


def parse_event(item: object) -> TrackingEventData | None:
    """One step of the track, or None when it has no readable time or text
    (one garbled step should not hide the rest of the track)."""
    if not isinstance(item, Mapping):
        return None
    occurred_at = parse_time(item.get("ftime")) or parse_time(item.get("time"))
    description = str(item.get("context") or "").strip()
    if occurred_at is None or not description:
        log.warning("Kuaidi100 track step skipped: %r", item)
        return None
    location = str(item.get("location") or item.get("areaName") or "").strip()
    return TrackingEventData(
        occurred_at=occurred_at,
        description=description[:DESCRIPTION_MAX],
        location=location[:LOCATION_MAX],
        status=str(item.get("status") or "").strip(),
    )


def parse_track(reply: Mapping) -> TrackingResult:
    """The result for a successful reply, events newest first whatever order
    they came in (equal times keep the provider's order)."""
    events = [e for e in map(parse_event, reply.get("data") or []) if e is not None]
    events.sort(key=lambda e: e.occurred_at, reverse=True)
    state = state_for(reply.get("state"))
    return TrackingResult(events=events, delivered=state == DELIVERED, state=state)


def error_for(return_code: str, message: str) -> TrackingError:
    """The error for a refusal other than "no information yet"."""
    if return_code in CONFIG_CODES:
        log.error("Kuaidi100 refused our account: %s %s", return_code, message)
        return TrackingError(_("物流查询服务配置有误，请联系客服"), code=OrderError.TRACKING_CONFIG_ERROR)
    if return_code == "400":
        log.warning("Kuaidi100 could not match the carrier or number: %s", message)
        return TrackingError(_("快递公司或运单号有误，暂时查不到物流信息"), code=OrderError.TRACKING_NOT_FOUND)
    if return_code == "408":
        return TrackingError(_("该快递公司需要正确的收件人手机号才能查询物流"), code=OrderError.TRACKING_PHONE_REQUIRED)
    log.warning("Kuaidi100 query failed: %s %s", return_code, message)
    return TrackingError(_("物流查询服务繁忙，请稍后再试"))


def unreachable() -> TrackingError:
    return TrackingError(_("暂时无法连接物流查询服务，请稍后再试"))


def is_refusal(reply: Mapping) -> bool:
    """A refusal says `result: false` and/or carries a `returnCode` other than
    200; a track carries `status: "200"` and a `data` list."""
    if reply.get("result") is False:
        return True
    return_code = str(reply.get("returnCode") or "200")
    return return_code != "200" or not isinstance(reply.get("data"), list)


class Kuaidi100Tracking:
    name = "kuaidi100"

    def __init__(self, base_url: str, customer: str, key: str, timeout_seconds: float = 10) -> None:
        self.url = base_url.rstrip("/") + QUERY_PATH
        self.customer = customer
        self.key = key
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_config(cls, config: Mapping) -> Kuaidi100Tracking:
        return cls(
            base_url=config.get("KUAIDI100_BASE_URL") or "https://poll.kuaidi100.com",
            customer=config.get("KUAIDI100_CUSTOMER") or "",
            key=config.get("KUAIDI100_KEY") or "",
            timeout_seconds=float(config.get("HTTP_TIMEOUT_SECONDS") or 10),
        )

    def query(self, carrier_code: str, tracking_no: str, phone: str | None = None) -> TrackingResult:
        """The whole track, newest first; empty when the carrier has nothing yet.
        Raises `TrackingError` when unconfigured, unreachable or refused."""
        if not self.customer or not self.key:
            log.error("Kuaidi100 tracking is selected but KUAIDI100_CUSTOMER / KUAIDI100_KEY are not set")
            raise TrackingError(_("物流查询服务配置有误，请联系客服"), code=OrderError.TRACKING_CONFIG_ERROR)
        param = query_param(carrier_code, tracking_no, phone)
        reply = self._post({"customer": self.customer, "param": param, "sign": sign(param, self.key, self.customer)})
        if is_refusal(reply):
            return_code = str(reply.get("returnCode") or reply.get("status") or "")
            if return_code == NO_INFO_CODE:
                return TrackingResult.empty()
            raise error_for(return_code, str(reply.get("message") or ""))
        return parse_track(reply)

    def _post(self, form: dict[str, str]) -> dict:
        """POST the form and return the JSON object; transport failures, HTTP
        errors and unreadable replies are all `TrackingError`."""
        try:
            response = requests.post(self.url, data=form, timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            log.warning("Kuaidi100 unreachable: %s", exc)
            raise unreachable() from None
        if response.status_code != 200:
            log.warning("Kuaidi100 answered HTTP %s", response.status_code)
            raise unreachable()
        try:
            reply = json.loads(response.content.decode("utf-8"))
        except ValueError:
            log.warning("Kuaidi100 reply is not JSON: %r", response.content[:200])
            raise unreachable() from None
        if not isinstance(reply, dict):
            raise unreachable()
        return reply
