"""After-sale numbers: `S` + the Shanghai date and time + random digits, read out on the
phone like an order number (see app/orders/numbers.py); the refund of a request has a
number fixed by it, so a retry never refunds twice."""
from __future__ import annotations

import secrets

from app.core.clock import SHANGHAI, utcnow


def new_aftersale_no() -> str:
    return f"S{utcnow().astimezone(SHANGHAI).strftime('%y%m%d%H%M')}{secrets.randbelow(10**8):08d}"


def refund_no(aftersale_no: str) -> str:
    return f"RA{aftersale_no}"
