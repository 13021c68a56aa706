"""CryptoVault settings: one module, every value read from the environment.

With no environment at all the project runs on its embedded default (SQLite, an
embedded Redis, console email). .env.example documents every variable. With
DEBUG off, unsafe values stop the process at import with the variable named.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from cryptovault.config_checks import (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    DEVELOPMENT_SECRET_KEY,
    production_problems,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# The process environment wins; a dotenv file fills in the rest: .env in the project root, or
# the file ENV_FILE names, and ENV_FILE="" reads none. The test set-up (cryptovault.pytest_plugin)
# sets ENV_FILE="" and TESTING=true, so a developer's .env never changes what the suite proves.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=True)
# Test-mode settings: fast password hashing, static files from their sources, no online
# password check.
TESTING = env.bool("TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEVELOPMENT_FIELD_ENCRYPTION_KEY] if DEBUG else [])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Proxies in front of the app. Their X-Forwarded-For (the client IP for lockout, rate limits,
# audit and sessions: cryptovault.clientip) and X-Forwarded-Proto (HTTPS) are trusted only
# when there are some: a client talking to the app directly could otherwise claim any
# address or scheme.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

if not DEBUG:
    _problems = production_problems(
        secret_key=SECRET_KEY,
        field_encryption_keys=FIELD_ENCRYPTION_KEYS,
        allowed_hosts=ALLOWED_HOSTS,
        redis_url=env.str("REDIS_URL", default=""),
        email_url=env.str("EMAIL_URL", default=""),
        sms_backend=env.str("SMS_BACKEND", default=""),
        exchange_api_urls=env.str("EXCHANGE_API_URLS", default=""),
    )
    if _problems:
        raise ImproperlyConfigured("Refusing to start with DEBUG off:\n  - " + "\n  - ".join(_problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.usersessions",
    "django_otp",
    "axes",
    "rest_framework_simplejwt.token_blacklist",
    "cryptovault",
    "accounts",
    "exchanges",
    "trading",
    "analytics",
    "security",
    "backups",
]

MIDDLEWARE = [
    "cryptovault.middleware.RequestIdMiddleware",
    "cryptovault.middleware.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cryptovault.admin_gate.CommonMiddleware",  # Django's; no slash redirect for an admin path the gate refused
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: it tells the user why a 12-hour-old session ended.
    # It also records activity at most once a minute (allauth's per-request UserSessionsMiddleware is off).
    "accounts.middleware.SessionLifetimeMiddleware",
    # /admin/: 404 outside ADMIN_ALLOWED_NETWORKS; staff must have given a second factor.
    "cryptovault.admin_gate.AdminGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "cryptovault.middleware.ApiHeadersMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cryptovault.urls"
WSGI_APPLICATION = "cryptovault.wsgi.application"
ASGI_APPLICATION = "cryptovault.asgi.application"
AUTH_USER_MODEL = "accounts.User"
SITE_NAME = "CryptoVault"
# Where links in emails point when no request says it (commands, tasks): the public address.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

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
                "django.template.context_processors.csp",
                "cryptovault.context_processors.site",
                "accounts.context_processors.account",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
# Importing settings creates nothing: var/ is made by scripts/setup.sh, runstack and the test set-up.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cryptovault.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's built-in psycopg pool: connections are reused across requests instead of
    # opened per request (the pool replaces CONN_MAX_AGE, which must stay 0).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers and a writer overlap, and
    # IMMEDIATE transactions queue writers instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that the test suite's Celery worker process sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One test database per test run, so two runs on one machine never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: cache, channel layer, Celery broker ------------------------------------------------
def redis_url_with_db(url: str, db: int) -> str:
    """The same Redis server as ``url`` but database ``db``, so each use can be flushed alone."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


