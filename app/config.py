"""Configuration classes. Every setting comes from the environment; nothing here raises at import time."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))
EMBEDDED_DATABASE_URL = f"sqlite:///{INSTANCE_PATH / 'beiyang.sqlite3'}"
# SMS and WeChat providers' settings (notifications/channels, app/wechat.py), each read from the environment variable
# of its name. WECHAT_WEB_APP_ID/SECRET: the open platform's website app (微信扫码登录 on a desktop).
NOTIFICATION_PROVIDER_SETTINGS = (
    "ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME", "ALIYUN_SMS_TEMPLATE_CODE",
    "ALIYUN_SMS_REGION", "ALIYUN_SMS_ENDPOINT", "TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY",
    "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME", "TENCENT_SMS_TEMPLATE_ID", "TENCENT_SMS_REGION",
    "TENCENT_SMS_ENDPOINT", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATE_ID", "WECHAT_OAUTH_BASE",
    "WECHAT_API_BASE", "WECHAT_WEB_APP_ID", "WECHAT_WEB_APP_SECRET",
)
# APP_ENV values that ask for the demo (Try as..., the /dev/sms outbox) whatever the database.
DEMO_ENVIRONMENTS = {"development", "demo"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise RuntimeError(f"{name} must not be negative, not {raw!r}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key() -> str:
    """A secret generated once per machine and kept in instance/, so sessions survive restarts in development."""
    path = INSTANCE_PATH / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


class Config:
    """Shared defaults; subclasses differ only in what they must or must not allow."""

    ENV_NAME = "base"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False}
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024  # JSON bodies and forms; file uploads are links, not blobs
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # The remember cookie holds a sign-in's token (app.accounts.auth): it ends at sign-out whatever its date, and a
    # sign-in unused for 30 days ends too (app.accounts.services.SESSION_IDLE_LIMIT).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    # REMEMBER_COOKIE_SECURE always follows SESSION_COOKIE_SECURE (app.accounts.auth.init_login_manager).
    WTF_CSRF_TIME_LIMIT = None  # a phone left on a page overnight must still submit
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}

    API_TITLE = "Beiyang Events API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    OTP_LENGTH = 6
    OTP_TTL_SECONDS = 300
    OTP_MAX_ATTEMPTS = 5
    OTP_RATE_PER_PHONE = "5 per 15 minutes"
    OTP_RATE_PER_ADDRESS = "30 per hour"
    OTP_VERIFY_RATE_PER_ADDRESS = "60 per hour"
    # Over any 24 hours, in the database (app.accounts.services; the numbers and why: docs/decisions.md).
    OTP_DAILY_PER_PHONE = 10
    OTP_DAILY_PER_ADDRESS = 100
    OTP_LOCKOUT_WRONG = 10
    OTP_LOCKOUT_HOURS = 6
    SMS_PROVIDER = "console"
    RATELIMIT_HEADERS_ENABLED = True
    PAGE_CACHE_DEFAULT_SECONDS = 30
    HEALTH_PROBE_DEFAULT_SECONDS = 1

    def __init__(self) -> None:
        # Read at instantiation, not import, so tests and CLI see the environment of the moment.
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or self.default_secret_key()
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL") or EMBEDDED_DATABASE_URL)
        # A server connection that sat idle is tested before use (app.extensions_setup: only after it sat idle;
        # pool_pre_ping would cost a round trip on every request).
        server_database = not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite")
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False}
        if server_database:
            # Connections kept open per process, and no more. Connections opened beyond the pool are closed again
            # when they come back: under a sign-up rush that opened and closed hundreds of PostgreSQL backends
            # (each a process to start), so a request beyond the pool waits for a free connection instead.
            self.SQLALCHEMY_ENGINE_OPTIONS.update(pool_size=_env_int("DATABASE_POOL_SIZE", 20),
                                                  max_overflow=_env_int("DATABASE_MAX_OVERFLOW", 0))
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.PORT = _env_int("PORT", 5000)
        # The live room announces a poll's (a question's, a round's) tally at most once per this many seconds (per
        # deployment when REDIS_URL is set, else per process; live/realtime.py): at once, then once more at the end
        # of the interval. 100 ms to the screens keeps vote -> screen under 250 ms at the 99th percentile while a
        # hall votes (bench/live_room.py).
        self.LIVE_ANNOUNCE_INTERVAL = _env_int("LIVE_ANNOUNCE_MS", 50) / 1000  # screens and moderators
        self.LIVE_PHONES_ANNOUNCE_INTERVAL = _env_int("LIVE_PHONES_ANNOUNCE_MS", 250) / 1000  # every phone: a send each
        self.DEMO_MODE = _env_bool("DEMO_MODE", self.default_demo_mode())
        self.SERVER_NAME_FOR_LINKS = os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{self.PORT}")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "beiyang")
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        self.TASK_QUEUE = os.environ.get("TASK_QUEUE") or ("redis" if self.REDIS_URL else "embedded")
        self.TASK_QUEUE_NAME = os.environ.get("TASK_QUEUE_NAME", "beiyang")
        self.START_EMBEDDED_WORKER = _env_bool("START_EMBEDDED_WORKER", self.TASK_QUEUE == "embedded")
        self.SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "beiyang-socketio")
        # Open connections are rechecked at once when someone's access changes (app.realtime); this sweep of every
        # connection is only the safety net for a change missed while Redis was away. 0: no sweep.
        self.REALTIME_RECHECK_SECONDS = _env_int("REALTIME_RECHECK_SECONDS", 60)
        self.SMS_PROVIDER = os.environ.get("SMS_PROVIDER", self.SMS_PROVIDER)
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
        self.PROXY_COUNT = _env_int("PROXY_COUNT", 0)
        # Anonymous pages kept at most this long (app.page_cache; any write ends them sooner). 0: never cached.
        self.PAGE_CACHE_SECONDS = _env_int("PAGE_CACHE_SECONDS", self.PAGE_CACHE_DEFAULT_SECONDS)
        # /healthz asks the database at most this often per process; between probes it repeats the last answer.
        self.HEALTH_PROBE_SECONDS = _env_int("HEALTH_PROBE_SECONDS", self.HEALTH_PROBE_DEFAULT_SECONDS)
        self.notifications_settings()

    def notifications_settings(self) -> None:
        """notifications/: Web Push, e-mail, SMS and WeChat, and the delivery workers' knobs (README's "Notification
        settings", docs/deploy.md). The name on the left is the setting; the environment variable is read."""
        env = os.environ.get
        self.NOTIFICATIONS_VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", "")  # PEM or base64url raw key
        self.NOTIFICATIONS_VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY", "")  # base64url uncompressed point
        self.NOTIFICATIONS_VAPID_SUBJECT = env("VAPID_SUBJECT", "mailto:ops@beiyang.local")
        self.NOTIFICATIONS_SMTP_HOST = env("SMTP_HOST", "")  # empty: e-mails go to the log (embedded default)
        self.NOTIFICATIONS_SMTP_PORT = _env_int("SMTP_PORT", 25)
        self.NOTIFICATIONS_SMTP_USER = env("SMTP_USER", "")
        self.NOTIFICATIONS_SMTP_PASSWORD = env("SMTP_PASSWORD", "")
        self.NOTIFICATIONS_SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", False)
        self.NOTIFICATIONS_MAIL_FROM = env("MAIL_FROM", "noreply@beiyang.local")
        # How long a claimed delivery is held before another worker may take it over.
        self.NOTIFICATIONS_LEASE_SECONDS = _env_int("NOTIFICATIONS_LEASE_SECONDS", 120)
        self.NOTIFICATIONS_MAX_ATTEMPTS = _env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8)
        self.NOTIFICATIONS_RETRY_BASE_SECONDS = _env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)  # doubled per try
        self.NOTIFICATIONS_BATCH = _env_int("NOTIFICATIONS_BATCH", 200)  # deliveries per claim
        self.NOTIFICATIONS_SEND_CONCURRENCY = _env_int("NOTIFICATIONS_SEND_CONCURRENCY", 32)  # e-mail/SMS/WeChat
        self.NOTIFICATIONS_FANOUT_CHUNK = _env_int("NOTIFICATIONS_FANOUT_CHUNK", 5000)  # residents per transaction
        self.NOTIFICATIONS_PUSH_CONNECTIONS = _env_int("NOTIFICATIONS_PUSH_CONNECTIONS", 128)  # per worker process
        self.NOTIFICATIONS_FANOUT_PARALLEL = _env_int("NOTIFICATIONS_FANOUT_PARALLEL", 4)  # chunks at once (PostgreSQL)
        self.NOTIFICATIONS_PARALLEL_DRAINS = _env_int("NOTIFICATIONS_PARALLEL_DRAINS", 8)
        self.NOTIFICATIONS_PUSH_TTL = _env_int("NOTIFICATIONS_PUSH_TTL", 86400)  # seconds kept for an offline phone
        self.NOTIFICATIONS_SMS_PROVIDER = env("NOTIFICATIONS_SMS_PROVIDER", "")  # empty: SMS_PROVIDER (console)
        # Tests only (a push service on 127.0.0.1 over http); refused in production (notifications.init_app).
        self.NOTIFICATIONS_ALLOW_INSECURE_PUSH = _env_bool("NOTIFICATIONS_ALLOW_INSECURE_PUSH_FOR_TESTS", False)
        # Providers' settings, read from the environment variables of the same name.
        for name in NOTIFICATION_PROVIDER_SETTINGS:
            setattr(self, name, env(name, ""))

    def default_secret_key(self) -> str:
        return _dev_secret_key()

    def default_demo_mode(self) -> bool:
        """Demo mode (sign in as anyone, read every SMS) only when asked for: DEMO_MODE=1 (read before this), APP_ENV
        development or demo, or the embedded SQLite in instance/. A server started with APP_ENV unset against a
        production database (DATABASE_URL) is not a demo."""
        if os.environ.get("APP_ENV", "").strip() in DEMO_ENVIRONMENTS:
            return True
        return self.SQLALCHEMY_DATABASE_URI == EMBEDDED_DATABASE_URL


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    PAGE_CACHE_DEFAULT_SECONDS = 0  # an edited template shows at once


