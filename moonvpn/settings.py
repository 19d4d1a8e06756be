"""MoonVPN settings, read from the environment (and an optional .env file).

Every name is documented in README.md ("Configuration") and .env.example. A bad value
stops start-up with one line naming the setting, never a traceback.
"""

import base64
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _fail(message):
    # One clear line for the operator; a settings traceback tells them nothing.
    sys.stderr.write(f"MoonVPN configuration error: {message}\n")
    raise SystemExit(2)


env = environ.Env()
# The test runner turns this off (moonvpn/pytest_env.py): a developer's .env, which
# `make run` writes, must not change what the tests see.
if os.environ.get("MOONVPN_READ_DOTENV", "true").strip().lower() not in ("0", "false", "no", "off"):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
    "": False,
}


def _bool(name, default=False):
    # django-environ reads any unknown word as False; a typo must not silently
    # turn DEBUG (or a security switch) off or on.
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _BOOLEANS:
        _fail(f"{name} must be true or false, not {raw!r}")
    return _BOOLEANS[raw]


try:
    DEBUG = _bool("DEBUG")
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
except (ImproperlyConfigured, ValueError) as exc:
    _fail(str(exc))

if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-dev-key-only-for-debug"
    else:
        _fail("SECRET_KEY is not set (set it, or set DEBUG=true for local development)")
elif not DEBUG:
    # Django's own deploy check (security.W009): 50 characters, 5 of them distinct. A
    # placeholder such as .env.example's change-me would let anyone forge sessions.
    if (
        SECRET_KEY.startswith("django-insecure-")
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    ):
        _fail(
            "SECRET_KEY is a placeholder or too short (at least 50 random characters): "
            "generate one with python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "panels",
    "billing",
    "botapp",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.HealthzMiddleware",  # first: no host check, no HTTPS redirect
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "moonvpn.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "moonvpn.wsgi.application"


def _database():
    url = env.str("DATABASE_URL", default="") or "sqlite:///db.sqlite3"
    if url.partition("://")[0] not in ("sqlite", "mysql"):
        _fail(
            f"DATABASE_URL must be sqlite:///path or mysql://user:pass@host:port/name (got {url!r})"
        )
    try:
        db = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several kinds on a bad URL
        _fail(f"DATABASE_URL is not a database URL ({url!r}: {exc})")
    engine = db.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        name = str(db.get("NAME") or "db.sqlite3")
        if name != ":memory:" and not Path(name).is_absolute():
            db["NAME"] = str(BASE_DIR / name)
        db["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
            # busy timeout instead of one failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # Tests use a file, not shared-cache memory: threads in concurrency tests then
        # wait on the busy timeout like real processes instead of "table is locked".
        # One file per test run, so parallel runs never share (or inherit WAL files).
        db["TEST"] = {
            "NAME": os.path.join(tempfile.gettempdir(), f"moonvpn-test-{os.getpid()}.sqlite3")
        }
    elif engine in ("django.db.backends.mysql",):
        db["OPTIONS"] = {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
        }
        db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    # Reusing connections saves a connect per webhook update; health checks replace
    # one the server closed in the meantime.
    db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASES = {"default": _database()}

AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Persian first: most operators and customers read it. The admin follows the browser.
LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", "فارسی"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Tehran")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default="") or str(BASE_DIR / "media")

# Panel passwords and API tokens are encrypted at rest with Fernet. Without an explicit
# key one is derived from SECRET_KEY, so changing SECRET_KEY makes stored panel secrets
# unreadable: set PANEL_SECRETS_KEY in production and keep it.
PANEL_SECRETS_KEY = (
    env.str("PANEL_SECRETS_KEY", default="")
    or base64.urlsafe_b64encode(
        hashlib.sha256(f"moonvpn-panel-secrets:{SECRET_KEY}".encode()).digest()
    ).decode()
)
try:
    # A bad key would only show when a panel secret is first stored or read.
    Fernet(PANEL_SECRETS_KEY.encode())
except ValueError:
    _fail(
        "PANEL_SECRETS_KEY is not a Fernet key (32 url-safe base64-encoded bytes): generate "
        "one with python -c 'from cryptography.fernet import Fernet as F; "
        "print(F.generate_key().decode())'"
    )

