"""Payment gateway webhooks (server to server: payment results at `/notify/<provider>`,
refund results at `/refund-notify/<provider>`) and the sandbox gateway's pay page.

Notifications are CSRF-exempt (they come from the gateway, signed) and are
answered in the gateway's own reply format. The sandbox pages answer 404
wherever the sandbox is not enabled, so it can never take real orders.
"""
from __future__ import annotations

import logging

import requests
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.db import transaction
from app.extensions import csrf
from app.payments import providers, refund_notifications
from app.payments import services as payments
from app.payments.providers import sandbox

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)


@bp.get("/ping")
def ping():
    return jsonify(ok=True)


def _gateway_or_404(provider: str) -> None:
    if provider not in providers.NAMES or (provider == "sandbox" and not providers.sandbox_enabled()):
        abort(404)


def _reply(reply: payments.Reply):
    response = make_response(reply.body, reply.status)
    response.headers["Content-Type"] = reply.content_type
    return response


@bp.post("/notify/<provider>")
@csrf.exempt
def notify(provider: str):
    _gateway_or_404(provider)
    with transaction():
        reply = payments.receive_notification(provider, dict(request.headers), request.get_data())
    return _reply(reply)


@bp.post("/refund-notify/<provider>")
@csrf.exempt
def refund_notify(provider: str):
    """Refund results (the `notify_url` of a refund request); answered like payment ones."""
    _gateway_or_404(provider)
    with transaction():
        reply = refund_notifications.receive_refund_notification(provider, dict(request.headers),
                                                                 request.get_data())
    return _reply(reply)


def _sandbox_or_404() -> None:
    if not providers.sandbox_enabled():
        abort(404)


@bp.get("/sandbox/<out_trade_no>")
@login_required
def sandbox_pay(out_trade_no: str):
    """The simulated gateway's checkout page: the amount, and Pay / Fail buttons."""
    _sandbox_or_404()
    payment = payments.for_buyer(current_user.id, out_trade_no)
    return render_template("shop/orders/sandbox_pay.html", payment=payment)


@bp.post("/sandbox/<out_trade_no>")
@login_required
def sandbox_submit(out_trade_no: str):
    """Pay or fail: delivers a signed notification to the notify URL, as a gateway would."""
    _sandbox_or_404()
    payment = payments.for_buyer(current_user.id, out_trade_no)
    status = "SUCCESS" if request.form.get("result") == "pay" else "FAIL"
    body, headers = sandbox.build_notification(payment.out_trade_no, payment.amount_fen, status)
    # Our own notify endpoint on PUBLIC_BASE_URL, never the request's Host (which would let
    # anyone make the server post to a host of their choosing).
    target = payments.notify_url("sandbox")
    try:
        reply = requests.post(target, data=body, headers=headers,
                              timeout=current_app.config["HTTP_TIMEOUT_SECONDS"])
        delivered = reply.status_code == 200
    except requests.RequestException:
        log.warning("sandbox notification to %s failed", target, exc_info=True)
        delivered = False
    if status == "FAIL":
        return redirect(url_for("shop.payment_result", out_trade_no=out_trade_no, failed=1))
    if not delivered:
        flash(_("支付结果通知未送达，稍后系统会自动查询"), "warning")
    return redirect(url_for("shop.payment_result", out_trade_no=out_trade_no))
