"""Readable, unique numbers for orders and payments.

An order number reads as the Shanghai date and time it was placed plus random
digits (`2611301532` + `482913`): a buyer can read it out on the phone, support
can tell its day at a glance, and the random tail keeps numbers unguessable
enough that one buyer cannot walk through another's. Uniqueness is the
database's job (a unique column); a collision just tries again.
"""
from __future__ import annotations

import secrets

from app.core.clock import SHANGHAI, utcnow


def _stamp() -> str:
    return utcnow().astimezone(SHANGHAI).strftime("%y%m%d%H%M")


def new_order_no() -> str:
    return f"{_stamp()}{secrets.randbelow(10**8):08d}"


def new_out_trade_no() -> str:
    return f"P{_stamp()}{secrets.randbelow(10**10):010d}"


def refund_no_for_order(order_no: str) -> str:
    """The refund number of an order cancelled after payment: one per order, so a
    retry reuses it and the gateway refunds once."""
    return f"RF{order_no}"


def duplicate_refund_no(transaction_id: str | None, out_trade_no: str) -> str:
    """The refund number of a second collection of a paid trade: fixed by the gateway's
    transaction id, so the same second collection reported twice is refunded once
    (payments makes it; reconciliation matches a bill's second row to it)."""
    return f"RD{(transaction_id or out_trade_no)[-30:]}"
