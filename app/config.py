"""Configuration classes. Every value comes from an environment variable.

`DevConfig` is the embedded default (SQLite in instance/, jobs inline, console
SMS and mail, sandbox payments). `TestConfig` points at real PostgreSQL and
Redis. `ProdConfig` refuses to start with the default secret key or without
`PUBLIC_BASE_URL`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"
DEFAULT_SECRET_KEY = "dev-secret-change-me"


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


def env_float(name: str, default: float) -> float:
    value = env(name)
    return float(value) if value is not None else default


def normalise_database_url(url: str) -> str:
    """Let a plain `postgresql://` URL work as written (we drive it with psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = "base"
    SECRET_KEY = env("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'shop.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = env("REDIS_URL")  # absent: jobs run inline after commit
    # Short timeouts, one retry: a dead or hung Redis costs a request at most about
    # 2 × (connect or socket timeout), never a hang. The RQ worker raises the socket
    # timeout of its own connection above its blocking dequeue by itself.
    REDIS_CONNECT_TIMEOUT_SECONDS = env_float("REDIS_CONNECT_TIMEOUT_SECONDS", 0.5)
    REDIS_SOCKET_TIMEOUT_SECONDS = env_float("REDIS_SOCKET_TIMEOUT_SECONDS", 1.0)
    # The storefront's shared page cache (app/core/page_cache.py): Redis when REDIS_URL is
    # set, else in process. Off in tests unless a test turns it on (most tests write rows
    # directly, not through the services that invalidate it).
    PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", True)
    # Each web process keeps the pages it last gave visitors without a session for at most
    # this long (app/web/shop/page_copies.py): a change made in another process shows
    # within it; one made in this process at once. At most PAGE_COPY_LIMIT pages a process.
    PAGE_COPY_SECONDS = env_float("PAGE_COPY_SECONDS", 1.0)
    PAGE_COPY_LIMIT = env_int("PAGE_COPY_LIMIT", 256)
    # Searches answered from those pages are held this long at most and kept together
    # (app/analytics/held_events.py): a timer thread keeps them.
    HELD_SEARCH_SECONDS = 0.5
    OUTBOX_DIR = env("OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))
    DEMO_HISTORY_DAYS = env_int("DEMO_HISTORY_DAYS", 120)  # months of demo orders and visits (app/demo_history.py)
    UPLOAD_DIR = env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Report files (数据报表) written by the report jobs, downloaded by their shop or the platform.
    REPORT_DIR = env("REPORT_DIR", str(INSTANCE_DIR / "reports"))
    UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    # 25 MP admits a 24 MP phone photo (5712 x 4284) and refuses a 6000 x 6000 bomb before decoding.
    UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 25_000_000)
    # Stored images are re-encoded no larger than this on their long edge (licence scans stay legible).
    UPLOAD_MAX_EDGE = env_int("UPLOAD_MAX_EDGE", 3000)
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # three 5 MB documents in one application form, plus fields

    # Sessions: HttpOnly + SameSite always; Secure outside development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")

    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI") or env("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: limits are counted in this process (Flask-Limiter's fallback for route
    # limits, app.core.ratelimit's for the keyed ones) and Redis is asked again this often.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_RECHECK_SECONDS = env_int("RATELIMIT_STORAGE_RECHECK_SECONDS", 30)

    # Notifications
    SMS_PROVIDER = env("SMS_PROVIDER", "console")  # console | aliyun
    MAIL_PROVIDER = env("MAIL_PROVIDER", "console")  # console | smtp
    MAIL_FROM = env("MAIL_FROM", "商城 <no-reply@shop.local>")
    SMTP_HOST = env("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = env_int("SMTP_PORT", 25)
    SMTP_USE_TLS = env_bool("SMTP_USE_TLS", False)  # STARTTLS
    SMTP_USE_SSL = env_bool("SMTP_USE_SSL", False)  # implicit TLS
    SMTP_USERNAME = env("SMTP_USERNAME")
    SMTP_PASSWORD = env("SMTP_PASSWORD")
    SMTP_TIMEOUT_SECONDS = env_int("SMTP_TIMEOUT_SECONDS", 10)
    ALIYUN_SMS_BASE_URL = env("ALIYUN_SMS_BASE_URL", "https://dysmsapi.aliyuncs.com")
    ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID")
    ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET")
    ALIYUN_SMS_SIGN_NAME = env("ALIYUN_SMS_SIGN_NAME", "商城")
    # template key -> provider template code, e.g. "verification_code=SMS_123,notice=SMS_456"
    ALIYUN_SMS_TEMPLATES = env("ALIYUN_SMS_TEMPLATES", "")

    # Third-party sign-in
    WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
    WECHAT_OPEN_BASE_URL = env("WECHAT_OPEN_BASE_URL", "https://open.weixin.qq.com")
    WECHAT_MP_APPID = env("WECHAT_MP_APPID")
    WECHAT_MP_SECRET = env("WECHAT_MP_SECRET")
    WECHAT_WEB_APPID = env("WECHAT_WEB_APPID")
    WECHAT_WEB_SECRET = env("WECHAT_WEB_SECRET")
    ALIPAY_GATEWAY_URL = env("ALIPAY_GATEWAY_URL", "https://openapi.alipay.com/gateway.do")
    ALIPAY_AUTH_URL = env("ALIPAY_AUTH_URL", "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm")
    ALIPAY_APP_ID = env("ALIPAY_APP_ID")
    ALIPAY_APP_PRIVATE_KEY = env("ALIPAY_APP_PRIVATE_KEY")  # PEM
    ALIPAY_PUBLIC_KEY = env("ALIPAY_PUBLIC_KEY")  # PEM, Alipay's key for verifying replies
    HTTP_TIMEOUT_SECONDS = env_int("HTTP_TIMEOUT_SECONDS", 10)

    SANDBOX_PAY_SECRET = env("SANDBOX_PAY_SECRET")  # set: the sandbox gateway exists (never in production)
    # This site's public address, e.g. https://shop.example.com. Every absolute link (mails,
    # SMS, gateway notify and return URLs, share links, API image URLs) is built on it, never
    # on the request's Host header; Flask's TRUSTED_HOSTS is its host plus TRUSTED_HOSTS below.
    PUBLIC_BASE_URL = env("PUBLIC_BASE_URL")
    # Further host names the site answers to, comma separated (e.g. an internal health-check name).
    EXTRA_TRUSTED_HOSTS = env("TRUSTED_HOSTS", "")
    LOCAL_HOSTS_TRUSTED = False  # development and tests also answer to localhost and 127.0.0.1
    # Production: plain-HTTP requests are redirected to HTTPS and answers carry HSTS.
    HTTPS_ONLY = False

    # WeChat Pay API v3
    WECHATPAY_BASE_URL = env("WECHATPAY_BASE_URL", "https://api.mch.weixin.qq.com")
    WECHATPAY_MCHID = env("WECHATPAY_MCHID")
    WECHATPAY_APPID = env("WECHATPAY_APPID")  # the mini-program / official account bound to the merchant id
    WECHATPAY_SERIAL_NO = env("WECHATPAY_SERIAL_NO")  # serial of the merchant API certificate
    WECHATPAY_PRIVATE_KEY = env("WECHATPAY_PRIVATE_KEY")  # PEM, merchant API private key
    WECHATPAY_APIV3_KEY = env("WECHATPAY_APIV3_KEY")  # 32 characters, decrypts notification resources
    # Verifying WeChat's signatures: platform certificates ("serial=PEM" pairs separated by ";;")
    # and/or the WeChat Pay public key with its id (PUB_KEY_ID_...), chosen by Wechatpay-Serial.
    WECHATPAY_PLATFORM_CERTS = env("WECHATPAY_PLATFORM_CERTS", "")
    WECHATPAY_PUBLIC_KEY = env("WECHATPAY_PUBLIC_KEY")
    WECHATPAY_PUBLIC_KEY_ID = env("WECHATPAY_PUBLIC_KEY_ID")
    WECHATPAY_NOTIFY_MAX_SKEW_SECONDS = 300

    # Alipay payments reuse ALIPAY_APP_ID / ALIPAY_APP_PRIVATE_KEY / ALIPAY_PUBLIC_KEY / ALIPAY_GATEWAY_URL
    ALIPAY_SELLER_ID = env("ALIPAY_SELLER_ID")  # the 2088... partner id notifications must name

    # Distribution: the platform's cap on the sum of the level rates (basis points; 3000 = 30%)
    DISTRIBUTION_MAX_TOTAL_BP = env_int("DISTRIBUTION_MAX_TOTAL_BP", 3000)

    # Logistics tracking
    TRACKING_PROVIDER = env("TRACKING_PROVIDER", "manual")  # manual | kuaidi100
    KUAIDI100_BASE_URL = env("KUAIDI100_BASE_URL", "https://poll.kuaidi100.com")
    KUAIDI100_CUSTOMER = env("KUAIDI100_CUSTOMER")
    KUAIDI100_KEY = env("KUAIDI100_KEY")

    JOBS_INLINE = REDIS_URL is None
    JOB_RETRY_INTERVALS = (10, 60, 300)
    # A message still queued this long after its last attempt lost its job: the sweep sends it again.
    OUTBOUND_RESEND_AFTER_SECONDS = env_int("OUTBOUND_RESEND_AFTER_SECONDS", 60)
    API_TOKEN_DAYS = 30
    # The Redis mirror of tokens' owners that the flash-sale buy endpoint reads
    # (app/accounts/token_cache.py): how long an entry lives at most, and how long a process
    # leaves it alone after a Redis error.
    API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 86400)
    TOKEN_CACHE_RECHECK_SECONDS = env_float("TOKEN_CACHE_RECHECK_SECONDS", 5.0)
    LOG_JSON = env_bool("LOG_JSON", True)

    @classmethod
    def check(cls, settings: Mapping) -> None:
        """Refuse to start with settings that cannot work (the app's final config, overrides included)."""
        base = settings.get("PUBLIC_BASE_URL")
        if base and (problem := base_url_problem(base)):
            raise RuntimeError(f"PUBLIC_BASE_URL {base!r}: {problem}")


class DevConfig(Config):
    ENV_NAME = "development"
    PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    LOCAL_HOSTS_TRUSTED = True
    DEBUG = env_bool("FLASK_DEBUG", False)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SANDBOX_PAY_SECRET = env("SANDBOX_PAY_SECRET", "sandbox-dev-secret")
    LOG_JSON = env_bool("LOG_JSON", False)


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    DEMO_HISTORY_DAYS = 0  # tests/test_demo_history.py makes a short one
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        env("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shop_test")
    )
    REDIS_URL = env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    RATELIMIT_STORAGE_URI = REDIS_URL
    JOBS_INLINE = False
    PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", False)
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    SANDBOX_PAY_SECRET = "sandbox-test-secret"
    PUBLIC_BASE_URL = "http://localhost"  # the test client's host
    LOCAL_HOSTS_TRUSTED = True
    SMTP_TIMEOUT_SECONDS = 5
    HTTP_TIMEOUT_SECONDS = 5
    JOB_RETRY_INTERVALS = (0, 0, 0)
    LOG_JSON = False


class ProdConfig(Config):
    ENV_NAME = "production"
    HTTPS_ONLY = env_bool("HTTPS_ONLY", True)

    @classmethod
    def check(cls, settings: Mapping) -> None:
        if settings.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY):
            raise RuntimeError("SECRET_KEY must be set to a secret value in production")
        if not settings.get("PUBLIC_BASE_URL"):
            raise RuntimeError("PUBLIC_BASE_URL must be set in production (e.g. https://shop.example.com)")
        super().check(settings)
        if settings.get("HTTPS_ONLY") and urlsplit(settings["PUBLIC_BASE_URL"]).scheme != "https":
            raise RuntimeError("PUBLIC_BASE_URL must be https:// while HTTPS_ONLY is on")


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot be this site's public address, or None when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname or parts.username or parts.password:
        return "must name a host (and no user or password)"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    return None


def trusted_hosts(settings: Mapping) -> list[str] | None:
    """The host names requests may carry: PUBLIC_BASE_URL's, the TRUSTED_HOSTS extras,
    and in development and tests localhost and 127.0.0.1. None (any host) only when
    PUBLIC_BASE_URL is unset, which production refuses."""
    base = settings.get("PUBLIC_BASE_URL")
    if not base:
        return None
    hosts = [urlsplit(base).hostname]
    hosts += [h.strip() for h in (settings.get("EXTRA_TRUSTED_HOSTS") or "").split(",") if h.strip()]
    if settings.get("LOCAL_HOSTS_TRUSTED"):
        hosts += ["localhost", "127.0.0.1"]
    return list(dict.fromkeys(hosts))


CONFIGS = {"development": DevConfig, "testing": TestConfig, "production": ProdConfig}


def config_from_env() -> type[Config]:
    return CONFIGS.get(env("APP_ENV", "development"), DevConfig)