# Telegram
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org").rstrip("/")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
# polling: `runbot` (the compose `bot` service) polls; webhook: Telegram posts to the web
# service (after `set_webhook URL`) and `runbot` waits idle instead of competing with it.
BOT_MODE = env.str("BOT_MODE", default="polling").strip().lower()
if BOT_MODE not in ("polling", "webhook"):
    _fail(f"BOT_MODE must be polling or webhook, not {BOT_MODE!r}")
# Seconds each process keeps the plans on sale in memory for the bot's menus
# (billing/catalogue.py); a plan saved in the same process is seen at once.
CATALOGUE_SECONDS = env.float("CATALOGUE_SECONDS", default=5.0)
try:
    ADMIN_TELEGRAM_IDS = [int(x) for x in env.list("ADMIN_TELEGRAM_IDS", default=[]) if x]
except ValueError:
    _fail("ADMIN_TELEGRAM_IDS must be comma-separated numeric chat ids")

# Wallet top-ups in the bot, in whole Toman: the preset buttons and the bounds of a
# typed amount. Receipt images larger than RECEIPT_MAX_BYTES are refused.
try:
    TOPUP_MIN_AMOUNT = env.int("TOPUP_MIN_AMOUNT", default=10_000)
    TOPUP_MAX_AMOUNT = env.int("TOPUP_MAX_AMOUNT", default=50_000_000)
    TOPUP_PRESET_AMOUNTS = [
        int(x)
        for x in env.list("TOPUP_PRESET_AMOUNTS", default=["100000", "200000", "500000", "1000000"])
        if x
    ]
except ValueError:
    _fail("TOPUP_MIN_AMOUNT, TOPUP_MAX_AMOUNT and TOPUP_PRESET_AMOUNTS must be whole numbers")
# Growth: an inviter earns REFERRAL_PERCENT % of each of an invited customer's first
# REFERRAL_MAX_ORDERS paid orders; REQUIRED_CHANNEL (e.g. @moonvpn_news) must be joined
# before buying or taking the trial; broadcasts go out at most BROADCAST_RATE a second.
try:
    REFERRAL_PERCENT = env.int("REFERRAL_PERCENT", default=10)
    REFERRAL_MAX_ORDERS = env.int("REFERRAL_MAX_ORDERS", default=1)
    BROADCAST_RATE = env.float("BROADCAST_RATE", default=25.0)
except ValueError:
    _fail("REFERRAL_PERCENT, REFERRAL_MAX_ORDERS and BROADCAST_RATE must be numbers")
if not 0 <= REFERRAL_PERCENT <= 100:
    _fail("REFERRAL_PERCENT must be 0 to 100")
REQUIRED_CHANNEL = env.str("REQUIRED_CHANNEL", default="").strip()
RECEIPT_MAX_BYTES = env.int("RECEIPT_MAX_BYTES", default=10 * 1024 * 1024)
# Checked before decoding: a small file can declare a huge image (a decompression bomb).
RECEIPT_MAX_PIXELS = env.int("RECEIPT_MAX_PIXELS", default=40_000_000)

# The customer's one subscription (panels.subscription): MoonVPN's public address, where
# SITE_URL/sub/<token>/ serves every active service on every panel.
SITE_URL = env.str("SITE_URL", default="").strip().rstrip("/")
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    _fail(f"SITE_URL must start with https:// (or http://), not {SITE_URL!r}")
SUBSCRIPTION_TITLE = env.str("SUBSCRIPTION_TITLE", default="MoonVPN")
SUBSCRIPTION_UPDATE_HOURS = env.int("SUBSCRIPTION_UPDATE_HOURS", default=12)

# 3x-ui panels
PANEL_CONNECT_TIMEOUT = env.float("PANEL_CONNECT_TIMEOUT", default=5.0)
PANEL_READ_TIMEOUT = env.float("PANEL_READ_TIMEOUT", default=15.0)
# The read timeout is per socket read; this bounds a whole answer (a slow-drip panel).
PANEL_CALL_DEADLINE = env.float("PANEL_CALL_DEADLINE", default=30.0)
# Syncing is waiting on panels, not CPU: enough threads for every panel at once.
SYNC_MAX_WORKERS = env.int("SYNC_MAX_WORKERS", default=32)

# Provisioning retries: after this many failed attempts or this many minutes since
# payment, a paid order is refunded to the wallet.
PROVISION_MAX_ATTEMPTS = env.int("PROVISION_MAX_ATTEMPTS", default=10)
PROVISION_REFUND_AFTER_MINUTES = env.int("PROVISION_REFUND_AFTER_MINUTES", default=24 * 60)


