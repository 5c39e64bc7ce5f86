"""Alipay payments through the open platform gateway: 电脑网站支付
(alipay.trade.page.pay) and 手机网站支付 (alipay.trade.wap.pay), plus
alipay.trade.query / .refund / .close and alipay.trade.fastpay.refund.query.

Signing and reply verification are the RSA2 helpers of the Alipay sign-in
adapter (`app.accounts.oauth.alipay`): one implementation of the scheme.

A notification is a form-encoded POST. It is trusted only when its RSA2
signature (Alipay's public key, over every parameter except `sign` and
`sign_type`, URL-decoded, empty values dropped, sorted by name) verifies and
it names our app_id and, when ALIPAY_SELLER_ID is set, our seller_id. Amounts
are yuan strings; they become fen here and nowhere else.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from flask import current_app
from flask_babel import gettext as _

from app.accounts.oauth import ProviderNotConfigured
from app.accounts.oauth.alipay import (
    SUCCESS,
    load_private_key,
    load_public_key,
    read_reply,
    sign,
    signing_content,
    verify,
)
from app.core import clock
from app.core.errors import DomainError, ValidationError
from app.core.money import InvalidAmount, fen_to_yuan, yuan_to_fen
from app.payments.providers.base import (
    GatewayError,
    MalformedNotification,
    NotificationRejected,
    PaymentProvider,
    PayRequest,
    RefundResult,
    TradeState,
    VerifiedNotification,
    not_configured,
    setting,
)

log = logging.getLogger(__name__)

PAGE_PAY = ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY")
WAP_PAY = ("alipay.trade.wap.pay", "QUICK_WAP_WAY")
QUERY = "alipay.trade.query"
REFUND = "alipay.trade.refund"
REFUND_QUERY = "alipay.trade.fastpay.refund.query"
# The refund query's `refund_status` when the money went back; without it, Alipay
# did not receive the request or has not refunded it (yet).
REFUND_SUCCESS = "REFUND_SUCCESS"
CLOSE = "alipay.trade.close"
SUBJECT_MAX_CHARS = 256
PAID_STATUSES = ("TRADE_SUCCESS", "TRADE_FINISHED")
TRADE_STATES = {
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "WAIT_BUYER_PAY": "pending",
    "TRADE_CLOSED": "closed",
}
TRADE_NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
# Failures that say "try again later"; the same out_request_no makes the retry safe.
RETRYABLE_SUB_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR"}
# Gateway-level codes (busy, our credentials or permissions): not the trade's fault.
GATEWAY_CODES = {"20000", "20001", "40001", "40002", "40006"}


def unreachable() -> str:
    return _("暂时无法连接支付宝，请稍后再试")


def misconfigured() -> str:
    return _("支付宝支付配置有误，请联系客服")


def _form_params(body: bytes) -> dict[str, str]:
    """The notification's parameters, URL-decoded. A repeated name is malformed:
    it would let a sender show us one value and the signature another."""
    try:
        pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise MalformedNotification("body is not a UTF-8 form") from None
    if any(len(values) != 1 for values in pairs.values()):
        raise MalformedNotification("a parameter is repeated")
    return {name: values[0] for name, values in pairs.items()}


class AlipayProvider(PaymentProvider):
    name = "alipay"

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or (lambda: clock.utcnow())

    # --- signing ----------------------------------------------------------------------------

    def _keys(self):
        if not (setting("ALIPAY_APP_ID") and setting("ALIPAY_APP_PRIVATE_KEY") and setting("ALIPAY_PUBLIC_KEY")):
            raise GatewayError(_("支付宝支付暂未开通"), code="provider_not_configured")
        try:
            return load_private_key(setting("ALIPAY_APP_PRIVATE_KEY")), load_public_key(setting("ALIPAY_PUBLIC_KEY"))
        except ProviderNotConfigured:
            raise GatewayError(misconfigured(), code="alipay_config_error") from None

    def _common(self, method: str) -> dict[str, str]:
        return {
            "app_id": setting("ALIPAY_APP_ID"),
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            # the gateway reads this as Beijing time
            "timestamp": self.now().astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
        }

    @staticmethod
    def _biz(content: dict) -> str:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))

    # --- start ------------------------------------------------------------------------------

    def start(self, request: PayRequest) -> dict[str, Any]:
        """A signed gateway URL to send the buyer's browser to (GET); nothing is sent yet."""
        if request.channel == "page":
            method, product_code = PAGE_PAY
        elif request.channel in ("wap", "h5"):
            method, product_code = WAP_PAY
        else:
            raise ValidationError(_("不支持的支付方式"), code="invalid_channel", fields={"channel": request.channel})
        private_key, _public_key = self._keys()
        params = self._common(method)
        params["notify_url"] = request.notify_url
        if request.return_url:
            params["return_url"] = request.return_url
        params["biz_content"] = self._biz({
            "out_trade_no": request.out_trade_no,
            "total_amount": fen_to_yuan(request.amount_fen),
            "subject": request.description[:SUBJECT_MAX_CHARS],
            "product_code": product_code,
        })
        params["sign"] = sign(signing_content(params), private_key)
        return {"pay_url": setting("ALIPAY_GATEWAY_URL") + "?" + urlencode(params)}

    # --- notifications ----------------------------------------------------------------------

    def verify_notification(self, headers: dict[str, str], body: bytes) -> VerifiedNotification:
        """Signature, then our app_id and seller_id, then the fields.

        Raises NotificationRejected (401; 503 when our keys are missing) or
        MalformedNotification (400)."""
        if not (setting("ALIPAY_APP_ID") and setting("ALIPAY_PUBLIC_KEY")):
            raise not_configured("ALIPAY_APP_ID and ALIPAY_PUBLIC_KEY are required")
        try:
            public_key = load_public_key(setting("ALIPAY_PUBLIC_KEY"))
        except ProviderNotConfigured:
            raise not_configured("ALIPAY_PUBLIC_KEY cannot be read") from None
        params = _form_params(body)
        signature = params.get("sign", "")
        if params.get("sign_type", "RSA2") != "RSA2" or not signature:
            raise NotificationRejected("missing or non-RSA2 signature")
        signed = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
        if not verify(signing_content(signed), signature, public_key):
            raise NotificationRejected("bad Alipay signature")
        if params.get("app_id") != setting("ALIPAY_APP_ID"):
            raise NotificationRejected("notification names another app_id", code="wrong_merchant")
        seller_id = setting("ALIPAY_SELLER_ID")
        if seller_id and params.get("seller_id") != seller_id:
            raise NotificationRejected("notification names another seller_id", code="wrong_merchant")
        return self._notification(signed)

    def _notification(self, params: dict[str, str]) -> VerifiedNotification:
        for name in ("notify_id", "out_trade_no", "trade_status", "total_amount"):
            if not params.get(name):
                raise MalformedNotification(f"{name} missing")
        try:
            amount_fen = yuan_to_fen(params["total_amount"])
        except InvalidAmount:
            raise MalformedNotification("total_amount is not a yuan amount") from None
        return VerifiedNotification(
            notify_id=params["notify_id"],
            out_trade_no=params["out_trade_no"],
            transaction_id=params.get("trade_no") or None,
            amount_fen=amount_fen,
            succeeded=params["trade_status"] in PAID_STATUSES,
            raw=params,
        )

    def peek_notify_id(self, headers: dict[str, str], body: bytes) -> str | None:
        try:
            return _form_params(body).get("notify_id") or None
        except MalformedNotification:
            return None

    def success_reply(self) -> tuple[bytes, int, str]:
        # Alipay stops retrying only on the exact text "success".
        return b"success", 200, "text/plain"

    def failure_reply(self, status: int, message: str) -> tuple[bytes, int, str]:
        return b"failure", status, "text/plain"

    # --- API calls ----------------------------------------------------------------------------

    def _call(self, method: str, biz_content: dict) -> dict:
        """POST one gateway method; return its response node once verified.

        A success node is always signed and verified (by `read_reply`); a
        failure node is returned as is (verified when signed) and is only ever
        read as a failure. Transport trouble and bad signatures raise GatewayError."""
        private_key, public_key = self._keys()
        query = self._common(method)
        form = {"biz_content": self._biz(biz_content)}
        query["sign"] = sign(signing_content({**query, **form}), private_key)
        try:
            response = requests.post(setting("ALIPAY_GATEWAY_URL"), params=query, data=form,
                                     headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                                     timeout=current_app.config["HTTP_TIMEOUT_SECONDS"])
        except requests.RequestException as exc:
            log.warning("Alipay %s failed: %s", method, exc)
            raise GatewayError(unreachable()) from None
        if response.status_code >= 400:
            log.warning("Alipay %s answered HTTP %s", method, response.status_code)
            raise GatewayError(unreachable())
        return self._verified_node(response.content.decode("utf-8", errors="replace"), method, public_key)

    @staticmethod
    def _verified_node(text: str, method: str, public_key) -> dict:
        try:
            return read_reply(text, method, public_key)
        except DomainError as exc:
            # read_reply verifies before it raises for a failure node; only a
            # bad signature or an unreadable reply is the gateway's trouble.
            if exc.code == "alipay_bad_signature":
                raise GatewayError(_("支付宝返回的数据验签失败，请稍后再试"), code="alipay_bad_signature") from None
            node = _failure_node(text, method)
            if node is None:
                raise GatewayError(unreachable()) from None
            return node

    def _gateway_trouble(self, node: dict, method: str) -> GatewayError:
        log.warning("Alipay %s failed: %s", method, node)
        detail = node.get("sub_msg") or node.get("msg") or node.get("code")
        return GatewayError(_("支付宝请求失败：%(detail)s", detail=detail),
                            code="alipay_" + str(node.get("sub_code") or node.get("code") or "error").lower())

    def query(self, out_trade_no: str) -> TradeState:
        """paid / pending / closed as Alipay reports it; unknown while Alipay has no such
        trade (a page-pay trade exists only once the buyer has logged in at Alipay)."""
        node = self._call(QUERY, {"out_trade_no": out_trade_no})
        if str(node.get("code")) != SUCCESS:
            if node.get("sub_code") == TRADE_NOT_EXIST:
                return TradeState("unknown")
            raise self._gateway_trouble(node, QUERY)
        try:
            amount_fen = yuan_to_fen(node["total_amount"]) if node.get("total_amount") else None
        except InvalidAmount:
            amount_fen = None
        return TradeState(TRADE_STATES.get(str(node.get("trade_status") or ""), "unknown"),
                          transaction_id=node.get("trade_no") or None, amount_fen=amount_fen)

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str, notify_url: str | None = None) -> RefundResult:
        """Alipay keys a refund by (trade, out_request_no): a retry with the same
        out_refund_no moves no money again. A success reply says whether this call
        moved money (`fund_change` "Y": succeeded); "N" (a repeat, or nothing moved)
        proves nothing, so the refund query decides: succeeded when it says
        REFUND_SUCCESS, else pending (the sweep asks again).
        Busy/credential trouble raises GatewayError; a business refusal is `failed`.
        Alipay announces no refund results: `notify_url` is not sent."""
        biz = {"out_trade_no": out_trade_no, "refund_amount": fen_to_yuan(refund_fen),
               "out_request_no": out_refund_no}
        if reason:
            biz["refund_reason"] = reason[:256]
        node = self._call(REFUND, biz)
        if str(node.get("code")) == SUCCESS:
            if node.get("fund_change") == "Y":
                return RefundResult("succeeded", provider_refund_id=_refund_id(node, out_trade_no, out_refund_no))
            confirmed = self.query_refund(out_trade_no=out_trade_no, out_refund_no=out_refund_no)
            if confirmed.status == "succeeded":
                return confirmed
            log.info("Alipay refund %s: fund_change N and not refunded yet", out_refund_no)
            return RefundResult("pending", provider_refund_id=_refund_id(node, out_trade_no, out_refund_no))
        if str(node.get("code")) in GATEWAY_CODES or node.get("sub_code") in RETRYABLE_SUB_CODES:
            raise self._gateway_trouble(node, REFUND)
        log.warning("Alipay refund %s refused: %s", out_refund_no, node)
        return RefundResult("failed", message=str(node.get("sub_msg") or node.get("msg") or node.get("sub_code") or ""))

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        """alipay.trade.fastpay.refund.query by (trade, out_request_no): succeeded when
        `refund_status` is REFUND_SUCCESS; otherwise Alipay did not receive the request or
        has not refunded it, which is "unknown" (sending it again with the same
        out_request_no is safe); a trade Alipay does not know is "unknown" too."""
        node = self._call(REFUND_QUERY, {"out_trade_no": out_trade_no, "out_request_no": out_refund_no})
        if str(node.get("code")) != SUCCESS:
            if node.get("sub_code") == TRADE_NOT_EXIST:
                return RefundResult("unknown")
            raise self._gateway_trouble(node, REFUND_QUERY)
        if node.get("refund_status") == REFUND_SUCCESS:
            return RefundResult("succeeded", provider_refund_id=_refund_id(node, out_trade_no, out_refund_no))
        return RefundResult("unknown")

    def close(self, out_trade_no: str) -> None:
        """Close the unpaid trade; one Alipay never created needs no closing."""
        node = self._call(CLOSE, {"out_trade_no": out_trade_no})
        if str(node.get("code")) == SUCCESS or node.get("sub_code") == TRADE_NOT_EXIST:
            return
        raise self._gateway_trouble(node, CLOSE)


def _refund_id(node: dict, out_trade_no: str, out_refund_no: str) -> str:
    """Alipay has no refund id of its own: the trade plus our request number names it."""
    return f"{node.get('trade_no') or out_trade_no}:{out_refund_no}"


def _failure_node(text: str, method: str) -> dict | None:
    """The failure node of a reply `read_reply` refused, or None if there is none."""
    try:
        whole = json.loads(text)
    except ValueError:
        return None
    if not isinstance(whole, dict):
        return None
    node = whole.get(method.replace(".", "_") + "_response") or whole.get("error_response")
    if not isinstance(node, dict) or str(node.get("code")) == SUCCESS:
        return None
    return node