# No REDIS_URL configured means the embedded default (EMBEDDED_REDIS). Settings never start a
# server: the runners do, and pass its URL on as REDIS_URL to every process they start:
# `manage.py runstack` (make run) and the test set-up (cryptovault.pytest_plugin), both through
# cryptovault.embedded_redis. A process started by hand without REDIS_URL (manage.py shell, a
# worker) falls back to a Redis on this machine's standard port, and fails on first use if none
# listens there. With DEBUG off a missing REDIS_URL is refused above.
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED_REDIS = not REDIS_URL
FALLBACK_REDIS_URL = "redis://127.0.0.1:6379"
if EMBEDDED_REDIS:
    REDIS_URL = FALLBACK_REDIS_URL

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=redis_url_with_db(REDIS_URL, 0))
CACHE_URL = env.str("CACHE_REDIS_URL", default=redis_url_with_db(REDIS_URL, 1))
CHANNEL_LAYER_URL = env.str("CHANNEL_LAYER_REDIS_URL", default=redis_url_with_db(REDIS_URL, 2))
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=redis_url_with_db(REDIS_URL, 3))

REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=5.0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "cv",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": REDIS_SOCKET_TIMEOUT},
    }
}

# channels-redis blocks on BZPOPMIN for up to 5 s. redis-py 8 made 5 s the default socket
# timeout, so idle websocket consumers crashed every 5 s (redis/redis-py#4091); its pool also
# caps at 100 connections, too few for a busy ws process. Both are set here explicitly.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": CHANNEL_LAYER_URL,
                    "socket_timeout": env.float("CHANNEL_LAYER_SOCKET_TIMEOUT", default=30.0),
                    "socket_connect_timeout": 5,
                    "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                }
            ],
            "prefix": "cv-asgi",
            "capacity": 1500,
            "expiry": 60,
        },
    }
}

# --- Celery ------------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth --------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: a locked-out client is refused before any password check.
    # AxesBackend also carries ModelBackend's get_user and permissions, so a session that
    # records it (force_login, the websocket's session lookup) still resolves its user.
    "axes.backends.AxesBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.BreachedPasswordValidator"},
]
# Have I Been Pwned's k-anonymity range API: only 5 hex characters of the SHA-1 leave the
# server. Empty turns the online check off (Django's common-password list still applies).
PWNED_PASSWORDS_URL = env.str("PWNED_PASSWORDS_URL", default="" if TESTING else "https://api.pwnedpasswords.com/range/")
PWNED_PASSWORDS_TIMEOUT = env.float("PWNED_PASSWORDS_TIMEOUT", default=2.0)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Unverified users may sign in, but the gates in accounts.gates keep them from exchange
# keys, trading and withdrawals until they typed the code or followed the link.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3  # the link; the code lives EMAIL_VERIFICATION_CODE_MINUTES
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_SESSION_REMEMBER = False
# cryptovault.ratelimits limits these endpoints with the headers the API promises; allauth's
# own limits would answer first, without them.
ACCOUNT_RATE_LIMITS = False
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT  # sessions list the same client IP as everything else
# "Last seen" is recorded at most once a minute by accounts.middleware, not on every request.
USERSESSIONS_TRACK_ACTIVITY = False
EMAIL_VERIFICATION_CODE_MINUTES = env.int("EMAIL_VERIFICATION_CODE_MINUTES", default=60)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)  # a reset link lives one hour

# Sessions: 30 minutes idle and 12 hours at most from sign-in, whatever the activity
# (accounts.middleware.SessionLifetimeMiddleware). Activity moves the end ahead at most once a
# minute: a signed-in request in between writes nothing.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 3600)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = False

# Second factors.
OTP_TOTP_ISSUER = SITE_NAME
SECOND_FACTOR_STEP_UP_SECONDS = env.int("SECOND_FACTOR_STEP_UP_SECONDS", default=5 * 60)
SMS_CODE_VALID_SECONDS = env.int("SMS_CODE_VALID_SECONDS", default=10 * 60)
SMS_MAX_PER_HOUR = env.int("SMS_MAX_PER_HOUR", default=6)  # per account and per phone number
# Exchange keys, withdrawals and API keys need 2FA switched on at all (an operator choice).
REQUIRE_2FA_FOR_SENSITIVE_ACTIONS = env.bool("REQUIRE_2FA_FOR_SENSITIVE_ACTIONS", default=True)
# A new withdrawal address is usable this many hours after it was added (security.services.whitelist).
WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = env.int("WITHDRAWAL_ADDRESS_COOLDOWN_HOURS", default=24)

