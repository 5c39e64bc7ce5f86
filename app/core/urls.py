"""Absolute links to this site: every one is built on `PUBLIC_BASE_URL`.

A link that leaves the site (a mail, an SMS, a gateway's notify or return URL, a
share link, an image URL in the API) must never come from the request's `Host`
header: whoever sends the request chooses that header, and a reset link mailed
to `evil.example` hands the account over. `url_for(..., _external=True)` does
exactly that, so nothing in the app uses it; `external_url` does not look at the
request at all, which also makes it work in jobs and CLI commands.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_base_url() -> str:
    """This site's public address without a trailing slash, e.g. `https://shop.example.com`.
    Raises RuntimeError when it is not configured (production refuses to start without it)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise RuntimeError("PUBLIC_BASE_URL is not configured")
    return base.rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on PUBLIC_BASE_URL, the same whatever request
    (or none) is being served. A path in PUBLIC_BASE_URL (`https://x.cn/shop`) is kept."""
    base = urlsplit(public_base_url())
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def public_url(path: str) -> str:
    """`path` (a path on this site, starting with "/") made absolute on PUBLIC_BASE_URL."""
    if not path.startswith("/"):
        raise ValueError(f"not a path on this site: {path!r}")
    return public_base_url() + path
