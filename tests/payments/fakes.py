"""Local fake WeChat Pay (API v3) and Alipay (trade.*) gateways for the
payment adapters to talk to over real HTTP on 127.0.0.1, plus the keys they
use. Written from the protocol descriptions, not from our adapters, so a
mistake in one does not hide in the other.

Other tests (the payments service, the notify views) import from here:
`PaymentKeys.generate()` once per session (RSA 2048 is slow), then
`FakeWechatPay(keys.wechat)` / `FakeAlipayPay(keys=keys.alipay)` per test and
`fake.configure(app, monkeypatch)` to point the app at it.
"""
from __future__ import annotations

import base64
import io
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from tests.accounts.test_oauth_fakes import FakeAlipay, FakeServer, Seen, rsa_pem_pair

BEIJING = timedelta(hours=8)


# --- keys -----------------------------------------------------------------------------------

KeyPair = tuple[rsa.RSAPrivateKey, str, str]  # (key, private PEM, public PEM), as rsa_pem_pair returns


def self_signed_cert(key: rsa.RSAPrivateKey, serial_hex: str) -> str:
    """A PEM X.509 certificate for `key` whose serial number is `serial_hex`
    (WeChat names platform certificates by that serial, in upper-case hex)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA (test)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int(serial_hex, 16)).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class WechatKeys:
    merchant: KeyPair  # ours: signs requests and paySign
    platform: KeyPair  # WeChat's platform certificate key
    platform_cert_pem: str
    pay_public: KeyPair  # WeChat's "微信支付公钥"
    merchant_serial: str = "3775B6A45ACD588826D15E583A95F5DD49D3C4E0"
    platform_serial: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    public_key_id: str = "PUB_KEY_ID_0114232134912410000000000000"

    @classmethod
    def generate(cls) -> WechatKeys:
        platform = rsa_pem_pair()
        return cls(merchant=rsa_pem_pair(), platform=platform,
                   platform_cert_pem=self_signed_cert(platform[0], cls.platform_serial),
                   pay_public=rsa_pem_pair())


@dataclass(frozen=True)
class AlipayKeys:
    app: KeyPair  # ours: signs requests
    platform: KeyPair  # Alipay's: signs replies and notifications

    @classmethod
    def generate(cls) -> AlipayKeys:
        return cls(app=rsa_pem_pair(), platform=rsa_pem_pair())


@dataclass(frozen=True)
class PaymentKeys:
    wechat: WechatKeys
    alipay: AlipayKeys

    @classmethod
    def generate(cls) -> PaymentKeys:
        return cls(wechat=WechatKeys.generate(), alipay=AlipayKeys.generate())


def rsa_sign_b64(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verifies(public_key: rsa.RSAPublicKey, signature: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- a FakeServer that also sees the raw request and can add reply headers ----------------------

class RawFakeServer(FakeServer):
    """`handle(seen, raw_target, raw_body, reply_headers) -> (status, content_type, body)`.

    WeChat signs the exact body and path, and answers with signature headers;
    the shared FakeServer keeps neither, so its handler class is extended here
    (per-thread state: each request runs in its own thread)."""

    def __init__(self, handle) -> None:
        local = threading.local()
        super().__init__(lambda seen: handle(seen, local.target, local.body, local.reply_headers))
        base = self.server.RequestHandlerClass

        class Handler(base):
            def _capture(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                local.body = self.rfile.read(length) if length else b""
                local.target = self.path
                local.reply_headers = {}
                self.rfile = io.BytesIO(local.body)  # the shared handler reads it again

            def do_GET(self) -> None:
                self._capture()
                base.do_GET(self)

            def do_POST(self) -> None:
                self._capture()
                base.do_POST(self)

            def end_headers(self) -> None:
                for name, value in getattr(local, "reply_headers", {}).items():
                    self.send_header(name, value)
                super().end_headers()

        self.server.RequestHandlerClass = Handler


# --- WeChat Pay -------------------------------------------------------------------------------

AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.*)$')
AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class WechatTrade:
    out_trade_no: str
    total: int
    trade_type: str
    openid: str | None = None
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    refunded: int = 0


class FakeWechatPay:
    """Prepay (jsapi/native/h5), query by out_trade_no, close, domestic refunds
    and the refund query (查询单笔退款, by out_refund_no).

    It checks our Authorization header with the merchant public key and signs
    every reply with the WeChat Pay public key (or, with `reply_signer =
    "platform"`, the platform certificate). Refunds are kept by out_refund_no:
    a repeat returns the first refund and moves no money (`refund_calls`
    counts requests, `refunds` the ones that moved money, `refund_queries`
    the queries). `set_refund_status` moves a refund later (PROCESSING, then
    SUCCESS, ABNORMAL or CLOSED) and `refund_notification` builds the signed,
    encrypted 退款结果通知 WeChat would post about it.

    Knobs: `refund_status` (what a new refund starts as: SUCCESS/PROCESSING/
    ABNORMAL), `refund_error` ((HTTP status, code) to answer refunds with,
    before anything is recorded), `lose_refund_reply` (record the refund, move
    the money, then answer 500 as if the reply were lost), `tamper_replies`,
    `unsigned_replies`.
    """

    def __init__(self, keys: WechatKeys, mchid: str = "1900000109", appid: str = "wxd678efh567hg6787",
                 apiv3_key: str = "a" * 16 + "B" * 16) -> None:
        self.keys = keys
        self.mchid, self.appid, self.apiv3_key = mchid, appid, apiv3_key
        self.trades: dict[str, WechatTrade] = {}
        self.refunds: dict[str, dict] = {}
        self.refund_calls = 0
        self.refund_queries = 0
        self.lose_refund_reply = False
        self.bodies: list[dict] = []  # decoded JSON of each request we accepted
        self.reply_signer = "public_key"
        self.refund_status = "SUCCESS"
        self.refund_error: tuple[int, str] | None = None
        self.tamper_replies = False
        self.unsigned_replies = False
        self._n = 0
        self.closed = False
        self.server = RawFakeServer(self.handle)
        self.url = self.server.url

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def configure(self, app, monkeypatch) -> None:
        k = self.keys
        for name, value in {
            "WECHATPAY_BASE_URL": self.url,
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APPID": self.appid,
            "WECHATPAY_SERIAL_NO": k.merchant_serial,
            "WECHATPAY_PRIVATE_KEY": k.merchant[1],
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_PLATFORM_CERTS": f"{k.platform_serial}={k.platform_cert_pem}",
            "WECHATPAY_PUBLIC_KEY": k.pay_public[2],
            "WECHATPAY_PUBLIC_KEY_ID": k.public_key_id,
        }.items():
            monkeypatch.setitem(app.config, name, value)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.server.close()

    # --- what a test does to the gateway's state ---------------------------------------------

    def pay(self, out_trade_no: str) -> WechatTrade:
        """The buyer pays an existing prepay."""
        trade = self.trades[out_trade_no]
        trade.trade_state = "SUCCESS"
        trade.transaction_id = trade.transaction_id or self._id("4200000")
        return trade

    def set_refund_status(self, out_refund_no: str, status: str) -> dict:
        """The refund moves on at WeChat (PROCESSING -> SUCCESS / ABNORMAL / CLOSED)."""
        refund = self.refunds[out_refund_no]
        refund["status"] = status
        if status == "SUCCESS":
            refund["success_time"] = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        return refund

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:020d}"

    # --- signing ------------------------------------------------------------------------------

    def _signer(self, which: str) -> tuple[rsa.RSAPrivateKey, str]:
        if which == "platform":
            return self.keys.platform[0], self.keys.platform_serial
        return self.keys.pay_public[0], self.keys.public_key_id

    def signature_headers(self, body: bytes, *, signer: str | None = None, serial: str | None = None,
                          timestamp: int | None = None, key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        """Wechatpay-* headers over "timestamp\\nnonce\\nbody\\n"."""
        own_key, own_serial = self._signer(signer or self.reply_signer)
        timestamp = int(datetime.now(UTC).timestamp()) if timestamp is None else timestamp
        nonce = secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        return {
            "Wechatpay-Timestamp": str(timestamp),
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign_b64(key or own_key, message),
            "Wechatpay-Serial": serial or own_serial,
        }

    def _reply(self, reply_headers: dict, status: int, data: dict | None) -> tuple[int, str, bytes]:
        body = json.dumps(data, ensure_ascii=False).encode() if data is not None else b""
        if not self.unsigned_replies:
            reply_headers.update(self.signature_headers(body))
        if self.tamper_replies and body:
            body = body.replace(b"NOTPAY", b"SUCCESS") if b"NOTPAY" in body else body.replace(b'"', b"'", 1)
        reply_headers["Request-ID"] = secrets.token_hex(8)
        return status, "application/json", body

    def _error(self, reply_headers: dict, status: int, code: str, message: str):
        return self._reply(reply_headers, status, {"code": code, "message": message})

    # --- requests ------------------------------------------------------------------------------

    def _authorized(self, seen: Seen, target: str, body: bytes) -> bool:
        match = AUTH.match(seen.headers.get("Authorization", ""))
        if not match:
            return False
        params = dict(AUTH_PARAM.findall(match.group(1)))
        if params.get("mchid") != self.mchid or params.get("serial_no") != self.keys.merchant_serial:
            return False
        message = f"{seen.method}\n{target}\n{params.get('timestamp')}\n{params.get('nonce_str')}\n".encode()
        message += body + b"\n"
        return rsa_verifies(self.keys.merchant[0].public_key(), params.get("signature", ""), message)

    def handle(self, seen: Seen, target: str, body: bytes, reply_headers: dict):
        if not self._authorized(seen, target, body):
            return self._error(reply_headers, 401, "SIGN_ERROR", "签名错误")
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self._error(reply_headers, 400, "PARAM_ERROR", "请求体不是JSON")
        self.bodies.append(data)
        path = seen.path
        prepay = re.fullmatch(r"/v3/pay/transactions/(jsapi|native|h5)", path)
        if seen.method == "POST" and prepay:
            return self._prepay(prepay.group(1), data, reply_headers)
        by_no = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)(/close)?", path)
        if by_no and seen.method == "GET" and not by_no.group(2):
            return self._query(by_no.group(1), seen.query, reply_headers)
        if by_no and seen.method == "POST" and by_no.group(2):
            return self._close(by_no.group(1), data, reply_headers)
        if seen.method == "POST" and path == "/v3/refund/domestic/refunds":
            return self._refund(data, reply_headers)
        refund_no = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)
        if seen.method == "GET" and refund_no:
            return self._refund_query(refund_no.group(1), reply_headers)
        return self._error(reply_headers, 404, "NOT_FOUND", "无此接口")

    def _prepay(self, kind: str, data: dict, reply_headers: dict):
        amount = data.get("amount") or {}
        if data.get("appid") != self.appid or data.get("mchid") != self.mchid:
            return self._error(reply_headers, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        if not (data.get("out_trade_no") and data.get("description") and data.get("notify_url")) \
                or not isinstance(amount.get("total"), int) or amount.get("total") <= 0 \
                or amount.get("currency") != "CNY":
            return self._error(reply_headers, 400, "PARAM_ERROR", "参数错误")
        if kind == "jsapi" and not (data.get("payer") or {}).get("openid"):
            return self._error(reply_headers, 400, "PARAM_ERROR", "缺少参数payer.openid")
        scene = data.get("scene_info") or {}
        if kind == "h5" and not (scene.get("payer_client_ip") and (scene.get("h5_info") or {}).get("type")):
            return self._error(reply_headers, 400, "PARAM_ERROR", "缺少参数scene_info")
        existing = self.trades.get(data["out_trade_no"])
        if existing and existing.trade_state == "SUCCESS":
            return self._error(reply_headers, 400, "ORDERPAID", "该订单已支付")
        if existing and existing.total != amount["total"]:
            return self._error(reply_headers, 400, "INVALID_REQUEST", "201 商户订单号重复")
        self.trades[data["out_trade_no"]] = WechatTrade(data["out_trade_no"], amount["total"], kind.upper(),
                                                        openid=(data.get("payer") or {}).get("openid"))
        prepay_id = "wx" + secrets.token_hex(14)
        reply = {"jsapi": {"prepay_id": prepay_id},
                 "native": {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"},
                 "h5": {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}"}}
        return self._reply(reply_headers, 200, reply[kind])

    def _query(self, out_trade_no: str, query: dict, reply_headers: dict):
        if query.get("mchid") != self.mchid:
            return self._error(reply_headers, 400, "PARAM_ERROR", "mchid错误")
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return self._error(reply_headers, 404, "ORDER_NOT_EXIST", "订单不存在")
        reply = {"appid": self.appid, "mchid": self.mchid, "out_trade_no": out_trade_no,
                 "trade_type": trade.trade_type, "trade_state": trade.trade_state, "trade_state_desc": "",
                 "amount": {"total": trade.total, "currency": "CNY"}}
        if trade.transaction_id:
            reply["transaction_id"] = trade.transaction_id
            reply["amount"]["payer_total"] = trade.total
        return self._reply(reply_headers, 200, reply)

    def _close(self, out_trade_no: str, data: dict, reply_headers: dict):
        if data.get("mchid") != self.mchid:
            return self._error(reply_headers, 400, "PARAM_ERROR", "mchid错误")
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return self._error(reply_headers, 404, "ORDER_NOT_EXIST", "订单不存在")
        if trade.trade_state == "SUCCESS":
            return self._error(reply_headers, 400, "ORDERPAID", "订单已支付")
        trade.trade_state = "CLOSED"
        return self._reply(reply_headers, 204, None)

    def _refund(self, data: dict, reply_headers: dict):
        self.refund_calls += 1
        if self.refund_error:
            status, code = self.refund_error
            return self._error(reply_headers, status, code, "退款失败：" + code)
        out_refund_no = data.get("out_refund_no")
        if out_refund_no in self.refunds:  # a retry: the first refund, no money moves
            return self._reply(reply_headers, 200, self.refunds[out_refund_no])
        trade = self.trades.get(data.get("out_trade_no") or "")
        amount = data.get("amount") or {}
        if trade is None or trade.trade_state != "SUCCESS":
            return self._error(reply_headers, 404, "RESOURCE_NOT_EXISTS", "订单不存在")
        refund = amount.get("refund")
        if amount.get("total") != trade.total or not isinstance(refund, int) or refund <= 0 \
                or trade.refunded + refund > trade.total:
            return self._error(reply_headers, 400, "INVALID_REQUEST", "退款金额超出可退金额")
        trade.refunded += refund
        reply = {"refund_id": self._id("5030"), "out_refund_no": out_refund_no,
                 "transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                 "channel": "ORIGINAL", "user_received_account": "招商银行信用卡0403",
                 "create_time": datetime.now(UTC).isoformat(), "status": self.refund_status,
                 "amount": {"total": trade.total, "refund": refund, "payer_total": trade.total,
                            "payer_refund": refund, "currency": "CNY"}}
        self.refunds[out_refund_no] = reply
        if self.lose_refund_reply:  # the money moved; our side never hears it
            return self._error(reply_headers, 500, "SYSTEM_ERROR", "系统错误")
        return self._reply(reply_headers, 200, reply)

    def _refund_query(self, out_refund_no: str, reply_headers: dict):
        self.refund_queries += 1
        refund = self.refunds.get(out_refund_no)
        if refund is None:
            return self._error(reply_headers, 404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return self._reply(reply_headers, 200, refund)

    # --- notifications --------------------------------------------------------------------------

    def notification(self, out_trade_no: str, total: int, trade_state: str = "SUCCESS", *,
                     signer: str = "public_key", serial: str | None = None, timestamp: int | None = None,
                     tamper: str | None = None, mchid: str | None = None, notify_id: str | None = None,
                     transaction_id: str | None = None, apiv3_key: str | None = None,
                     sign_key: rsa.RSAPrivateKey | None = None) -> tuple[dict[str, str], bytes]:
        """A payment notification as WeChat posts it: (headers, body).

        `tamper`: "body" changes a byte after signing; "ciphertext" corrupts
        the ciphertext before signing (signature fine, decryption fails).
        `apiv3_key` encrypts with another key; `sign_key` signs with another key."""
        transaction_id = transaction_id or self._id("4200000")
        resource_plain = {
            "appid": self.appid, "mchid": mchid or self.mchid, "out_trade_no": out_trade_no,
            "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": trade_state,
            "trade_state_desc": "支付成功", "bank_type": "CMC", "attach": "",
            "success_time": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
        }
        return self._signed_notification(resource_plain, "TRANSACTION.SUCCESS", "支付成功", "transaction",
                                         signer=signer, serial=serial, timestamp=timestamp, tamper=tamper,
                                         notify_id=notify_id, apiv3_key=apiv3_key, sign_key=sign_key)

    def refund_notification(self, out_refund_no: str, refund_status: str | None = None, *, refund: int | None = None,
                            out_trade_no: str | None = None, signer: str = "public_key", serial: str | None = None,
                            timestamp: int | None = None, tamper: str | None = None, mchid: str | None = None,
                            notify_id: str | None = None, apiv3_key: str | None = None,
                            sign_key: rsa.RSAPrivateKey | None = None) -> tuple[dict[str, str], bytes]:
        """A 退款结果通知 about a refund this fake made, as WeChat posts it to the refund's
        notify_url: (headers, body). `refund_status` defaults to the refund's own status
        (SUCCESS, ABNORMAL or CLOSED); `refund` and `out_trade_no` override what it says.
        The other knobs are the payment notification's."""
        made = self.refunds[out_refund_no]
        refund_status = refund_status or made["status"]
        amount = dict(made["amount"])
        if refund is not None:
            amount["refund"] = amount["payer_refund"] = refund
        plain = {
            "mchid": mchid or self.mchid, "out_trade_no": out_trade_no or made["out_trade_no"],
            "transaction_id": made["transaction_id"], "out_refund_no": out_refund_no,
            "refund_id": made["refund_id"], "refund_status": refund_status,
            "user_received_account": made["user_received_account"],
            "amount": {k: amount[k] for k in ("total", "refund", "payer_total", "payer_refund")},
        }
        if refund_status == "SUCCESS":
            plain["success_time"] = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}.get(refund_status, "退款")
        return self._signed_notification(plain, f"REFUND.{refund_status}", summary, "refund", signer=signer,
                                         serial=serial, timestamp=timestamp, tamper=tamper, notify_id=notify_id,
                                         apiv3_key=apiv3_key, sign_key=sign_key)

    def _signed_notification(self, plain: dict, event_type: str, summary: str, original_type: str, *,
                             signer: str, serial: str | None, timestamp: int | None, tamper: str | None,
                             notify_id: str | None, apiv3_key: str | None,
                             sign_key: rsa.RSAPrivateKey | None) -> tuple[dict[str, str], bytes]:
        """The envelope WeChat posts: `plain` encrypted (AEAD_AES_256_GCM, the APIv3 key)
        as its resource, the whole body signed in the Wechatpay-* headers."""
        nonce = secrets.token_hex(6)
        associated = original_type
        ciphertext = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), associated.encode())
        if tamper == "ciphertext":
            ciphertext = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
        envelope = {
            "id": notify_id or "EV-" + secrets.token_hex(10),
            "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
            "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": associated,
                         "nonce": nonce},
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   **self.signature_headers(body, signer=signer, serial=serial, timestamp=timestamp, key=sign_key)}
        if tamper == "body":  # one byte of the signed event type changed after signing
            body = body.replace(event_type.encode(), event_type[:-1].encode() + event_type[-1].lower().encode(), 1)
        return headers, body


