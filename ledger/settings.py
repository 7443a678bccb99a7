"""Settings, read from the environment (twelve-factor); defaults suit a developer's laptop.

| variable               | default                         |
|------------------------|---------------------------------|
| DATABASE_URL           | sqlite:///<project>/db.sqlite3  |
| DJANGO_SECRET_KEY      | a random per-process key in development, required otherwise |
| DJANGO_DEBUG           | true (development mode; false in production) |
| DJANGO_DEBUG_PAGES     | false (Django's debug pages, only in development) |
| DJANGO_ALLOWED_HOSTS   | 127.0.0.1,localhost             |
| DJANGO_NUM_PROXIES     | 0 (trusted proxies before the app; X-Forwarded-For ignored at 0) |
| LEDGER_THROTTLE_WRITE  | 600/min (API writes per user)   |
| LEDGER_THROTTLE_TOKEN_CREATE | 30/min (token creations per client address) |
| LEDGER_API_TOKEN_TTL_DAYS | 90 (0: tokens never expire)  |
| LEDGER_IDEMPOTENCY_RETENTION_HOURS | 48 (at least 24)    |
| REDIS_URL              | unset: the cache is a database table; set: Redis |
| LEDGER_CACHE_KEY_PREFIX | empty (cache keys' prefix)     |
| LEDGER_EARLIEST_DATE   | 2000-01-01 (earlier dates are refused on input) |
| EMAIL_HOST             | unset: mail is printed on the console; set: sent by SMTP |
| EMAIL_PORT             | 25                              |
| EMAIL_HOST_USER / EMAIL_HOST_PASSWORD | empty (no SMTP login) |
| EMAIL_USE_TLS / EMAIL_USE_SSL | false (STARTTLS / implicit TLS) |
| EMAIL_TIMEOUT          | 10 (seconds to wait for the SMTP server) |
| DEFAULT_FROM_EMAIL     | Artist ledger <noreply@localhost> |
| LEDGER_SITE_URL        | http://127.0.0.1:8000 (the site's address in links sent by mail) |
| LEDGER_INVITATION_DAYS | 14 (an invitation link works this many days) |
| LEDGER_PASSWORD_RESETS_PER_HOUR | 5 (reset requests per client address) |
| LEDGER_STAFF_REQUIRE_2FA | on when DJANGO_DEBUG is off (staff need a second factor) |
| LEDGER_TASK_BACKEND    | database (`manage.py db_worker`); redis: RQ on REDIS_URL (`rqworker`) |
| LEDGER_ENCRYPTION_KEYS | unset: derived from DJANGO_SECRET_KEY; set: Fernet keys, first encrypts |
| DATABASE_REPLICA_URL   | unset: no replica; set: reports, statements, exports, lists may read it |
| LEDGER_REPLICA_MAX_LAG_SECONDS | 10 (a replica further behind is passed over) |
| LEDGER_WEBHOOKS_ALLOW_INSECURE | false (true: webhooks to http:// and private addresses) |

Production, proxy and lockout variables: docs/OPERATIONS.md.
"""

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# DJANGO_DEBUG is development mode: a throwaway key, plain HTTP, static files straight from the
# source tree, the browsable API. Django's own DEBUG (tracebacks, and 404 pages that list every
# URL pattern) is a separate opt-in, DJANGO_DEBUG_PAGES=true, so the quick start shows visitors
# the site's own 404 and 500 pages; errors still reach the console log.
DEVELOPMENT = env_bool("DJANGO_DEBUG", True)
DEBUG = DEVELOPMENT and env_bool("DJANGO_DEBUG_PAGES", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # A throwaway key: sessions do not survive a restart, but no secret is ever committed.
    SECRET_KEY = "dev-insecure-" + secrets.token_urlsafe(40)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "ledger",
    "ledger.api",
    "ledger.webhooks",
    # Before django_tasks_db: its `db_worker` command is replaced by this app's (which adds
    # the schedule), and Django takes a command from the first app listed that has it.
    "ledger.background",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ledger.api.middleware.RequireContentLengthMiddleware",
    "ledger.api.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which reads may use the read replica, and read-your-writes (a no-op without a replica).
    "ledger.routing.ReplicaRoutingMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ledger.web.middleware.DatabaseBusyMiddleware",
    "ledger.web.middleware.StaffSecondFactorMiddleware",
]

