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

import flask_talisman
from flask import Flask, request
from werkzeug.datastructures import Headers

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


class Talisman(flask_talisman.Talisman):
    """Flask-Talisman with each endpoint's header values worked out once per process.

    Talisman builds the same values again on every answer: the view's options merged with
    the defaults (four times a request) and the policies joined into strings, about 50 µs
    of a stored storefront page's answer (bench/request_cost.py, docs/caching.md). Without
    a nonce they depend on the endpoint alone, so an endpoint's first answer gets them
    from Talisman's own code and later answers copy them. HSTS depends on the request
    (HTTPS or not) and is still set per answer by Talisman. Overrides private methods of
    flask-talisman 1.1.0 (pinned); tests/web/test_security_headers.py checks the headers
    are a plain Talisman's."""

    def __init__(self, app: Flask | None = None, **kwargs) -> None:
        self._options_by_endpoint: dict[str | None, dict] = {}
        self._headers_by_endpoint: dict[str | None, Headers] = {}
        super().__init__(app, **kwargs)

    def _get_local_options(self) -> dict:
        endpoint = request.endpoint
        options = self._options_by_endpoint.get(endpoint)
        if options is None:
            options = self._options_by_endpoint[endpoint] = super()._get_local_options()
        return options

    def _set_response_headers(self, response):
        options = self._get_local_options()
        if options["content_security_policy_nonce_in"]:
            return super()._set_response_headers(response)  # a nonce per answer: nothing to keep
        fixed = self._headers_by_endpoint.get(request.endpoint)
        if fixed is None:
            fixed = Headers()
            self._set_feature_policy_headers(fixed, options)
            self._set_permissions_policy_headers(fixed, options)
            self._set_document_policy_headers(fixed, options)
            self._set_frame_options_headers(fixed, options)
            self._set_content_security_policy_headers(fixed, options)
            self._set_referrer_policy_headers(fixed)
            self._headers_by_endpoint[request.endpoint] = fixed
        response.headers.update(fixed)
        self._set_hsts_headers(response.headers)
        return response


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
