"""Aliyun SMS: the `SendSms` action of the dysmsapi RPC API (version 2017-05-25).

Every request carries the RPC common parameters and is signed with the
documented signature version 1.0:

1. percent-encode every name and value (RFC 3986: only `A-Z a-z 0-9 - _ . ~`
   stay as they are, a space is `%20`), sort by name and join as `k=v&k=v`;
2. string to sign = `METHOD&%2F&` + percent-encode(that canonical query);
3. Signature = base64(HMAC-SHA1(access key secret + "&", string to sign)).

The parameters go as a form body of a POST to `ALIYUN_SMS_BASE_URL`. A reply
with `Code == "OK"` carries the `BizId` we keep as the provider id; anything
else, or no reply at all, is a `DeliveryError`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import requests

from app.notifications.providers.base import DeliveryError

API_VERSION = "2017-05-25"
REGION_ID = "cn-hangzhou"
MAINLAND_MOBILE = re.compile(r"^1\d{10}$")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature rules want it (`~` kept, space as %20)."""
    return quote(str(value), safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(method: str, params: Mapping[str, str], secret: str) -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_templates(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """`"verification_code=SMS_1, notice=SMS_2"` -> {"verification_code": "SMS_1", ...}."""
    if not spec:
        return {}
    if isinstance(spec, Mapping):
        return dict(spec)
    mapping: dict[str, str] = {}
    for item in spec.split(","):
        key, sep, code = item.partition("=")
        if sep and key.strip() and code.strip():
            mapping[key.strip()] = code.strip()
    return mapping


def mainland_number(to: str) -> str:
    """The 11-digit number SendSms wants, from `+8613800000000` or `13800000000`."""
    number = re.sub(r"[\s-]", "", to)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix):]
            break
    if not MAINLAND_MOBILE.match(number):
        raise DeliveryError(f"not a mainland mobile number: {to!r}")
    return number


class AliyunSms:
    name = "aliyun"

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: Mapping[str, str], base_url: str, timeout: float = 10) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.base_url = base_url
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping) -> AliyunSms:
        key_id = config.get("ALIYUN_SMS_ACCESS_KEY_ID")
        secret = config.get("ALIYUN_SMS_ACCESS_KEY_SECRET")
        if not key_id or not secret:
            raise DeliveryError("ALIYUN_SMS_ACCESS_KEY_ID and ALIYUN_SMS_ACCESS_KEY_SECRET must be set")
        return cls(
            access_key_id=key_id,
            access_key_secret=secret,
            sign_name=config.get("ALIYUN_SMS_SIGN_NAME") or "",
            templates=parse_templates(config.get("ALIYUN_SMS_TEMPLATES")),
            base_url=config["ALIYUN_SMS_BASE_URL"],
            timeout=config.get("HTTP_TIMEOUT_SECONDS", 10),
        )

    def build_params(self, to: str, template: str, params: dict) -> dict[str, str]:
        """The signed parameters of one SendSms request."""
        code = self.templates.get(template)
        if not code:
            raise DeliveryError(f"no Aliyun template code configured for {template!r} (ALIYUN_SMS_TEMPLATES)")
        request = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": REGION_ID,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumbers": mainland_number(to),
            "SignName": self.sign_name,
            "TemplateCode": code,
            "TemplateParam": json.dumps({k: str(v) for k, v in params.items()}, ensure_ascii=False,
                                        separators=(",", ":")),
        }
        request["Signature"] = sign("POST", request, self.access_key_secret)
        return request

    def send(self, to: str, text: str, template: str, params: dict) -> str:
        request = self.build_params(to, template, params)
        # Encoded by hand so the body uses exactly the encoding that was signed.
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in request.items())
        try:
            response = requests.post(
                self.base_url, data=body.encode("ascii"), timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                         "Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"Aliyun SMS unreachable: {exc}") from exc
        try:
            reply = response.json()
        except ValueError:
            raise DeliveryError(f"Aliyun SMS answered HTTP {response.status_code} without JSON") from None
        if not isinstance(reply, dict):
            raise DeliveryError(f"Aliyun SMS answered HTTP {response.status_code} with unexpected JSON")
        if reply.get("Code") != "OK":
            raise DeliveryError(f"Aliyun SMS refused: {reply.get('Code')}: {reply.get('Message')}")
        biz_id = reply.get("BizId")
        if not biz_id:
            raise DeliveryError("Aliyun SMS answered OK without a BizId")
        return str(biz_id)