# Account lifecycle (panels.lifecycle): renewals, reminders and clean-up.
def _int_list(name, default):
    try:
        values = sorted({int(x) for x in env.list(name, default=default) if str(x).strip()})
    except ValueError:
        _fail(f"{name} must be comma-separated whole numbers")
    if any(value <= 0 for value in values):
        _fail(f"{name} must hold positive numbers only")
    return values


# A renewal keeps the unused traffic (on) or drops it (off); with RENEW_RESET_USAGE the
# panel's usage counters are zeroed too, so the new limit counts from 0 (the arithmetic
# is in panels/lifecycle.py).
RENEW_CARRY_OVER_TRAFFIC = _bool("RENEW_CARRY_OVER_TRAFFIC", default=True)
RENEW_RESET_USAGE = _bool("RENEW_RESET_USAGE", default=False)
# send_reminders: days before expiry, and percentages of traffic used.
REMINDER_DAYS = _int_list("REMINDER_DAYS", ["3", "1"])
REMINDER_USAGE_PERCENT = _int_list("REMINDER_USAGE_PERCENT", ["80", "95"])
if any(value > 100 for value in REMINDER_USAGE_PERCENT):
    _fail("REMINDER_USAGE_PERCENT must be percentages between 1 and 100")
# cleanup_accounts: days an expired account is kept on its panel before it is deleted.
try:
    CLEANUP_GRACE_DAYS = env.int("CLEANUP_GRACE_DAYS", default=7)
except ValueError:
    _fail("CLEANUP_GRACE_DAYS must be a whole number of days")
if CLEANUP_GRACE_DAYS < 1:
    _fail("CLEANUP_GRACE_DAYS must be at least 1 (the customer is warned a day before)")

# manage.py backup (run daily by the scheduler) writes here and keeps the newest BACKUP_KEEP.
BACKUP_DIR = env.str("BACKUP_DIR", default="") or str(BASE_DIR / "backups")
try:
    BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
except ValueError:
    _fail("BACKUP_KEEP must be a whole number of archives")
if BACKUP_KEEP < 1:
    _fail("BACKUP_KEEP must be at least 1")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "moonvpn.throttling.RateLimitedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "moonvpn.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "moonvpn.api.StaffAutoSchema",
    # JSON in, JSON out: form encodings cannot tell false from "0" (the schema's types).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Requests per client address (anonymous) and per staff user; README "Production".
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="30/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
    },
}

# The staff API's OpenAPI document (/api/v1/schema/) and its interactive docs
# (/api/v1/docs/, /api/v1/redoc/), served from drf-spectacular-sidecar: no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "MoonVPN staff API",
    "DESCRIPTION": (
        "Everything an operator does in the console: panels, inbounds, plans, add-ons, "
        "users, orders, receipts, bank cards, the wallet ledger and client accounts. "
        "Token authentication (`Authorization: Token <key>`; `manage.py drf_create_token "
        "USER`), staff users only; each endpoint takes the Django permission of the "
        'console action it mirrors. Errors are JSON: `{"message": ..., "errors": ...}`. '
        "Text never contains NUL characters (every string has the pattern `^[^\\x00]*$`)."
    ),
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "moonvpn.api.no_nul_in_text",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Failed admin logins per address and user name, and bad API tokens per address,
# before that client waits LOGIN_LOCKOUT_MINUTES (moonvpn/throttling.py).
try:
    LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
    API_MAX_BAD_TOKENS = env.int("API_MAX_BAD_TOKENS", default=20)
    LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
except ValueError:
    _fail("LOGIN_MAX_FAILURES, API_MAX_BAD_TOKENS and LOGIN_LOCKOUT_MINUTES must be whole numbers")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # The bot token and Bot API query strings (message texts) never reach a log line.
    "filters": {"redact": {"()": "moonvpn.redact.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}, "TeleBot": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE")

# Served over HTTPS (behind a proxy that terminates TLS and sets X-Forwarded-Proto):
# cookies only over HTTPS, plain HTTP redirected, browsers told to stay on HTTPS.
HTTPS = _bool("HTTPS")
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    try:
        SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    except ValueError:
        _fail("SECURE_HSTS_SECONDS must be a whole number of seconds")
