"""Security headers on every response (pages, HTMX partials, JSON, webhooks, static
files, error pages), set by Flask-Talisman.

- Content-Security-Policy: scripts, styles, fonts and requests from our own origin
  only; no inline script, no eval (HTMX is told not to use it, see base.html); images
  also from `data:` (Bootstrap's SVG icons, QR codes) and `blob:` (upload previews).
  Nobody may frame us (`frame-ancestors 'none'`, and X-Frame-Options: DENY for old
  browsers). No `form-action`: checkout's POST is answered with a redirect to the
  payment gateway, which that directive would block.
- X-Content-Type-Options: nosniff; Referrer-Policy: strict-origin-when-cross-origin
  (the gateways and other sites see our origin, never a path with an order number).
- HTTPS_ONLY (production): plain HTTP is redirected to HTTPS (except /healthz, which
  load balancers poll over HTTP) and HTTPS answers carry HSTS.
"""
from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    "img-src": f"{SELF} data: blob:",
    "font-src": SELF,
    "connect-src": SELF,
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = {"browsing-topics": "()", "camera": "()", "microphone": "()", "geolocation": "()"}
HSTS_MAX_AGE_SECONDS = 365 * 86400


def init_app(app: Flask) -> None:
    # One Talisman per app: it keeps its options and the app on itself, so a shared
    # instance would give every app in the process (tests make several) the last one's.
    https_only = app.config["HTTPS_ONLY"]
    app.extensions["talisman"] = Talisman(
        app,
        force_https=https_only,
        strict_transport_security=https_only,
        strict_transport_security_max_age=HSTS_MAX_AGE_SECONDS,
        strict_transport_security_include_subdomains=False,  # other hosts of the domain are not ours to commit
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        # Cookie flags stay as config.py sets them (Secure outside development and tests).
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=True,
    )


def plain_http_allowed(view):
    """Exempt `view` from the HTTPS redirect (it keeps every header)."""
    view.talisman_view_options = {"force_https": False}  # what Talisman's own per-view decorator sets
    return view