# Lockout (django-axes): 5 failed sign-ins lock that account for that client for an hour.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=3600))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "cryptovault.clientip.client_ip_for_axes"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_for_axes"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "otp_code", "code"]

# Per-client-IP limits on POSTs to endpoints marked `@rate_limited(group)` (cryptovault.ratelimits:
# atomic counters in the cache's Redis, shared by a group's pages and API endpoints).
RATE_LIMITS = {
    "signup": env.str("RATE_LIMIT_SIGNUP", default="5/m"),
    "login": env.str("RATE_LIMIT_LOGIN", default="10/m"),
    "verify_email": env.str("RATE_LIMIT_VERIFY_EMAIL", default="10/m"),
    "resend_verification": env.str("RATE_LIMIT_RESEND_VERIFICATION", default="3/m"),
    "forgot_password": env.str("RATE_LIMIT_FORGOT_PASSWORD", default="3/m"),
    "reset_password": env.str("RATE_LIMIT_RESET_PASSWORD", default="5/m"),
    "connection_test": env.str("RATE_LIMIT_CONNECTION_TEST", default="10/m"),
    # Per user, not per IP: order placement on pages and API (trading).
    "orders": env.str("RATE_LIMIT_ORDERS", default="20/m"),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_REFRESH_HOURS", default=12)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_AUTHENTICATION_RULE": "accounts.authentication.user_may_authenticate",
    # Access tokens carry a hash of the password hash: a password change or reset kills them at
    # once, not 15 minutes later (refresh tokens are blacklisted by credentials_changed).
    "CHECK_REVOKE_TOKEN": True,
}

# --- Exchanges ---------------------------------------------------------------------------------
# Seconds one call to an exchange may take (a connection test, a health check).
EXCHANGE_TIMEOUT_SECONDS = env.float("EXCHANGE_TIMEOUT_SECONDS", default=10.0)
# Point ccxt at other hosts, e.g. "binance=http://127.0.0.1:9100/binance" (the loopback emulator of
# the tests and the offline demo). Empty: the exchanges' own hosts.
EXCHANGE_API_URLS = env.str("EXCHANGE_API_URLS", default="")
# This server's outbound IP, shown so traders can whitelist it on their keys. Empty: not shown.
EGRESS_IP = env.str("EGRESS_IP", default="")
# How often the health job re-tests every active connection.
CONNECTION_CHECK_MINUTES = env.int("CONNECTION_CHECK_MINUTES", default=30)
# Failed checks in a row before a degraded connection is marked as in error.
CONNECTION_ERROR_AFTER_FAILURES = env.int("CONNECTION_ERROR_AFTER_FAILURES", default=3)
# Days after which the key auditor reminds the owner to rotate a key.
KEY_ROTATION_REMINDER_DAYS = env.int("KEY_ROTATION_REMINDER_DAYS", default=90)