ROOT_URLCONF = "ledger.urls"
WSGI_APPLICATION = "ledger.wsgi.application"
ASGI_APPLICATION = "ledger.asgi.application"

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
                "ledger.web.context_processors.navigation",
            ],
            "libraries": {"ledger_web": "ledger.web.templatetags"},
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent use of SQLite: WAL lets readers run beside the writer; BEGIN IMMEDIATE takes the
    # write lock up front so two writers queue (busy timeout, seconds) instead of deadlocking on
    # a lock upgrade; SQLite ignores SELECT ... FOR UPDATE, so this is what serialises posting.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
else:
    # Connection settings that hold directly and through PgBouncer in transaction pooling mode
    # alike (docs/OPERATIONS.md, "PgBouncer"), so the app need not know which it talks to:
    # - no startup options: the session limits below are database settings (ledger/db_settings);
    # - no server-side prepared statements: Django's default client-side binding cursor never
    #   prepares, and psycopg's prepare_threshold is pinned off (a prepared statement lives in
    #   one server session, which a pooler shares out per transaction);
    # - no server-side cursors (a cursor lives in one server session too): exports stream by
    #   keyset pagination in chunks (ledger/queries/rows.keyset_rows), never `.iterator()`.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# Waits on a row lock, runaway statements and transactions left idle end with an error the API
# turns into 409/503 (ledger.db_errors); 0 switches one off. Milliseconds; PostgreSQL only.
LEDGER_PG_TIMEOUTS_MS = {
    "lock_timeout": int(os.environ.get("DJANGO_PG_LOCK_TIMEOUT_MS", "10000")),
    "statement_timeout": int(os.environ.get("DJANGO_PG_STATEMENT_TIMEOUT_MS", "30000")),
    "idle_in_transaction_session_timeout": int(
        os.environ.get("DJANGO_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000")
    ),
}

# A streaming read replica (scripts/replica): reports, statements, exports and lists may read
# it, never a read that must see the reader's own last write (ledger/routing.py, the rule).
# Its connection settings are the primary's but for the address; a replica that does not
# answer within connect_timeout (seconds) is left alone and the primary serves.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"] = {
        **DATABASES["default"],
        **_replica,
        "OPTIONS": {
            **DATABASES["default"].get("OPTIONS", {}),
            "connect_timeout": 2,
            **_replica.get("OPTIONS", {}),
        },
        # Tests run against the primary's test database (the replica replays it).
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["ledger.routing.ReplicaRouter"]
# Further behind than this (seconds), the replica is passed over and the primary serves.
LEDGER_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("LEDGER_REPLICA_MAX_LAG_SECONDS", "10"))

# --- Cache (shared by every process) --------------------------------------------------------
# One store for all gunicorn workers and servers, never a process's memory: the database by
# default (its table is made by `migrate`, accounts.0003), Redis when REDIS_URL is set (e.g.
# redis://127.0.0.1:6379/0), where the rate limits count too (ledger/ratelimit.py).
CACHE_TABLE = "ledger_cache"
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    )
    # Several deployments (or test runs) sharing one Redis keep apart by a prefix.
    | {"KEY_PREFIX": os.environ.get("LEDGER_CACHE_KEY_PREFIX", "")}
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEVELOPMENT
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# In development WhiteNoise serves the files where they are (no collectstatic), as they change.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT

# --- Content-Security-Policy (django-csp 4) ---------------------------------------------------
# Only this origin: no inline script, no inline style, no data: images (Pico's icons are
# re-pointed to files in static/icons/ by static/css/app.css).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Ledger ---------------------------------------------------------------------------------
# Anonymous readers of a public program's report see null figures below this many contributors.
LEDGER_REPORT_MIN_CONTRIBUTORS = int(os.environ.get("LEDGER_REPORT_MIN_CONTRIBUTORS", "5"))
# Dates before this (ISO 8601) are refused on input: work, payouts, rate cards, filters.
LEDGER_EARLIEST_DATE = dt.date.fromisoformat(
    os.environ.get("LEDGER_EARLIEST_DATE", "2000-01-01")
).isoformat()

