"""Where a redirect may go when the request names it (`next`, the Referer header).

Only a path on this site: a browser that follows it stays here. Browsers are
lenient where we are strict: they drop tabs and newlines anywhere in a URL,
trim leading spaces and control characters, and read `\\` as `/`, so
`/\\t/evil.com` and `/\\evil.com` both become `//evil.com`, another host. Rather
than imitate that clean-up, anything that needs it is refused.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import request

MAX_TARGET_LENGTH = 2048


def _unprintable(ch: str) -> bool:
    # Cc controls, Cf invisible formatting, Z* spaces and separators, surrogates, unassigned
    return ch.isspace() or unicodedata.category(ch)[0] in "CZ"


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/orders?tab=paid"), else None.
    Guarantees: one leading "/" and not "//", no scheme or host, no backslash, no
    whitespace or control character anywhere, at most MAX_TARGET_LENGTH characters."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return None
    if len(target) > MAX_TARGET_LENGTH or "\\" in target or any(_unprintable(ch) for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def safe_next(default: str) -> str:
    """The request's `next` parameter (query or form) when it is a path on this site, else `default`."""
    return same_site_path(request.values.get("next")) or default


def safe_referrer(default: str) -> str:
    """The page the request came from, as a path on this site (the Referer's path and
    query when it names this host, or is a bare path), else `default`."""
    referrer = request.referrer
    if not referrer or any(_unprintable(ch) for ch in referrer):
        return default
    try:
        parts = urlsplit(referrer)
    except ValueError:  # e.g. an unclosed "[" in the host
        return default
    if parts.netloc and (parts.scheme not in ("http", "https") or parts.netloc.lower() != request.host.lower()):
        return default
    if parts.scheme and not parts.netloc:
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return same_site_path(path) or default
