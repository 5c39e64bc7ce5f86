"""The interface every payment gateway adapter implements.

Adapters speak the gateway's documented protocol (signatures included, base URL
configurable) and know nothing of orders: they get plain values in and give
plain values back. The payments service stores, verifies and applies.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from app.core.errors import DomainError


class NotificationRejected(DomainError):
    """A notification that must change nothing: bad signature, stale timestamp,
    wrong merchant, undecryptable or malformed body. `status` is the HTTP status
    to answer with (the gateway retries on 4xx/5xx)."""

    status = 401
    code = "bad_signature"


class MalformedNotification(NotificationRejected):
    status = 400
    code = "malformed"


def setting(name: str) -> str:
    """A gateway setting from the app config; "" when unset."""
    return current_app.config.get(name) or ""


def not_configured(message: str) -> NotificationRejected:
    """Our own keys or settings are missing or unreadable: answer 503 so the gateway retries later."""
    exc = NotificationRejected(message, code="provider_not_configured")
    exc.status = 503
    return exc


def header_value(headers, name: str) -> str | None:
    """Header lookup that ignores case, as HTTP does (works for dicts and requests' headers)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def json_object(body: bytes) -> dict | None:
    """The body as a JSON object, or None when it is not UTF-8 JSON or not an object."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def peek_string(body: bytes, name: str) -> str | None:
    """A non-empty string field of a JSON-object body, or None (read before any verification)."""
    data = json_object(body)
    value = data.get(name) if data else None
    return value if isinstance(value, str) and value else None


class GatewayError(DomainError):
    """The gateway could not be reached or refused a request (prepay, query, refund)."""

    status = 502
    code = "gateway_error"


@dataclass(frozen=True)
class PayRequest:
    """What a checkout asks a gateway to collect."""

    out_trade_no: str
    amount_fen: int
    description: str  # shown to the payer, e.g. "鲜果铺 等 2 家店铺的订单"
    channel: str  # "jsapi" (mini-program), "native" (QR on desktop), "h5"/"wap" (mobile browser), "page"
    notify_url: str
    return_url: str | None = None
    openid: str | None = None  # WeChat JSAPI payer
    client_ip: str | None = None  # WeChat H5 scene_info


@dataclass(frozen=True)
class VerifiedNotification:
    """A notification whose signature checked out, reduced to what the service applies."""

    notify_id: str  # unique per provider; duplicates of one delivery share it
    out_trade_no: str
    transaction_id: str | None
    amount_fen: int | None
    succeeded: bool  # True for a successful payment, False for a failure/close
    raw: dict[str, Any] = field(default_factory=dict)  # the decoded fields, for the admin view


@dataclass(frozen=True)
class TradeState:
    """What the gateway says about a trade when asked (the payment query sweep)."""

    status: str  # "paid" | "pending" | "closed" | "unknown"
    transaction_id: str | None = None
    amount_fen: int | None = None


@dataclass(frozen=True)
class RefundResult:
    status: str  # "succeeded" | "pending" (processing at the gateway) | "failed"
    provider_refund_id: str | None = None
    message: str = ""


class PaymentProvider(ABC):
    """Every adapter implements each abstract method; `peek_notify_id` has a
    default for gateways whose notify id cannot be read before verifying."""

    name: str = ""

    @abstractmethod
    def start(self, request: PayRequest) -> dict[str, Any]:
        """Begin collecting money; returns what the client needs (a pay URL, the
        `wx.requestPayment` parameters, a QR code URL)."""

    @abstractmethod
    def verify_notification(self, headers: dict[str, str], body: bytes) -> VerifiedNotification:
        """Check the signature and decode; raises NotificationRejected / MalformedNotification."""

    def peek_notify_id(self, headers: dict[str, str], body: bytes) -> str | None:
        """The notify id as the sender claims it, read before verification (for storage)."""
        return None

    @abstractmethod
    def success_reply(self) -> tuple[bytes, int, str]:
        """(body, status, content type) that tells the gateway to stop retrying."""

    @abstractmethod
    def failure_reply(self, status: int, message: str) -> tuple[bytes, int, str]:
        """(body, status, content type) that asks the gateway to retry or reports a refusal."""

    @abstractmethod
    def query(self, out_trade_no: str) -> TradeState:
        """What the gateway says about a trade now (the payment query sweep)."""

    @abstractmethod
    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundResult:
        """Ask for a refund; the same `out_refund_no` on a retry never refunds twice."""

    @abstractmethod
    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade at the gateway so it can no longer be paid (best effort)."""
