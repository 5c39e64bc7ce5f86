"""Text files people upload from Chinese software (spreadsheets saved as CSV, gateways' bills)."""
from __future__ import annotations


def decode_upload(data: bytes) -> str | None:
    """The file's text, or None when it is neither UTF-8 nor GBK. UTF-8 (with or without a
    BOM) is tried first: GBK bytes are almost never valid UTF-8, while UTF-8 Chinese would
    decode as GBK garbage. GB18030 is a superset of GBK, so it also reads rarer characters."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