# --- Mail -----------------------------------------------------------------------------------
# SMTP when EMAIL_HOST is set; otherwise every message is printed on the console (development).
# Mail is queued with the change that causes it and sent after commit by the background worker
# (below): a dead mail server never fails nor slows a request; the worker retries (ledger/mail.py).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL, not both.")
# A mail server that accepts the connection and then hangs holds the worker this long per step.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Artist ledger <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's own address, the base of every link sent by mail (invitations, password resets).
# A setting rather than the request's address: mail is sent after the request's work commits
# (and, later, by a background worker that has no request at all), and a link built from the
# request's Host header would be only as trustworthy as that header.
LEDGER_SITE_URL = os.environ.get("LEDGER_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# An invitation link works this many days after it is sent.
LEDGER_INVITATION_DAYS = int(os.environ.get("LEDGER_INVITATION_DAYS", "14"))
# "Forgot password" requests per client address per hour; beyond it, a 429 page. Each address
# is also mailed at most this many reset links an hour, whoever asks (silently: the page
# never says whether an address has an account).
LEDGER_PASSWORD_RESETS_PER_HOUR = int(os.environ.get("LEDGER_PASSWORD_RESETS_PER_HOUR", "5"))
# --- Background work (django-tasks, `django.tasks` from Django 6 on) ---------------------------
# Mail (and whatever else must not hold up a request) runs in a worker process. "database":
# tasks wait in a table of this database and `manage.py db_worker` runs them, with the schedule
# below; nothing else to run. "redis": tasks wait in Redis (RQ, on REDIS_URL), `manage.py
# rqworker --with-scheduler default` runs them and `manage.py run_schedule` keeps the schedule.
# Either way the outbox's rows, not the queue, make sure nothing is lost (ledger/background/).
LEDGER_TASK_BACKEND = os.environ.get("LEDGER_TASK_BACKEND", "database").strip().lower()
if LEDGER_TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif LEDGER_TASK_BACKEND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("LEDGER_TASK_BACKEND=redis needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    # The job class that runs django-tasks' tasks, for `rqworker` without `--job-class`.
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
else:
    raise ImproperlyConfigured("LEDGER_TASK_BACKEND must be database or redis.")

# Jobs the worker runs every `every` seconds, each slot once however many workers there are
# (ledger/background/schedule.py): the outbox sweep re-enqueues mail whose task was lost or
# whose worker died; `apply_deadlines` applies the programs' deadlines (idempotent).
LEDGER_SCHEDULE = {
    "mail-sweep": {"every": 60, "call": "ledger.background.outbox.sweep"},
    "ratelimit-sweep": {"every": 3600, "call": "ledger.ratelimit.sweep"},
    "write-position-sweep": {"every": 3600, "call": "ledger.positions.sweep"},
    "apply-deadlines": {"every": 3600, "command": "apply_deadlines"},
    "import-sweep": {"every": 60, "call": "ledger.services.imports.sweep"},
    "webhook-sweep": {"every": 60, "call": "ledger.webhooks.delivery.sweep"},
}
if LEDGER_TASK_BACKEND == "database":
    # Finished task rows are kept 14 days (django-tasks-db's own command).
    LEDGER_SCHEDULE["prune-task-results"] = {
        "every": 86400,
        "command": "prune_db_task_results",
        "args": ["--queue-name=*"],
    }
LEDGER_SCHEDULE_TICK_SECONDS = 10  # how often a worker looks whether a slot is due

# Mail delivery by the worker (ledger/background/outbox.py). A failed attempt is retried after
# 1 minute, then 2, 4, … at most 6 hours apart; after 13 attempts (about 26 hours) the message
# is given up (logged as an error, kept as `failed`). A worker holds a message it is sending for
# the lease; one that dies is replaced when the lease lapses (more than the SMTP steps may take).
LEDGER_MAIL_RETRY_SECONDS = 60
LEDGER_MAIL_RETRY_MAX_SECONDS = 6 * 3600
LEDGER_MAIL_ATTEMPTS = 13
LEDGER_MAIL_LEASE_SECONDS = 10 * EMAIL_TIMEOUT + 30
LEDGER_MAIL_SWEEP_GRACE_SECONDS = 60  # due this long with no task seen: the sweep enqueues it
LEDGER_MAIL_SWEEP_BATCH = 500
LEDGER_MAIL_KEEP_DAYS = 30  # sent and failed messages (their bodies erased) are kept this long

# Bulk imports (ledger/services/imports.py). A worker's claim of a job lasts the lease, renewed
# with each progress update (every 1,000 rows); a job whose worker died is claimed again by the
# sweep once it lapses, and fails after the last attempt. The write pass waits at most this
# long for another import of the same program. A successful dry run keeps its file this long,
# for importing it for real without uploading it again.
LEDGER_IMPORT_LEASE_SECONDS = 600
LEDGER_IMPORT_ATTEMPTS = 3
LEDGER_IMPORT_SWEEP_GRACE_SECONDS = 60
LEDGER_IMPORT_LOCK_WAIT_SECONDS = 300
LEDGER_IMPORT_KEEP_FILE_HOURS = 24

# Webhooks (ledger/webhooks/): sent by the worker, one subscription's deliveries in order. A
# failed attempt is retried after 5 s, 10 s, 30 s, 1 min, 2 min, 5 min, 10 min, 30 min, 1 h,
# 2 h, 4 h, 8 h and 10 h (fourteen attempts over about 25.8 hours), then the delivery is
# `failed` and the next one goes. Denser at first than Standard Webhooks' example schedule
# (5 s, 5 min, 30 min, …): a receiver down for a minute gets its events under a minute after
# it is back, not four, and the whole still spans more than a day. Each attempt may take 10 s
# in all; a worker holds a delivery for the lease (more than an attempt takes).
# ALLOW_INSECURE lets URLs use http:// and loopback or private addresses: for tests and local
# demos only.
LEDGER_WEBHOOKS_ALLOW_INSECURE = env_bool("LEDGER_WEBHOOKS_ALLOW_INSECURE", False)
LEDGER_WEBHOOKS_TIMEOUT_SECONDS = 10
LEDGER_WEBHOOKS_RETRY_SECONDS = [
    5, 10, 30, 60, 2 * 60, 5 * 60, 10 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 10 * 3600
]  # fmt: skip
LEDGER_WEBHOOKS_LEASE_SECONDS = 3 * LEDGER_WEBHOOKS_TIMEOUT_SECONDS + 30
LEDGER_WEBHOOKS_BATCH = 100  # deliveries one task sends before handing the line to another
LEDGER_WEBHOOKS_SWEEP_GRACE_SECONDS = 60
LEDGER_WEBHOOKS_SWEEP_BATCH = 500
LEDGER_WEBHOOKS_KEEP_DAYS = 30  # finished deliveries and their attempts are kept this long

# --- Second factor (django-otp: TOTP, with single-use recovery codes) -------------------------
# On: staff (an operator, or anyone holding a role in a program) must have a session verified
# with a code to use the pages, and a code to create an API token; without a device they are
# sent to enrol. Off by default in development so the demo logins work with a password alone.
# Whoever has enrolled is asked for a code at sign-in either way.
LEDGER_STAFF_REQUIRE_2FA = env_bool("LEDGER_STAFF_REQUIRE_2FA", not DEVELOPMENT)
OTP_TOTP_ISSUER = "Artist ledger"  # the account's label in the authenticator app

# --- REST API -------------------------------------------------------------------------------
# Request bodies up to 1 MiB are parsed; larger → 413 (checked on Content-Length and on read).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
LEDGER_API_TOKEN_TTL_DAYS = int(os.environ.get("LEDGER_API_TOKEN_TTL_DAYS", "90"))
# Idempotency keys are kept at least this long (the contract promises 24 hours).
LEDGER_IDEMPOTENCY_RETENTION_HOURS = max(
    24, int(os.environ.get("LEDGER_IDEMPOTENCY_RETENTION_HOURS", "48"))
)

# The client address (throttles, lockout): REMOTE_ADDR, unless DJANGO_NUM_PROXIES trusted
# proxies stand in front; then the address the outermost of them saw. Anything a client writes
# into X-Forwarded-For beyond that is ignored, so a spoofed header dodges nothing.
NUM_PROXIES = int(os.environ.get("DJANGO_NUM_PROXIES", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its WWW-Authenticate header makes a missing login a 401, not a 403.
        "ledger.api.auth.BearerTokenAuthentication",
        "ledger.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["ledger.api.parsers.LimitedJSONParser"],
    # The browsable API only while developing; production speaks JSON only.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEVELOPMENT else []),
    "DEFAULT_PAGINATION_CLASS": "ledger.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["ledger.api.throttling.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "write": os.environ.get("LEDGER_THROTTLE_WRITE", "600/min"),
        "token_create": os.environ.get("LEDGER_THROTTLE_TOKEN_CREATE", "30/min"),
    },
    # Trusted reverse proxies in front of the app: the client address is taken that many hops
    # from the right of X-Forwarded-For; 0 (the default) means REMOTE_ADDR, never the header.
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ledger.api.errors.exception_handler",
    # ?format= is ours (statements: csv; exports: hledger/beancount), not content negotiation.
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Artist Ledger API",
    "DESCRIPTION": (
        "REST API v1 of the artist feedback and compensation ledger. Money and hours are "
        "decimal strings; errors are application/problem+json (RFC 9457)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ContributionKindEnum": "ledger.models.ContributionKind",
        "ContributionStatusEnum": "ledger.models.ContributionStatus",
        "SeverityEnum": "ledger.models.Severity",
        "PayoutKindEnum": "ledger.models.PayoutKind",
        "PayoutStatusEnum": "ledger.models.PayoutStatus",
        "EntryKindEnum": "ledger.models.EntryKind",
        "ProgramStatusEnum": "ledger.models.programs.ProgramStatus",
        "RoleEnum": ["artist", "admin"],
        "StaffRoleEnum": ["manager", "reviewer", "treasurer", "auditor"],
        "InvitationStatusEnum": "ledger.models.invitations.SHOWN_STATUSES",
        "CurrencyEnum": "ledger.money.CURRENCY_CHOICES",
        "NotificationKindEnum": "ledger.models.NotificationKind",
        "ImportStatusEnum": "ledger.models.ImportStatus",
        "ImportColumnEnum": "ledger.models.imports.IMPORT_COLUMNS",
        "NotificationSubjectTypeEnum": "ledger.notifications.SUBJECT_TYPES",
        "DisputeSubjectEnum": "ledger.models.DisputeSubject",
        "DisputeClaimEnum": "ledger.models.DisputeClaim",
        "DisputeStatusEnum": "ledger.models.DisputeStatus",
        "WebhookDeliveryStatusEnum": "ledger.webhooks.models.SHOWN_DELIVERY_STATUSES",
        "WebhookEventEnum": "ledger.webhooks.models.EVENT_TYPES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ledger.api.schema.add_problem_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# --- Production hardening -------------------------------------------------------------------
# With DJANGO_DEBUG off, `manage.py check --deploy --fail-level WARNING` passes given a long
# random DJANGO_SECRET_KEY. Each switch below can be turned off for a reason (a proxy that
# already redirects to HTTPS, a domain that may not be preloaded); turning one off explicitly
# also silences its deploy warning, so the check stays a gate for everything else.
PRODUCTION = not DEVELOPMENT
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The report's covering indexes (INCLUDE columns) are a PostgreSQL speed-up; SQLite builds
    # them on their key columns alone, which serves its small installs: a known, accepted
    # difference, not a warning to print at every migrate (models.W040).
    SILENCED_SYSTEM_CHECKS.append("models.W040")

# Behind a TLS-terminating proxy: name the header it sets to "https" (e.g. X-Forwarded-Proto),
# and make sure the proxy overwrites that header from clients. Unset: no header is trusted.
_proxy_ssl_header = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
if PRODUCTION and not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")  # the proxy in front redirects instead
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP

SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
if PRODUCTION and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

SESSION_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = PRODUCTION
# Pages read the CSRF token from the DOM ({% csrf_token %} / a meta tag), never the cookie.
CSRF_COOKIE_HTTPONLY = env_bool("DJANGO_CSRF_COOKIE_HTTPONLY", True)
CSRF_COOKIE_SAMESITE = "Lax"

# --- Brute force: django-axes ---------------------------------------------------------------
# Failed logins are counted per username + client IP; at the limit that pair is refused (even
# with the right password) until the cool-off ends. Every login path must pass `request` to
# `authenticate()` to be counted (Django's LoginView and the admin do; so must the API's token
# endpoint); calls without one are trusted in-process code (accounts/lockout.py).
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, after every other middleware
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures and lockouts are rows in the database, so every worker and server sees one count.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A wrong second-factor code is a failed login too (accounts/second_factor.py); what was typed
# is not kept in the attempt's record.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "disable-code", "otp"]
# The client address: see NUM_PROXIES above.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"  # 429 + Retry-After

# --- Encryption at rest (ledger/crypto.py) ------------------------------------------------------
# Banking details and webhook signing secrets are stored encrypted (Fernet). The first key of
# LEDGER_ENCRYPTION_KEYS encrypts; every key listed decrypts, so a new key is put first, the old
# ones kept after it until `manage.py rotate_encryption_keys` has re-encrypted every row, then
# dropped. Without it, a key derived from DJANGO_SECRET_KEY is used (in development, where that
# key changes with every process, from a fixed development-only string); that derived key always
# decrypts too, so data written before keys were set stays readable until rotated.
LEDGER_ENCRYPTION_KEYS = env_list("LEDGER_ENCRYPTION_KEYS", "")
LEDGER_ENCRYPTION_FALLBACK = os.environ.get("DJANGO_SECRET_KEY", "") or "development-only"