# --- Alipay -------------------------------------------------------------------------------------

@dataclass
class AlipayTrade:
    out_trade_no: str
    total_amount: str  # yuan, as Alipay keeps it
    trade_status: str = "WAIT_BUYER_PAY"
    trade_no: str = ""
    refunded: Decimal = Decimal("0")


@dataclass
class FakeAlipayPay(FakeAlipay):
    """The sign-in fake gateway (request signature check, signed replies, the
    `tamper`/`unsigned`/`escape_slashes` knobs) taught alipay.trade.query,
    .refund, .close and .fastpay.refund.query. Refunds are kept by (trade,
    out_request_no): the first answers fund_change "Y", a repeat answers success
    with fund_change "N" and moves no money (`refund_moves` counts the ones that
    did). The refund query says REFUND_SUCCESS for a refund made, and leaves
    `refund_status` out for one it never received, or, with `refund_query_lag`,
    for every refund (made but not processed yet)."""

    keys: AlipayKeys | None = None
    seller_id: str = "2088102177846880"
    trades: dict[str, AlipayTrade] = field(default_factory=dict)
    refunds: dict[tuple[str, str], str] = field(default_factory=dict)
    refund_moves: int = 0
    refund_query_lag: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        keys = self.keys or AlipayKeys.generate()
        self.app_key, self.app_private_pem, self.app_public_pem = keys.app
        self.platform_key, self.platform_private_pem, self.platform_public_pem = keys.platform
        self._n = 0
        self.server = FakeServer(self.handle)
        self.url = self.server.url + "/gateway.do"

    def configure(self, app, monkeypatch, bare_keys: bool = False) -> None:
        super().configure(app, monkeypatch, bare_keys=bare_keys)
        monkeypatch.setitem(app.config, "ALIPAY_SELLER_ID", self.seller_id)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            super().close()

    # --- what a test does to the gateway's state ---------------------------------------------

    def open_pay_url(self, url: str) -> dict[str, str]:
        """The buyer's browser arrives with our pay URL: check its signature,
        create the trade (waiting for payment) and return the parameters."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
        if not rsa_verifies(self.app_key.public_key(), params.get("sign", ""), self._content(params).encode()):
            raise AssertionError("pay URL signature does not verify with the app public key")
        biz = json.loads(params["biz_content"])
        self.trades.setdefault(biz["out_trade_no"], AlipayTrade(biz["out_trade_no"], biz["total_amount"]))
        return params

    def pay(self, out_trade_no: str, total_amount: str | None = None) -> AlipayTrade:
        trade = self.trades.get(out_trade_no) or AlipayTrade(out_trade_no, total_amount or "0.01")
        self.trades[out_trade_no] = trade
        trade.trade_status = "TRADE_SUCCESS"
        trade.trade_no = trade.trade_no or self._trade_no()
        return trade

    def _trade_no(self) -> str:
        self._n += 1
        return f"2024{self._n:024d}"

    # --- gateway methods ------------------------------------------------------------------------

    def handle(self, seen: Seen):
        params = {**seen.query, **seen.form}
        method = params.get("method", "")
        before = len(self.verified)
        reply = super().handle(seen)  # checks app_id, sign type and our signature
        if len(self.verified) == before or method not in TRADE_METHODS:
            return reply
        biz = json.loads(params.get("biz_content") or "{}")
        node_name = method.replace(".", "_") + "_response"
        return getattr(self, TRADE_METHODS[method])(node_name, biz)

    def _not_exist(self, node_name: str):
        return self._error(node_name, "40004", "Business Failed", "ACQ.TRADE_NOT_EXIST", "交易不存在")

    def _query(self, node_name: str, biz: dict):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._not_exist(node_name)
        node = {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no,
                "trade_status": trade.trade_status, "total_amount": trade.total_amount,
                "buyer_logon_id": "159****5620"}
        if trade.trade_no:
            node["trade_no"] = trade.trade_no
        return self._reply(node_name, node)

    def _refund(self, node_name: str, biz: dict):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._not_exist(node_name)
        key = (trade.out_trade_no, biz.get("out_request_no", ""))
        amount = Decimal(biz.get("refund_amount", "0"))
        if key in self.refunds:  # the same request again: report it, move nothing
            fund_change = "N"
        elif trade.trade_status != "TRADE_SUCCESS":
            return self._error(node_name, "40004", "Business Failed", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        elif amount <= 0 or trade.refunded + amount > Decimal(trade.total_amount):
            return self._error(node_name, "40004", "Business Failed", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                               "退款金额超限")
        else:
            self.refunds[key] = biz["refund_amount"]
            trade.refunded += amount
            self.refund_moves += 1
            fund_change = "Y"
        return self._reply(node_name, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                       "out_trade_no": trade.out_trade_no, "buyer_logon_id": "159****5620",
                                       "fund_change": fund_change, "refund_fee": f"{trade.refunded:.2f}"})

    def _refund_query(self, node_name: str, biz: dict):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._not_exist(node_name)
        out_request_no = biz.get("out_request_no", "")
        node = {"code": "10000", "msg": "Success", "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                "out_request_no": out_request_no}
        refunded = self.refunds.get((trade.out_trade_no, out_request_no))
        if refunded is not None and not self.refund_query_lag:
            node.update({"refund_status": "REFUND_SUCCESS", "refund_amount": refunded,
                         "total_amount": trade.total_amount})
        return self._reply(node_name, node)

    def _close(self, node_name: str, biz: dict):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._not_exist(node_name)
        if trade.trade_status != "WAIT_BUYER_PAY":
            return self._error(node_name, "40004", "Business Failed", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.trade_status = "TRADE_CLOSED"
        return self._reply(node_name, {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no})

    # --- notifications --------------------------------------------------------------------------

    def notification(self, out_trade_no: str, total_amount: str, trade_status: str = "TRADE_SUCCESS", *,
                     app_id: str | None = None, seller_id: str | None = None, notify_id: str | None = None,
                     trade_no: str | None = None, tamper: dict[str, str] | None = None,
                     sign_key: rsa.RSAPrivateKey | None = None) -> bytes:
        """An asynchronous notification as Alipay posts it (form body), signed with
        the platform key (or `sign_key`); `tamper` changes fields after signing."""
        now = datetime.now(UTC) + BEIJING
        params = {
            "notify_time": now.strftime("%Y-%m-%d %H:%M:%S"), "notify_type": "trade_status_sync",
            "notify_id": notify_id or "ac05099524730693a8b330c5ecf72da" + secrets.token_hex(4),
            "app_id": app_id or self.app_id, "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
            "trade_no": trade_no or self._trade_no(), "out_trade_no": out_trade_no,
            "buyer_id": "2088102122524333", "buyer_logon_id": "159****5620",
            "seller_id": seller_id or self.seller_id, "seller_email": "shop@example.com",
            "trade_status": trade_status, "total_amount": total_amount, "receipt_amount": total_amount,
            "buyer_pay_amount": total_amount, "subject": "鲜果铺 等 2 家店铺的订单 & 更多",
            "body": "", "gmt_create": now.strftime("%Y-%m-%d %H:%M:%S"),
            "gmt_payment": now.strftime("%Y-%m-%d %H:%M:%S"),
            "fund_bill_list": json.dumps([{"amount": total_amount, "fundChannel": "ALIPAYACCOUNT"}]),
        }
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items())
                           if k not in ("sign", "sign_type") and v != "")
        params["sign"] = rsa_sign_b64(sign_key or self.platform_key, content.encode("utf-8"))
        params.update(tamper or {})
        return urlencode(params).encode("utf-8")


TRADE_METHODS = {"alipay.trade.query": "_query", "alipay.trade.refund": "_refund", "alipay.trade.close": "_close",
                 "alipay.trade.fastpay.refund.query": "_refund_query"}
