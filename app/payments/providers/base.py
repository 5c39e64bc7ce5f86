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
    """What the gateway says of one refund, when asked for it (`refund`) or about it
    (`query_refund`)."""

    # "succeeded" | "pending" (processing at the gateway) | "failed" (refused or closed)
    # | "abnormal" (taken but not paid back: the buyer's card is closed, a person must act)
    # | "unknown" (`query_refund` only: the gateway has no such refund, it may be sent)
    status: str
    provider_refund_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class VerifiedRefundNotification:
    """A refund notification whose signature checked out, reduced to what the service applies."""

    notify_id: str  # unique per provider; duplicates of one delivery share it
    out_trade_no: str
    out_refund_no: str
    provider_refund_id: str | None
    status: str  # "succeeded" | "abnormal" | "failed"
    refund_fen: int  # the amount this refund sends back
    raw: dict[str, Any] = field(default_factory=dict)  # the decoded fields, for the admin view
    message: str = ""  # for an operator: e.g. the account that refused an abnormal refund


class PaymentProvider(ABC):
    """Every adapter implements each abstract method; `peek_notify_id` has a
    default for gateways whose notify id cannot be read before verifying, and
    `verify_refund_notification` one for gateways that send no refund notifications."""

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
               reason: str, notify_url: str | None = None) -> RefundResult:
        """Ask for a refund; the same `out_refund_no` on a retry never refunds twice.
        `notify_url` is where a gateway that announces refund results sends them."""

    @abstractmethod
    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        """What the gateway says of a refund sent before: its status, or "unknown" when
        it has none by that `out_refund_no` (so sending it is safe). GatewayError on trouble."""

    def verify_refund_notification(self, headers: dict[str, str], body: bytes) -> VerifiedRefundNotification:
        """Check a refund notification's signature and decode it. A gateway that sends
        none refuses every one (404), so nothing posted to its refund endpoint is trusted."""
        exc = NotificationRejected(f"{self.name or 'this gateway'} sends no refund notifications",
                                   code="no_refund_notifications")
        exc.status = 404
        raise exc

    @abstractmethod
    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade at the gateway so it can no longer be paid (best effort)."""
