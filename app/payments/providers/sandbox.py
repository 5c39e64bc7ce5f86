"""The sandbox gateway: a local stand-in for development and tests.

It never moves money. Its pay page (`/payments/sandbox/<out_trade_no>`) lets a
developer choose "paid" or "failed"; the page then delivers a notification to
`POST /payments/notify/sandbox` exactly as a real gateway would, so the whole
notification path (signature, idempotency, amount check) is exercised. Refunds
succeed at once and send no notification.

Notification contract:
    body    JSON {"out_trade_no", "transaction_id", "amount_fen", "status": "SUCCESS"|"FAIL", "notify_id"}
    header  X-Sandbox-Signature = hex HMAC-SHA256(raw body, SANDBOX_PAY_SECRET)

The sandbox exists only where SANDBOX_PAY_SECRET is set (see
`providers.sandbox_enabled`), so it can never take a real order.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from flask import current_app

from app.payments.providers.base import (
    MalformedNotification,
    NotificationRejected,
    PaymentProvider,
    PayRequest,
    RefundResult,
    TradeState,
    VerifiedNotification,
    header_value,
    peek_string,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
STATUSES = ("SUCCESS", "FAIL")
FIELDS = ("out_trade_no", "transaction_id", "amount_fen", "status", "notify_id")


def sign_body(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of the raw body: what `X-Sandbox-Signature` must carry."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def build_notification(out_trade_no: str, amount_fen: int, status: str, transaction_id: str | None = None,
                       notify_id: str | None = None, *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A signed notification (body, headers) as the sandbox pay page sends it.

    Ids default to fresh random ones; pass the same `notify_id` to simulate a
    redelivery. `secret` defaults to the app's SANDBOX_PAY_SECRET.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    body = json.dumps({
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id or "SBX" + secrets.token_hex(10).upper(),
        "amount_fen": int(amount_fen),
        "status": status,
        "notify_id": notify_id or "SBN" + secrets.token_hex(10).upper(),
    }, ensure_ascii=False).encode("utf-8")
    key = secret if secret is not None else _secret()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(body, key)}


def _secret() -> str:
    secret = current_app.config.get("SANDBOX_PAY_SECRET")
    if not secret:
        # No secret means no sandbox: nothing can be signed or verified.
        raise NotificationRejected("sandbox disabled", code="provider_unavailable")
    return secret


def _parse(body: bytes) -> dict[str, Any]:
    """The notification's fields, each checked for type; MalformedNotification otherwise."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedNotification("body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedNotification("body is not a JSON object")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise MalformedNotification("missing " + ", ".join(missing))
    for name in ("out_trade_no", "transaction_id", "notify_id"):
        if not isinstance(data[name], str) or not data[name]:
            raise MalformedNotification(f"{name} must be a non-empty string")
    amount = data["amount_fen"]
    # bool is an int subclass in Python; `true` is not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise MalformedNotification("amount_fen must be a non-negative integer")
    if data["status"] not in STATUSES:
        raise MalformedNotification("status must be SUCCESS or FAIL")
    return data


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def start(self, request: PayRequest) -> dict[str, Any]:
        """The local pay page's path; nothing is sent anywhere."""
        return {"pay_url": f"/payments/sandbox/{request.out_trade_no}"}

    def verify_notification(self, headers: dict[str, str], body: bytes) -> VerifiedNotification:
        """Signature first (401 when missing or wrong), then the body (400 when malformed)."""
        signature = header_value(headers, SIGNATURE_HEADER) or ""
        expected = sign_body(body, _secret())
        if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
            raise NotificationRejected("bad sandbox signature")
        data = _parse(body)
        return VerifiedNotification(
            notify_id=data["notify_id"],
            out_trade_no=data["out_trade_no"],
            transaction_id=data["transaction_id"],
            amount_fen=data["amount_fen"],
            succeeded=data["status"] == "SUCCESS",
            raw=data,
        )

    def peek_notify_id(self, headers: dict[str, str], body: bytes) -> str | None:
        return peek_string(body, "notify_id")

    def success_reply(self) -> tuple[bytes, int, str]:
        return b'{"ok": true}', 200, "application/json"

    def failure_reply(self, status: int, message: str) -> tuple[bytes, int, str]:
        body = json.dumps({"ok": False, "error": message}, ensure_ascii=False).encode("utf-8")
        return body, status, "application/json"

    def query(self, out_trade_no: str) -> TradeState:
        """The sandbox keeps no state of its own: only notifications tell."""
        return TradeState("unknown")

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str, notify_url: str | None = None) -> RefundResult:
        """Succeeds at once; the id derives from `out_refund_no`, so a retry gets the same one."""
        return RefundResult("succeeded", provider_refund_id="SBR" + out_refund_no)

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        """Keeps no state: every refund asked about was made, at once, like `refund`."""
        return RefundResult("succeeded", provider_refund_id="SBR" + out_refund_no)

    def close(self, out_trade_no: str) -> None:
        return None
