"""Local peers for the real delivery adapters: a fake Aliyun SMS endpoint that
checks the RPC signature with a key made here, and a real SMTP server
(aiosmtpd) on 127.0.0.1, with login and, when asked, TLS."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# --------------------------------------------------------------------------- Aliyun


def _rfc3986(text: str) -> str:
    # Written independently of the adapter on purpose: the fake must not share its bugs.
    return "".join(
        ch if (ch.isascii() and (ch.isalnum() or ch in "-_.~")) else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in text
    )


def aliyun_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((_rfc3986(k), _rfc3986(v)) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    to_sign = "&".join((method, _rfc3986("/"), _rfc3986(canonical)))
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


COMMON = {"Format": "JSON", "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1",
          "SignatureVersion": "1.0", "Version": "2017-05-25", "Action": "SendSms"}
REQUIRED = (*COMMON, "AccessKeyId", "SignatureNonce", "Timestamp", "Signature",
            "PhoneNumbers", "SignName", "TemplateCode")


@dataclass
class FakeAliyun:
    """What the fake SMS endpoint saw and what it should answer next."""

    access_key_id: str
    access_key_secret: str
    url: str = ""
    requests: list[dict] = field(default_factory=list)  # requests whose signature checked out
    refused: list[dict] = field(default_factory=list)  # {"code", "params"} of refused requests
    replies: list[dict] = field(default_factory=list)  # queued business replies, then OK
    nonces: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self) -> list[dict]:
        return [r for r in self.requests if r.get("_reply_code") == "OK"]

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            code, status, message = self._check(method, params)
            if code:
                self.refused.append({"code": code, "params": params})
                return status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())}
            reply = self.replies.pop(0) if self.replies else None
            if reply is None:
                reply = {"Code": "OK", "Message": "OK", "BizId": f"{secrets.randbelow(10**9)}^0"}
            reply = {"RequestId": str(uuid.uuid4()), **reply}
            self.requests.append({**params, "_reply_code": reply["Code"]})
            return 200, reply

    def _check(self, method: str, params: dict[str, str]) -> tuple[str | None, int, str]:
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            return "MissingParameter", 400, f"missing {', '.join(missing)}"
        for name, value in COMMON.items():
            if params[name] != value:
                return "InvalidParameter", 400, f"{name} must be {value}"
        if params["AccessKeyId"] != self.access_key_id:
            return "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."
        expected = aliyun_signature(method, params, self.access_key_secret)
        if not hmac.compare_digest(expected, params["Signature"]):
            return "SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation."
        try:
            at = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return "InvalidTimeStamp.Format", 400, "Specified time stamp is not well formatted."
        if abs((dt.datetime.now(dt.UTC) - at).total_seconds()) > 15 * 60:
            return "InvalidTimeStamp.Expired", 400, "Specified time stamp or date header is expired."
        if params["SignatureNonce"] in self.nonces:
            return "SignatureNonceUsed", 400, "Specified signature nonce was used already."
        self.nonces.add(params["SignatureNonce"])
        if not (len(params["PhoneNumbers"]) == 11 and params["PhoneNumbers"].isdigit()):
            return "isv.MOBILE_NUMBER_ILLEGAL", 200, "invalid mobile number"
        try:
            json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return "isv.INVALID_JSON_PARAM", 200, "TemplateParam is not JSON"
        return None, 200, ""


def _aliyun_handler(fake: FakeAliyun):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str, raw: str) -> None:
            if urlsplit(self.path).path != "/":
                self.send_error(404)
                return
            params = dict(parse_qsl(raw, keep_blank_values=True))
            status, body = fake.answer(method, params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self._reply("POST", self.rfile.read(length).decode("utf-8"))

        def do_GET(self):
            self._reply("GET", urlsplit(self.path).query)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def fake_aliyun():
    fake = FakeAliyun(access_key_id="LTAI" + secrets.token_hex(8), access_key_secret=secrets.token_urlsafe(24))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _aliyun_handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def aliyun_config(app, fake_aliyun, monkeypatch):
    """Point the app's SMS channel at the fake Aliyun endpoint."""
    values = {
        "SMS_PROVIDER": "aliyun",
        "ALIYUN_SMS_BASE_URL": fake_aliyun.url,
        "ALIYUN_SMS_ACCESS_KEY_ID": fake_aliyun.access_key_id,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": fake_aliyun.access_key_secret,
        "ALIYUN_SMS_SIGN_NAME": "测试商城",
        "ALIYUN_SMS_TEMPLATES": "verification_code=SMS_100001, notice=SMS_100002",
    }
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)
    return values


# --------------------------------------------------------------------------- SMTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list = []
        self.envelopes: list = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@dataclass
class SmtpPeer:
    host: str
    port: int
    mailbox: Mailbox
    username: str | None = None
    password: str | None = None
    cafile: str | None = None


def _authenticator(mailbox: Mailbox, username: str, password: str):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == username.encode() and auth_data.password == password.encode())
        if ok:
            mailbox.logins.append(username)
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def smtp_peer():
    """Start a real SMTP server: `smtp_peer(auth=True, tls="starttls"|"implicit"|None)`."""
    controllers: list[Controller] = []

    def start(auth: bool = False, tls: str | None = None, cert: tuple[str, str] | None = None) -> SmtpPeer:
        mailbox = Mailbox()
        peer = SmtpPeer("127.0.0.1", free_port(), mailbox)
        kwargs: dict = {}
        if auth:
            peer.username, peer.password = "mailer", secrets.token_urlsafe(12)
            # In the clear (and over implicit TLS, which aiosmtpd cannot see) AUTH must be
            # allowed without STARTTLS; with STARTTLS the server insists on it first.
            kwargs.update(authenticator=_authenticator(mailbox, peer.username, peer.password),
                          auth_require_tls=tls == "starttls")
        if tls:
            assert cert, "TLS needs a certificate"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            peer.cafile = cert[0]
            kwargs["tls_context" if tls == "starttls" else "ssl_context"] = context
            if tls == "starttls":
                kwargs["require_starttls"] = True
        controller = Controller(mailbox, hostname=peer.host, port=peer.port, **kwargs)
        controller.start()
        controllers.append(controller)
        return peer

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 made for this test run (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def smtp_config(app, monkeypatch):
    """Point the app's mail channel at an SMTP peer."""

    def point(peer: SmtpPeer | None = None, port: int | None = None) -> None:
        values = {
            "MAIL_PROVIDER": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port if port is not None else peer.port,
            "SMTP_USE_TLS": False,
            "SMTP_USE_SSL": False,
            "SMTP_USERNAME": peer.username if peer else None,
            "SMTP_PASSWORD": peer.password if peer else None,
        }
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return point
