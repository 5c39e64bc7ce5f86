"""WeChat Pay, API v3 (直连商户): JSAPI (mini-program), Native (QR) and H5.

Requests we send carry
    Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",serial_no=".."
where `signature` is base64 SHA256withRSA (PKCS#1 v1.5, merchant API private
key) over "METHOD\\nURL path+query\\ntimestamp\\nnonce\\nbody\\n".

What WeChat sends us (replies and notifications) is signed with the
`Wechatpay-Timestamp/-Nonce/-Signature/-Serial` headers over
"timestamp\\nnonce\\nbody\\n". The serial names the key: a platform
certificate (WECHATPAY_PLATFORM_CERTS) or the WeChat Pay public key
(WECHATPAY_PUBLIC_KEY, id WECHATPAY_PUBLIC_KEY_ID). A timestamp more than
WECHATPAY_NOTIFY_MAX_SKEW_SECONDS away from our clock is refused, so a
captured message cannot be replayed later.

A notification's `resource` is AEAD_AES_256_GCM-encrypted with the APIv3
key; only the decrypted content is trusted, and it must name our mchid.
Refund notifications (退款结果通知, sent to the `notify_url` of the refund
request) are signed and encrypted the same way.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import gettext as _

from app.core import clock
from app.core.errors import ValidationError
from app.payments.providers.base import (
    GatewayError,
    MalformedNotification,
    NotificationRejected,
    PaymentProvider,
    PayRequest,
    RefundResult,
    TradeState,
    VerifiedNotification,
    VerifiedRefundNotification,
    header_value,
    json_object,
    not_configured,
    peek_string,
    setting,
)

log = logging.getLogger(__name__)

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
DESCRIPTION_MAX_CHARS = 127  # the gateway refuses longer descriptions
REFUND_REASON_MAX_CHARS = 80
TRADE_STATES = {
    "SUCCESS": "paid",
    "REFUND": "paid",  # refunded afterwards: it was paid
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "closed",
}
# A refund's `status` (申请退款, 查询单笔退款) and a notification's `refund_status`
# (退款结果通知, which never says PROCESSING). ABNORMAL: WeChat took the refund but the
# bank refused it (the buyer's card is closed or frozen): a person must act.
REFUND_STATES = {"SUCCESS": "succeeded", "PROCESSING": "pending", "ABNORMAL": "abnormal", "CLOSED": "failed"}
NOTIFIED_REFUND_STATES = {"SUCCESS": "succeeded", "ABNORMAL": "abnormal", "CLOSED": "failed"}
REFUND_NOT_FOUND = "RESOURCE_NOT_EXISTS"
# Refusals worth retrying later with the same out_refund_no; other 4xx are final.
RETRYABLE_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "RESOURCE_ALREADY_EXISTS"}


def unreachable() -> str:
    return _("暂时无法连接微信支付，请稍后再试")


def misconfigured() -> str:
    return _("微信支付配置有误，请联系客服")


# --- keys ---------------------------------------------------------------------------------

def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        log.error("WECHATPAY_PRIVATE_KEY cannot be read")
        raise GatewayError(misconfigured(), code="wechatpay_config_error")
    return key


def _load_public_key(pem: str) -> rsa.RSAPublicKey | None:
    text = pem.strip()
    if "-----BEGIN" not in text:  # the merchant console shows the bare base64 body
        text = "-----BEGIN PUBLIC KEY-----\n" + "".join(text.split()) + "\n-----END PUBLIC KEY-----\n"
    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def platform_certificates(text: str) -> dict[str, str]:
    """WECHATPAY_PLATFORM_CERTS ("serial=PEM;;serial=PEM") as {SERIAL: PEM}."""
    certs = {}
    for entry in (text or "").split(";;"):
        serial, sep, pem = entry.strip().partition("=")
        if sep and serial.strip() and pem.strip():
            certs[serial.strip().upper()] = pem.strip()
    return certs


def verifying_key(serial: str) -> rsa.RSAPublicKey | None:
    """WeChat's key named by `serial`, or None when we do not know that serial.

    A PEM in the config that cannot be read counts as unknown (and is logged),
    so a broken entry refuses messages rather than accepting them."""
    serial = (serial or "").strip()
    if not serial:
        return None
    public_key_id = setting("WECHATPAY_PUBLIC_KEY_ID").strip()
    if public_key_id and serial == public_key_id and setting("WECHATPAY_PUBLIC_KEY"):
        key = _load_public_key(setting("WECHATPAY_PUBLIC_KEY"))
        if key is None:
            log.error("WECHATPAY_PUBLIC_KEY cannot be read")
        return key
    pem = platform_certificates(setting("WECHATPAY_PLATFORM_CERTS")).get(serial.upper())
    if pem is None:
        return None
    try:
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    except ValueError:
        log.error("WECHATPAY_PLATFORM_CERTS entry %s cannot be read", serial)
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


# --- signatures ----------------------------------------------------------------------------

def rsa_sign(message: str, key: rsa.RSAPrivateKey) -> str:
    """base64 SHA256withRSA (PKCS#1 v1.5): the one signature WeChat Pay v3 uses."""
    return base64.b64encode(key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa_verify(message: bytes, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def request_message(method: str, canonical_url: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{canonical_url}\n{timestamp}\n{nonce}\n{body}\n"


def check_wechat_signature(headers, body: bytes, now: datetime) -> None:
    """Accept only a message WeChat signed recently with a key we know.

    Raises NotificationRejected (401) for missing headers, an unknown serial,
    a timestamp outside the allowed skew, or a signature that does not verify.
    """
    timestamp = header_value(headers, "Wechatpay-Timestamp")
    nonce = header_value(headers, "Wechatpay-Nonce")
    signature = header_value(headers, "Wechatpay-Signature")
    serial = header_value(headers, "Wechatpay-Serial")
    if not (timestamp and nonce and signature and serial):
        raise NotificationRejected("missing Wechatpay-* signature headers")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise NotificationRejected("bad Wechatpay-Timestamp") from None
    max_skew = int(current_app.config.get("WECHATPAY_NOTIFY_MAX_SKEW_SECONDS", 300))
    # Both directions: an old message is a replay, a future one a forged clock.
    if abs(int(now.timestamp()) - sent_at) > max_skew:
        raise NotificationRejected("Wechatpay-Timestamp outside the allowed skew", code="stale")
    key = verifying_key(serial)
    if key is None:
        raise NotificationRejected(f"unknown Wechatpay-Serial {serial}", code="unknown_serial")
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    if not rsa_verify(message, signature, key):
        raise NotificationRejected("bad Wechatpay-Signature")


def decrypt_resource(resource: dict, apiv3_key: str) -> dict:
    """The notification's plaintext (AEAD_AES_256_GCM with the APIv3 key).

    Raises NotificationRejected when it cannot be decrypted (wrong key,
    altered ciphertext or associated data) and MalformedNotification when the
    plaintext is not a JSON object."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise NotificationRejected("unsupported resource algorithm", code="undecryptable")
    try:
        ciphertext = base64.b64decode(str(resource.get("ciphertext") or ""), validate=True)
        nonce = str(resource.get("nonce") or "").encode()
        associated = str(resource.get("associated_data") or "").encode()
        plain = AESGCM(apiv3_key.encode()).decrypt(nonce, ciphertext, associated or None)
    except (InvalidTag, binascii.Error, ValueError):
        raise NotificationRejected("resource cannot be decrypted", code="undecryptable") from None
    try:
        data = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedNotification("decrypted resource is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedNotification("decrypted resource is not a JSON object")
    return data


def _refund_message(wechat_status: str, refund: dict) -> str:
    """A refund that did not succeed, for an operator: WeChat's status and the account
    the money was going to (`user_received_account`), which is what refused it."""
    account = refund.get("user_received_account")
    return f"{wechat_status}: {account}" if isinstance(account, str) and account else wechat_status


# --- the adapter ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.data.get("message") or self.data.get("code") or f"HTTP {self.status}")


class WechatPayProvider(PaymentProvider):
    name = "wechatpay"

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        # Looked up on each call so tests may also monkeypatch app.core.clock.utcnow.
        self.now = now or (lambda: clock.utcnow())

    # --- outbound -----------------------------------------------------------------------

    def _authorization(self, method: str, canonical_url: str, body: str) -> str:
        mchid, serial_no = setting("WECHATPAY_MCHID"), setting("WECHATPAY_SERIAL_NO")
        if not (mchid and serial_no and setting("WECHATPAY_PRIVATE_KEY")):
            raise GatewayError(_("微信支付暂未开通"), code="provider_not_configured")
        timestamp = str(int(self.now().timestamp()))
        nonce = secrets.token_hex(16)
        signature = rsa_sign(request_message(method, canonical_url, timestamp, nonce, body),
                             load_private_key(setting("WECHATPAY_PRIVATE_KEY")))
        return (f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
                f'timestamp="{timestamp}",serial_no="{serial_no}"')

    def _call(self, method: str, canonical_url: str, payload: dict | None = None) -> Reply:
        """Send one signed request; return the reply once its signature checks out.

        A 2xx reply with a body must be signed by WeChat (it can say "paid");
        an error reply is checked when signed and otherwise only trusted as a
        failure. Transport failures and bad signatures raise GatewayError."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload is not None else ""
        headers = {
            "Authorization": self._authorization(method, canonical_url, body),
            "Accept": "application/json",
            "User-Agent": "shop-payments/1.0",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        url = setting("WECHATPAY_BASE_URL").rstrip("/") + canonical_url
        try:
            response = requests.request(method, url, data=body.encode("utf-8") if payload is not None else None,
                                        headers=headers, timeout=current_app.config["HTTP_TIMEOUT_SECONDS"])
        except requests.RequestException as exc:
            log.warning("WeChat Pay %s %s failed: %s", method, canonical_url.split("?")[0], exc)
            raise GatewayError(unreachable()) from None
        self._check_reply_signature(response, canonical_url)
        data = json_object(response.content) if response.content else {}
        if data is None:
            log.warning("WeChat Pay %s answered HTTP %s, not JSON", canonical_url, response.status_code)
            raise GatewayError(unreachable())
        return Reply(response.status_code, data)

    def _check_reply_signature(self, response: requests.Response, canonical_url: str) -> None:
        signed = header_value(response.headers, "Wechatpay-Signature") is not None
        must_be_signed = 200 <= response.status_code < 300 and bool(response.content)
        if not (signed or must_be_signed):
            return
        try:
            check_wechat_signature(response.headers, response.content, self.now())
        except NotificationRejected as exc:
            log.error("WeChat Pay reply to %s failed verification: %s", canonical_url.split("?")[0], exc.message)
            raise GatewayError(_("微信支付返回的数据验签失败，请稍后再试"), code="wechatpay_bad_signature") from None

    def _refused(self, reply: Reply, what: str) -> GatewayError:
        log.warning("WeChat Pay %s refused: HTTP %s %s", what, reply.status, reply.data)
        return GatewayError(_("微信支付请求失败：%(message)s", message=reply.message),
                            code="wechatpay_" + str(reply.data.get("code") or "error").lower())

    # --- start ------------------------------------------------------------------------------

    def start(self, request: PayRequest) -> dict[str, Any]:
        """Prepay, then what the client needs: `wx.requestPayment` params (jsapi),
        `code_url` for a QR code (native) or `h5_url` to open (h5)."""
        body = {
            "appid": setting("WECHATPAY_APPID"),
            "mchid": setting("WECHATPAY_MCHID"),
            "description": request.description[:DESCRIPTION_MAX_CHARS],
            "out_trade_no": request.out_trade_no,
            "notify_url": request.notify_url,
            "amount": {"total": int(request.amount_fen), "currency": "CNY"},
        }
        if request.channel == "jsapi":
            if not request.openid:
                raise ValidationError(_("请在微信中打开后再支付"), code="wechat_openid_required")
            reply = self._prepay("jsapi", {**body, "payer": {"openid": request.openid}})
            return self._jsapi_params(str(reply.data.get("prepay_id") or ""))
        if request.channel == "native":
            reply = self._prepay("native", body)
            return {"code_url": self._required(reply, "code_url")}
        if request.channel in ("h5", "wap"):
            if not request.client_ip:
                raise ValidationError(_("无法获取您的网络地址，请稍后再试"), code="client_ip_required")
            scene = {"payer_client_ip": request.client_ip, "h5_info": {"type": "Wap"}}
            reply = self._prepay("h5", {**body, "scene_info": scene})
            return {"h5_url": self._required(reply, "h5_url")}
        raise ValidationError(_("不支持的支付方式"), code="invalid_channel", fields={"channel": request.channel})

    def _prepay(self, kind: str, body: dict) -> Reply:
        reply = self._call("POST", f"/v3/pay/transactions/{kind}", body)
        if not reply.ok:
            raise self._refused(reply, f"{kind} prepay")
        return reply

    def _required(self, reply: Reply, name: str) -> str:
        value = reply.data.get(name)
        if not isinstance(value, str) or not value:
            log.warning("WeChat Pay reply lacks %s: %s", name, reply.data)
            raise GatewayError(unreachable())
        return value

    def _jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """The `wx.requestPayment` arguments, signed with the merchant key."""
        if not prepay_id:
            raise GatewayError(unreachable())
        app_id = setting("WECHATPAY_APPID")
        timestamp = str(int(self.now().timestamp()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = rsa_sign(f"{app_id}\n{timestamp}\n{nonce}\n{package}\n",
                            load_private_key(setting("WECHATPAY_PRIVATE_KEY")))
        return {"appId": app_id, "timeStamp": timestamp, "nonceStr": nonce, "package": package,
                "signType": "RSA", "paySign": pay_sign}

    # --- notifications ----------------------------------------------------------------------

    def _verified_resource(self, headers: dict[str, str], body: bytes) -> tuple[dict, dict]:
        """(envelope, decrypted resource) of a notification, payment or refund alike:
        signature (by serial, within the skew), then decryption, then our mchid.

        Raises NotificationRejected (401; 503 when our own keys are missing)
        or MalformedNotification (400)."""
        apiv3_key = setting("WECHATPAY_APIV3_KEY")
        if len(apiv3_key.encode()) != 32 or not setting("WECHATPAY_MCHID"):
            raise not_configured("WECHATPAY_APIV3_KEY (32 bytes) and WECHATPAY_MCHID are required")
        check_wechat_signature(headers, body, self.now())
        envelope = json_object(body)
        if envelope is None or not isinstance(envelope.get("resource"), dict):
            raise MalformedNotification("body is not a WeChat Pay notification")
        resource = decrypt_resource(envelope["resource"], apiv3_key)
        if str(resource.get("mchid") or "") != setting("WECHATPAY_MCHID"):
            raise NotificationRejected("notification names another mchid", code="wrong_merchant")
        return envelope, resource

    def verify_notification(self, headers: dict[str, str], body: bytes) -> VerifiedNotification:
        """A payment notification (支付通知), verified as `_verified_resource` says."""
        return self._notification(*self._verified_resource(headers, body))

    def _notification(self, envelope: dict, trade: dict) -> VerifiedNotification:
        notify_id = envelope.get("id")
        out_trade_no = trade.get("out_trade_no")
        amount = trade.get("amount") if isinstance(trade.get("amount"), dict) else {}
        total = amount.get("total")
        if not (isinstance(notify_id, str) and notify_id and isinstance(out_trade_no, str) and out_trade_no):
            raise MalformedNotification("id or out_trade_no missing")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise MalformedNotification("amount.total is not a non-negative integer")
        if not isinstance(trade.get("trade_state"), str):
            raise MalformedNotification("trade_state missing")
        return VerifiedNotification(
            notify_id=notify_id,
            out_trade_no=out_trade_no,
            transaction_id=trade.get("transaction_id") or None,
            amount_fen=total,
            succeeded=trade["trade_state"] == "SUCCESS",
            raw={"event_type": envelope.get("event_type"), "create_time": envelope.get("create_time"), **trade},
        )

    def verify_refund_notification(self, headers: dict[str, str], body: bytes) -> VerifiedRefundNotification:
        """A refund notification (退款结果通知), verified as `_verified_resource` says;
        its decrypted `refund_status` (SUCCESS, ABNORMAL or CLOSED) is what counts."""
        envelope, refund = self._verified_resource(headers, body)
        notify_id = envelope.get("id")
        names = [refund.get(name) for name in ("out_trade_no", "out_refund_no")]
        if not all(isinstance(v, str) and v for v in (notify_id, *names)):
            raise MalformedNotification("id, out_trade_no or out_refund_no missing")
        status = NOTIFIED_REFUND_STATES.get(str(refund.get("refund_status") or ""))
        if status is None:
            raise MalformedNotification("refund_status is not SUCCESS, ABNORMAL or CLOSED")
        amount = refund.get("amount") if isinstance(refund.get("amount"), dict) else {}
        refund_fen = amount.get("refund")
        if not isinstance(refund_fen, int) or isinstance(refund_fen, bool) or refund_fen < 0:
            raise MalformedNotification("amount.refund is not a non-negative integer")
        return VerifiedRefundNotification(
            notify_id=notify_id, out_trade_no=names[0], out_refund_no=names[1],
            provider_refund_id=refund.get("refund_id") or None, status=status, refund_fen=refund_fen,
            raw={"event_type": envelope.get("event_type"), "create_time": envelope.get("create_time"), **refund},
            message=_refund_message(str(refund["refund_status"]), refund) if status != "succeeded" else "",
        )

    def peek_notify_id(self, headers: dict[str, str], body: bytes) -> str | None:
        return peek_string(body, "id")

    def success_reply(self) -> tuple[bytes, int, str]:
        return b"", 204, "application/json"

    def failure_reply(self, status: int, message: str) -> tuple[bytes, int, str]:
        body = json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode("utf-8")
        return body, status, "application/json"

    # --- query, refund, close ---------------------------------------------------------------

    def _trade_url(self, out_trade_no: str, suffix: str = "") -> str:
        return f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}{suffix}"

    def query(self, out_trade_no: str) -> TradeState:
        """paid / pending / closed as WeChat reports it; unknown when WeChat has no such trade."""
        mchid = quote(setting("WECHATPAY_MCHID"), safe="")
        reply = self._call("GET", self._trade_url(out_trade_no, f"?mchid={mchid}"))
        if reply.status == 404 or reply.data.get("code") == "ORDER_NOT_EXIST":
            return TradeState("unknown")
        if not reply.ok:
            raise self._refused(reply, "query")
        state = TRADE_STATES.get(str(reply.data.get("trade_state") or ""), "unknown")
        amount = reply.data.get("amount") if isinstance(reply.data.get("amount"), dict) else {}
        total = amount.get("total")
        return TradeState(state, transaction_id=reply.data.get("transaction_id") or None,
                          amount_fen=total if isinstance(total, int) else None)

    def refund(self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str, notify_url: str | None = None) -> RefundResult:
        """WeChat keys refunds by out_refund_no, so a retry returns the first
        refund instead of paying twice. Transport trouble and "try later"
        refusals raise GatewayError; a final refusal is `failed` with WeChat's message.
        With `notify_url`, WeChat posts the refund's result there (退款结果通知)."""
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "amount": {"refund": int(refund_fen), "total": int(total_fen), "currency": "CNY"},
        }
        if reason:
            body["reason"] = reason[:REFUND_REASON_MAX_CHARS]
        if notify_url:
            body["notify_url"] = notify_url
        reply = self._call("POST", "/v3/refund/domestic/refunds", body)
        if not reply.ok:
            if reply.status >= 500 or reply.status == 429 or reply.data.get("code") in RETRYABLE_CODES:
                raise self._refused(reply, "refund")
            log.warning("WeChat Pay refund %s refused: %s", out_refund_no, reply.data)
            return RefundResult("failed", message=reply.message)
        return self._refund_result(reply.data)

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundResult:
        """查询单笔退款 by out_refund_no: the refund's status now; "unknown" when WeChat
        has no refund by that number (404 RESOURCE_NOT_EXISTS), so it may be sent."""
        reply = self._call("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}")
        if reply.status == 404 or reply.data.get("code") == REFUND_NOT_FOUND:
            return RefundResult("unknown")
        if not reply.ok:
            raise self._refused(reply, "refund query")
        if reply.data.get("out_refund_no") != out_refund_no:
            log.warning("WeChat Pay refund query for %s answered about %s", out_refund_no,
                        reply.data.get("out_refund_no"))
            raise GatewayError(unreachable())
        return self._refund_result(reply.data)

    @staticmethod
    def _refund_result(data: dict) -> RefundResult:
        """A refund as WeChat describes it (the refund request's reply or a query's)."""
        wechat_status = str(data.get("status") or "")
        status = REFUND_STATES.get(wechat_status, "failed")
        message = _refund_message(wechat_status, data) if status in ("failed", "abnormal") else ""
        return RefundResult(status, provider_refund_id=data.get("refund_id") or None, message=message)

    def close(self, out_trade_no: str) -> None:
        """Close the unpaid trade; a trade WeChat never saw needs no closing."""
        reply = self._call("POST", self._trade_url(out_trade_no, "/close"), {"mchid": setting("WECHATPAY_MCHID")})
        if reply.ok or reply.status == 404 or reply.data.get("code") == "ORDER_NOT_EXIST":
            return
        raise self._refused(reply, "close")