# --- Market data ---------------------------------------------------------------------------------
# The pairs the ticker strip, the price feed and the charts follow.
MARKET_SYMBOLS = env.list(
    "MARKET_SYMBOLS",
    default=[f"{base}/USDT" for base in ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")],
)
# The exchange public prices come from (through ccxt, no keys). Unreachable: the offline replay.
# "replay": the offline replay only.
MARKET_DATA_EXCHANGE = env.str("MARKET_DATA_EXCHANGE", default="binance")
# Seconds tickers (and one symbol's details) stay in the shared cache.
MARKET_TICKERS_CACHE_SECONDS = env.int("MARKET_TICKERS_CACHE_SECONDS", default=60)
MARKET_DETAIL_CACHE_SECONDS = env.int("MARKET_DETAIL_CACHE_SECONDS", default=300)
# The offline replay plays real candles this many times faster than they happened.
MARKET_REPLAY_SPEED = env.int("MARKET_REPLAY_SPEED", default=60)
# The most candles one request may ask for (a longer range is a 400 naming this limit).
MARKET_MAX_CANDLES = env.int("MARKET_MAX_CANDLES", default=50_000)

# --- Analytics -----------------------------------------------------------------------------------
# Periods in a year for annualising daily figures: crypto trades every day (stocks: 252).
ANALYTICS_PERIODS_PER_YEAR = env.int("ANALYTICS_PERIODS_PER_YEAR", default=365)
# The annual risk-free rate Sharpe, Sortino and the mean-variance weights subtract (0.04 = 4 %).
ANALYTICS_RISK_FREE_RATE = env.float("ANALYTICS_RISK_FREE_RATE", default=0.0)
# Backtests (analytics.services, analytics.tasks): the most candles one backtest reads, the most parameter
# sets one optimisation tries, the Celery tasks an optimisation is split into (more workers finish sooner),
# the queue they go to ("" = Celery's default), and whether jobs run in the queuing process (the tests).
BACKTEST_MAX_CANDLES = env.int("BACKTEST_MAX_CANDLES", default=2_000_000)
BACKTEST_MAX_PARAMETER_SETS = env.int("BACKTEST_MAX_PARAMETER_SETS", default=10_000)
BACKTEST_OPTIMISE_CHUNKS = env.int("BACKTEST_OPTIMISE_CHUNKS", default=16)
BACKTEST_TASK_QUEUE = env.str("BACKTEST_TASK_QUEUE", default="")
BACKTEST_TASKS_EAGER = env.bool("BACKTEST_TASKS_EAGER", default=TESTING)
# Seconds between two price ticks pushed to /ws/prices.
PRICE_TICK_SECONDS = env.float("PRICE_TICK_SECONDS", default=5.0)
# Open /ws/prices connections one client IP may hold.
WS_PRICES_MAX_PER_IP = env.int("WS_PRICES_MAX_PER_IP", default=20)
# Seconds between heartbeats on /ws/prices; a client that misses two pongs is dropped.
WS_HEARTBEAT_SECONDS = env.float("WS_HEARTBEAT_SECONDS", default=30.0)

# --- Trading -----------------------------------------------------------------------------------
# What a new (or reset) paper account holds, in USDT.
PAPER_STARTING_BALANCE = env.str("PAPER_STARTING_BALANCE", default="10000")
# Paper market orders (and triggered stops) fill this many basis points worse than the price.
PAPER_SLIPPAGE_BPS = env.int("PAPER_SLIPPAGE_BPS", default=5)
# Seconds between two syncs of open exchange orders and balances (Celery beat).
ORDER_SYNC_SECONDS = env.int("ORDER_SYNC_SECONDS", default=60)
# Open orders one user may hold across accounts (every tick reads them).
MAX_OPEN_ORDERS_PER_USER = env.int("MAX_OPEN_ORDERS_PER_USER", default=200)
# Seconds a new withdrawal waits (pending, cancellable by its owner) before it is sent or completed.
WITHDRAWAL_HOLD_SECONDS = env.int("WITHDRAWAL_HOLD_SECONDS", default=300)
# The most a user may withdraw in 24 hours (rolling), valued in USDT at current prices; exchange
# accounts share one such limit, the paper account has its own.
WITHDRAWAL_DAILY_LIMIT_USDT = env.str("WITHDRAWAL_DAILY_LIMIT_USDT", default="50000")
# The largest simulated deposit into a paper account, valued in USDT at current prices.
PAPER_DEPOSIT_MAX_USDT = env.str("PAPER_DEPOSIT_MAX_USDT", default="100000")


def amount_setting_problem(name: str, value: str) -> str | None:
    """Why an amount setting (USDT, kept as text) is malformed, or None: plain, finite, not negative."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        return f"{name} must be a plain non-negative number of USDT such as 50000, not {value!r}."
    return None


# A malformed amount stops the process here, naming the variable, rather than failing each request.
for _name in ("PAPER_STARTING_BALANCE", "WITHDRAWAL_DAILY_LIMIT_USDT", "PAPER_DEPOSIT_MAX_USDT"):
    if _problem := amount_setting_problem(_name, globals()[_name]):
        raise ImproperlyConfigured(_problem)

# --- Email -------------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")  # EMAIL_BACKEND, EMAIL_HOST, ...
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    # Django's console backend prints the raw MIME message, whose quoted-printable text breaks
    # and =3D-escapes a verification link; this one prints the decoded text part.
    _email["EMAIL_BACKEND"] = "cryptovault.mail.ConsoleEmailBackend"
vars().update(_email)
# Seconds an SMTP server may take to answer: a hung one must not hold a process forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# SMS: the logging backend prints each message (development); production sets TWILIO_*.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")  # only to point at a test double
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="accounts.sms.TwilioSMSBackend"
    if TWILIO_ACCOUNT_SID
    else ("accounts.sms.LoggingSMSBackend" if DEBUG else "accounts.sms.DisabledSMSBackend"),
)
# Notifications (accounts/notify.py): email and SMS leave through the Celery task accounts.deliver_notification,
# retried with exponential backoff (30 s, 60 s, ... at most an hour apart) up to NOTIFICATION_MAX_RETRIES times.
NOTIFICATION_MAX_RETRIES = env.int("NOTIFICATION_MAX_RETRIES", default=5)
NOTIFICATION_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_SECONDS", default=30)
NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS", default=3600)
NOTIFICATION_TASK_QUEUE = env.str("NOTIFICATION_TASK_QUEUE", default="")  # "" = Celery's default queue
# Deliver in the process that notifies, retries at once (the test suite; a worker is not needed).
NOTIFICATION_DELIVERY_EAGER = env.bool("NOTIFICATION_DELIVERY_EAGER", default=TESTING)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CryptoVault <no-reply@cryptovault.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
# Made by collectstatic, runstack and the test set-up, not here (WhiteNoise warns when it is missing).
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/lightweight-charts", NODE_MODULES / "lightweight-charts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Backups (backups/, docs/backups.md) -------------------------------------------------------
# Unset: with DEBUG on, backups.conf uses its published development key; with DEBUG off every backup
# fails with "BACKUP_ENCRYPTION_KEY is not set" and the admins are emailed. It must differ from every
# FIELD_ENCRYPTION_KEYS key (refused otherwise).
BACKUP_ENCRYPTION_KEY = env.str("BACKUP_ENCRYPTION_KEY", default=None)
BACKUP_RETENTION_DAYS = env.int("BACKUP_RETENTION_DAYS", default=30)
BACKUP_ROOT = env.str("BACKUP_ROOT", default="")  # local storage; default var/backups
BACKUP_WORK_DIR = env.str("BACKUP_WORK_DIR", default="")  # temporary copies; default var/backup-work
BACKUP_PG_BIN_DIR = env.str("BACKUP_PG_BIN_DIR", default="")  # pg_dump/pg_restore; default PATH
BACKUP_LOCK_WAIT_SECONDS = env.int("BACKUP_LOCK_WAIT_SECONDS", default=300)
BACKUP_SCRATCH_PREFIX = env.str("BACKUP_SCRATCH_PREFIX", default="cv_backups_scratch")
BACKUP_ZSTD_LEVEL = env.int("BACKUP_ZSTD_LEVEL", default=1)
BACKUP_TASK_QUEUE = env.str("BACKUP_TASK_QUEUE", default="")  # "" = Celery's default queue
if env.str("BACKUP_S3_BUCKET", default=""):
    STORAGES["backups"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("BACKUP_S3_BUCKET"),
            "endpoint_url": env.str("BACKUP_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("BACKUP_S3_REGION", default="") or None,
            # Unset: boto3's own chain (instance role, AWS_* variables).
            "access_key": env.str("BACKUP_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("BACKUP_S3_SECRET_ACCESS_KEY", default="") or None,
            "file_overwrite": False,
        },
    }
# The admin site answers only from these networks (CIDR ranges or addresses, comma-separated;
# the client IP as everywhere: TRUSTED_PROXY_COUNT). Elsewhere every /admin/ URL is a 404. Empty: everywhere.
ADMIN_ALLOWED_NETWORKS = env.list("ADMIN_ALLOWED_NETWORKS", default=[])
ADMINS = env.list("ADMINS", default=[])  # who is emailed when a backup fails; empty: the admin role

# --- Security headers --------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "cryptovault.views.csrf_failure"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=TRUSTED_PROXY_COUNT > 0):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- API ---------------------------------------------------------------------------------------
API_VERSION = "1"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.JWTAuthentication",  # simplejwt's, refused after a second-factor change
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.ApiKeyScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        # One throttle: the user-or-anon budget below plus the endpoint's rate_limited groups.
        "cryptovault.api.throttling.RateLimitThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "cryptovault.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    # Documents the errors each operation can answer from what its view is made of (cryptovault/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "cryptovault.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "cryptovault.api.errors.api_exception_handler",
    # JSON whose nesting or numbers Python cannot read is a 400, not a 500 (cryptovault/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "cryptovault.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["cryptovault.api.renderers.SafeJSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}


def _minutes(seconds: float) -> str:
    """A duration setting as the API description states it."""
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


SPECTACULAR_SETTINGS = {
    "TITLE": "CryptoVault API",
    "DESCRIPTION": (
        "The CryptoVault integration API.\n\n"
        "**Authentication.** Three ways: (1) a JWT: POST /api/v1/auth/token/ with email and password "
        "(plus `otp_code` once two-factor authentication is on; the first try without it answers 401 "
        f"`otp_required`) returns an access token ({_minutes(SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds())}) "
        "sent as `Authorization: Bearer <access>`, "
        "and a refresh token for /api/v1/auth/token/refresh/ (single use: each refresh returns a new one; "
        "/api/v1/auth/logout/ blacklists it). (2) A personal API key, created under /api/v1/auth/api-keys/ "
        "and sent as `Authorization: Api-Key cvk_...` (or `X-API-Key`): its scopes (read, trade, withdraw) "
        "and IP allowlist limit what it may do, and it can never manage the account itself (keys, "
        "passwords, 2FA, sessions). (3) The browser session (with its CSRF token), once signed in "
        "with the second factor.\n\n"
        "**Sensitive actions** (API keys, disabling 2FA, adding a phone) need 2FA on and a fresh proof: "
        "`otp_code` in the request, or a step-up (/api/v1/auth/2fa/step-up/) within the last "
        f"{_minutes(SECOND_FACTOR_STEP_UP_SECONDS)}, "
        "which gives a JWT client an access token carrying the proof.\n\n"
        "Every response carries X-Request-ID and X-API-Version; throttled responses answer 429 with "
        "Retry-After and X-RateLimit-Limit/-Remaining/-Reset/-Policy. Errors are JSON objects with "
        "`detail`, `code`, optional per-field `errors` and the `request_id`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field name another model uses too (`kind`, `status`): named here, so the older
    # ones keep their names (KindEnum: price alerts, StatusEnum: connections).
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "trading.models.alerts.AlertKind",
        "StatusEnum": "exchanges.models.Status",
        "BacktestKindEnum": "analytics.models.BacktestKind",
        "BacktestStatusEnum": "analytics.models.BacktestStatus",
    },
}

# --- Logging -----------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "cryptovault.logging.RequestContextFilter"},
        "mask_secrets": {"()": "cryptovault.logging.SecretMaskingFilter"},
    },
    "formatters": {
        "text": {
            "class": "cryptovault.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s",
        },
        "json": {
            "()": "cryptovault.logging.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601 in UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context", "mask_secrets"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "uvicorn.access": {"level": "WARNING"},
        # ccxt's DEBUG lines carry request headers and signed URLs (API keys among them).
        "ccxt": {"level": "WARNING"},
    },
}

REQUEST_ID_HEADER = "X-Request-ID"
