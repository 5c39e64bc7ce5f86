"""Local fake servers that speak the WeChat and Alipay sign-in protocols, for
the adapters to talk to over real HTTP on 127.0.0.1 (random port), plus
checks of the Alipay signing helpers themselves.

The other `test_oauth_*` modules import `FakeWechat`, `FakeAlipay` and
`rsa_pem_pair` from here.
"""
from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.accounts.oauth import alipay

# --- a tiny threaded HTTP server ---------------------------------------------------------

@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class FakeServer:
    """`handle(seen) -> (status, content_type, body_bytes)`; every request is kept in `requests`."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.requests: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                seen = Seen(self.command, parts.path, query, form, dict(self.headers))
                outer.requests.append(seen)
                status, content_type, payload = outer.handle(seen)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_reply(data: dict, status: int = 200) -> tuple[int, str, bytes]:
    # WeChat answers JSON labelled text/plain
    return status, "text/plain", json.dumps(data, ensure_ascii=False).encode("utf-8")


# --- WeChat ------------------------------------------------------------------------------

@dataclass
class WechatAccount:
    openid_mp: str
    openid_web: str
    unionid: str | None = None
    nickname: str = "微信用户"
    headimgurl: str = "https://thirdwx.example/head/1/132"


class FakeWechat:
    """`/sns/jscode2session`, `/sns/oauth2/access_token` and `/sns/userinfo`.

    Codes are issued with `mp_code(account)` / `web_code(account)`, are single
    use (40163 the second time) and unknown codes get 40029. `fail_with` makes
    every call answer that errcode.
    """

    def __init__(self, mp_appid="wx-mp-app", mp_secret="mp-secret", web_appid="wx-web-app", web_secret="web-secret"):
        self.mp_appid, self.mp_secret = mp_appid, mp_secret
        self.web_appid, self.web_secret = web_appid, web_secret
        self.codes: dict[str, tuple[str, WechatAccount]] = {}
        self.used: set[str] = set()
        self.tokens: dict[str, WechatAccount] = {}
        self.fail_with: int | None = None
        self._n = 0
        self.server = FakeServer(self.handle)
        self.url = self.server.url

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def _code(self, kind: str, account: WechatAccount) -> str:
        self._n += 1
        code = f"{kind}-code-{self._n}"
        self.codes[code] = (kind, account)
        return code

    def mp_code(self, account: WechatAccount) -> str:
        return self._code("mp", account)

    def web_code(self, account: WechatAccount) -> str:
        return self._code("web", account)

    def _take(self, code: str, kind: str):
        if code in self.used:
            return None, {"errcode": 40163, "errmsg": "code been used"}
        entry = self.codes.get(code)
        if entry is None or entry[0] != kind:
            return None, {"errcode": 40029, "errmsg": "invalid code"}
        self.used.add(code)
        return entry[1], None

    def handle(self, seen: Seen):
        q = seen.query
        if self.fail_with is not None:
            return json_reply({"errcode": self.fail_with, "errmsg": "failure"})
        if seen.path == "/sns/jscode2session":
            if q.get("grant_type") != "authorization_code":
                return json_reply({"errcode": 40002, "errmsg": "invalid grant_type"})
            if q.get("appid") != self.mp_appid or q.get("secret") != self.mp_secret:
                return json_reply({"errcode": 40125, "errmsg": "invalid appsecret"})
            account, error = self._take(q.get("js_code", ""), "mp")
            if error:
                return json_reply(error)
            reply = {"openid": account.openid_mp, "session_key": "c2Vzc2lvbi1rZXk="}
            if account.unionid:
                reply["unionid"] = account.unionid
            return json_reply(reply)
        if seen.path == "/sns/oauth2/access_token":
            if q.get("grant_type") != "authorization_code":
                return json_reply({"errcode": 40002, "errmsg": "invalid grant_type"})
            if q.get("appid") != self.web_appid or q.get("secret") != self.web_secret:
                return json_reply({"errcode": 40125, "errmsg": "invalid appsecret"})
            account, error = self._take(q.get("code", ""), "web")
            if error:
                return json_reply(error)
            token = f"token-{account.openid_web}"
            self.tokens[token] = account
            reply = {"access_token": token, "expires_in": 7200, "refresh_token": "r", "openid": account.openid_web,
                     "scope": "snsapi_login"}
            if account.unionid:
                reply["unionid"] = account.unionid
            return json_reply(reply)
        if seen.path == "/sns/userinfo":
            account = self.tokens.get(q.get("access_token", ""))
            if account is None:
                return json_reply({"errcode": 40001, "errmsg": "invalid credential"})
            if q.get("openid") != account.openid_web:
                return json_reply({"errcode": 40003, "errmsg": "invalid openid"})
            reply = {"openid": account.openid_web, "nickname": account.nickname, "sex": 0, "province": "",
                     "city": "", "country": "CN", "headimgurl": account.headimgurl, "privilege": []}
            if account.unionid:
                reply["unionid"] = account.unionid
            return json_reply(reply)
        return 404, "text/plain", b"not found"

    def configure(self, app, monkeypatch) -> None:
        monkeypatch.setitem(app.config, "WECHAT_API_BASE_URL", self.url)
        monkeypatch.setitem(app.config, "WECHAT_OPEN_BASE_URL", "https://open.wechat.test")
        monkeypatch.setitem(app.config, "WECHAT_MP_APPID", self.mp_appid)
        monkeypatch.setitem(app.config, "WECHAT_MP_SECRET", self.mp_secret)
        monkeypatch.setitem(app.config, "WECHAT_WEB_APPID", self.web_appid)
        monkeypatch.setitem(app.config, "WECHAT_WEB_SECRET", self.web_secret)

    def close(self) -> None:
        self.server.close()


# --- Alipay ------------------------------------------------------------------------------

def rsa_pem_pair() -> tuple[rsa.RSAPrivateKey, str, str]:
    """A fresh 2048-bit key: (key, private PEM (PKCS#8), public PEM (SubjectPublicKeyInfo))."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, private_pem, public_pem


def bare_base64(pem: str) -> str:
    """The key body without PEM armour, as the Alipay console shows it."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


@dataclass
class AlipayAccount:
    user_id: str
    nick_name: str = "支付宝用户"
    avatar: str = "https://tfs.alipayobjects.example/images/partner/T1.png"
    uses_open_id: bool = False


@dataclass
class FakeAlipay:
    """The open platform gateway for `alipay.system.oauth.token` and
    `alipay.user.info.share`. It verifies our RSA2 request signature with the
    app's public key and signs its replies with the platform's private key.

    Knobs: `tamper` (alter the reply after signing), `unsigned` (drop `sign`),
    `escape_slashes` (send "/" as "\\/", signing the unescaped text, as the
    real gateway sometimes does), `info_error` (user.info.share fails).
    """

    app_id: str = "2021000000000001"
    codes: dict[str, AlipayAccount] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    tokens: dict[str, AlipayAccount] = field(default_factory=dict)
    tamper: bool = False
    unsigned: bool = False
    escape_slashes: bool = False
    info_error: dict | None = None
    verified: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app_key, self.app_private_pem, self.app_public_pem = rsa_pem_pair()
        self.platform_key, self.platform_private_pem, self.platform_public_pem = rsa_pem_pair()
        self._n = 0
        self.server = FakeServer(self.handle)
        self.url = self.server.url + "/gateway.do"

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def auth_code(self, account: AlipayAccount) -> str:
        self._n += 1
        code = f"auth{self._n:04d}"
        self.codes[code] = account
        return code

    # the gateway's own signing, written from the protocol description
    def _content(self, params: dict[str, str]) -> str:
        pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
        return "&".join(f"{k}={v}" for k, v in pairs)

    def _reply(self, node_name: str, node: dict) -> tuple[int, str, bytes]:
        node_text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        signature = base64.b64encode(self.platform_key.sign(
            node_text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()
        sent = node_text.replace("/", "\\/") if self.escape_slashes else node_text
        if self.tamper:
            sent = sent.replace("10000", "10001", 1) if "10000" in sent else sent.replace('":"', '":"x', 1)
        body = f'{{"{node_name}":{sent}'
        body += "}" if self.unsigned else f',"sign":"{signature}"}}'
        return 200, "text/html;charset=utf-8", body.encode("utf-8")

    def _error(self, node_name: str, code: str, msg: str, sub_code: str, sub_msg: str):
        return self._reply(node_name, {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})

    def handle(self, seen: Seen):
        if seen.method != "POST" or seen.path != "/gateway.do":
            return 404, "text/plain", b"not found"
        params = {**seen.query, **seen.form}
        method = params.get("method", "")
        node_name = method.replace(".", "_") + "_response"
        if params.get("app_id") != self.app_id:
            return self._error("error_response", "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2" or params.get("charset") != "utf-8" or params.get("version") != "1.0":
            return self._error("error_response", "40002", "Invalid Arguments", "isv.invalid-signature-type",
                               "无效的签名类型")
        datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
        try:
            self.app_key.public_key().verify(base64.b64decode(params.get("sign", "")),
                                             self._content(params).encode("utf-8"),
                                             padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return self._error("error_response", "40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        self.verified.append(method)
        if method == "alipay.system.oauth.token":
            if params.get("grant_type") != "authorization_code":
                return self._error("error_response", "40002", "Invalid Arguments", "isv.grant-type-invalid",
                                   "grant_type参数不正确")
            code = params.get("code", "")
            account = self.codes.get(code)
            if account is None or code in self.used:
                return self._error("error_response", "40002", "Invalid Arguments", "isv.code-invalid",
                                   "授权码code无效")
            self.used.add(code)
            token = f"authusrB{account.user_id}"
            self.tokens[token] = account
            node = {"access_token": token, "expires_in": 1296000, "refresh_token": "r", "re_expires_in": 2592000,
                    "auth_start": "2024-01-01 10:00:00"}
            node["open_id" if account.uses_open_id else "user_id"] = account.user_id
            return self._reply(node_name, node)
        if method == "alipay.user.info.share":
            if self.info_error:
                return self._reply(node_name, self.info_error)
            account = self.tokens.get(params.get("auth_token", ""))
            if account is None:
                return self._reply(node_name, {"code": "20001", "msg": "Insufficient Token Permissions",
                                               "sub_code": "aop.invalid-auth-token", "sub_msg": "无效的访问令牌"})
            return self._reply(node_name, {"code": "10000", "msg": "Success", "user_id": account.user_id,
                                           "nick_name": account.nick_name, "avatar": account.avatar})
        return self._error("error_response", "40004", "Business Failed", "isv.invalid-method", "不存在的方法名")

    def configure(self, app, monkeypatch, bare_keys: bool = False) -> None:
        monkeypatch.setitem(app.config, "ALIPAY_GATEWAY_URL", self.url)
        monkeypatch.setitem(app.config, "ALIPAY_AUTH_URL", "https://openauth.alipay.test/oauth2/publicAppAuthorize.htm")
        monkeypatch.setitem(app.config, "ALIPAY_APP_ID", self.app_id)
        private = bare_base64(self.app_private_pem) if bare_keys else self.app_private_pem
        public = bare_base64(self.platform_public_pem) if bare_keys else self.platform_public_pem
        monkeypatch.setitem(app.config, "ALIPAY_APP_PRIVATE_KEY", private)
        monkeypatch.setitem(app.config, "ALIPAY_PUBLIC_KEY", public)

    def close(self) -> None:
        self.server.close()


# --- the signing helpers themselves ----------------------------------------------------------

def test_signing_content_sorts_and_drops_sign_and_empty_values():
    params = {"sign": "x", "method": "m", "app_id": "1", "code": "", "biz": None, "charset": "utf-8",
              "timestamp": "2024-01-01 10:00:00"}
    assert alipay.signing_content(params) == "app_id=1&charset=utf-8&method=m&timestamp=2024-01-01 10:00:00"


def test_sign_and_verify_round_trip_and_a_changed_byte_fails():
    key, _private_pem, public_pem = rsa_pem_pair()
    signature = alipay.sign("a=1&b=支付宝", key)
    public = alipay.load_public_key(public_pem)
    assert alipay.verify("a=1&b=支付宝", signature, public)
    assert not alipay.verify("a=1&b=支付室", signature, public)
    assert not alipay.verify("a=1&b=支付宝", "not base64!", public)


def test_keys_are_read_as_pem_or_as_bare_base64():
    key, private_pem, public_pem = rsa_pem_pair()
    assert alipay.load_private_key(bare_base64(private_pem)).private_numbers() == key.private_numbers()
    assert alipay.load_public_key(bare_base64(public_pem)).public_numbers() == key.public_key().public_numbers()


def test_top_level_spans_are_the_raw_text_of_each_member():
    text = '{"a_response" : {"k":"v}\\"{","n":[1,{"x":"}"}]} ,"sign":"abc"}'
    spans = alipay.top_level_spans(text)
    assert text[slice(*spans["a_response"])] == '{"k":"v}\\"{","n":[1,{"x":"}"}]}'
    assert text[slice(*spans["sign"])] == '"abc"'
    with pytest.raises(ValueError):
        alipay.top_level_spans('["not", "an object"]')