class DemoConfig(DevelopmentConfig):
    """APP_ENV=demo: development, demo mode on whatever the database (a shared demo server on PostgreSQL)."""

    ENV_NAME = "demo"


class TestingConfig(Config):
    __test__ = False  # not a pytest test class
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    PAGE_CACHE_DEFAULT_SECONDS = 0  # tests of the cache turn it on (tests/app/test_page_cache.py)
    HEALTH_PROBE_DEFAULT_SECONDS = 0  # every /healthz asks the database

    def __init__(self) -> None:
        super().__init__()
        self.TASK_QUEUE = "immediate"
        self.START_EMBEDDED_WORKER = False
        self.REALTIME_RECHECK_SECONDS = 0  # tests recheck through access_changed, never on a timer
        self.LIVE_ANNOUNCE_INTERVAL = 0.0  # every change announced at once (a test of the throttle sets it)
        self.LIVE_PHONES_ANNOUNCE_INTERVAL = 0.0

    def default_secret_key(self) -> str:
        return "test-secret-key-not-for-production"


class ProductionConfig(Config):
    ENV_NAME = "production"

    def default_secret_key(self) -> str:
        raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production).")

    def default_demo_mode(self) -> bool:
        return False


CONFIGS = {
    "development": DevelopmentConfig,
    "demo": DemoConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> Config:
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// spellings and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
