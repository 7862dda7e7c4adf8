"""The one settings module: every value that differs between machines comes from
an environment variable (see README, "Configuration")."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_int, env_list, env_str
from config.logging import audit_handlers, console_formatter

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
# The embedded default is a development machine; production must set its own key.
SECRET_KEY = env_str("SECRET_KEY", "insecure-embedded-default-key-change-me-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "csp",
    "axes",
    "viewflow",
    "viewflow.workflow",
    "rebuttal",
    "reviewers",
    "reports",
    "workflow",
    "ops",
]

MIDDLEWARE = [
    # First: answers /healthz without sessions, authentication or the host check.
    "config.health.HealthCheck",
    # Next (a probe every few seconds is not worth a log line): the request id of every log line.
    "config.middleware.RequestId",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.NoStoreWhenSignedIn",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: locks out an account or address after repeated failed sign-ins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "workflow.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# PostgreSQL (psycopg 3) when DATABASE_URL is set; otherwise an embedded SQLite
# file. Connections are kept for CONN_MAX_AGE seconds and health-checked: a new
# connection per request made list pages about five times slower here.
SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3")))
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env_int("CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
else:
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers run beside the writer (twice as fast as the
                # default journal here); IMMEDIATE takes the write lock at BEGIN
                # so two writers queue instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files from the app folders directly; in production set
# STATIC_COLLECTED=1 and run ``collectstatic``: they are then served from STATIC_ROOT.
STATIC_COLLECTED = env_bool("STATIC_COLLECTED", default=False)
STATIC_ROOT = BASE_DIR / "staticfiles" if STATIC_COLLECTED else None
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Security headers and cookies -------------------------------------------
# Pages load scripts, styles, fonts and images from the service only; nothing may
# frame them. Downloads carry their own stricter policy (``rebuttal.downloads``).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Behind HTTPS (every real deployment): secure cookies, HSTS, redirect to HTTPS.
HTTPS = env_bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair waits AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# viewflow adds its Material site middlewares unless told not to; the service
# does not use viewflow's own pages (tasks are done through the case pages and API).
VIEWFLOW = {"AUTOREGISTER": False}

# --- Audit ----------------------------------------------------------------
# History is evidence: nobody may roll a case back through the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Database sessions whose key is checked first: a NUL in the cookie made
# PostgreSQL fail with a 500.
SESSION_ENGINE = "rebuttal.sessions"

# --- API ------------------------------------------------------------------
# How long a retried request with the same Idempotency-Key gets the first answer back.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
REST_FRAMEWORK = {
    # Token first, so an anonymous call gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, refusing a key PostgreSQL cannot hold (NUL) before the query.
        "rebuttal.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, answering 400 (not 500) to a document nested too deeply.
        "rebuttal.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        # DRF's, keeping each upload's name as sent (so that a path in it is refused, not stripped).
        "rebuttal.api_parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "rebuttal.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rebuttal.api_pagination.CasePagination",
    "PAGE_SIZE": 25,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Performance rebuttal service API",
    "DESCRIPTION": "Version 1 of the public HTTP API. See docs/api.md for the contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the project, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Statuses answered around the views (415, 414, 404 of paging and formats): rebuttal/api_schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rebuttal.api_schema.document_transport_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ContractTypeEnum": "rebuttal.models.ContractType",
        "LanguageEnum": "rebuttal.models.Language",
        "StatusEnum": "rebuttal.models.Status",
        "ContractStatusEnum": "reviewers.models.ContractStatus",
        "AssignmentStatusEnum": "reviewers.models.AssignmentStatus",
    },
}

# --- Cache ----------------------------------------------------------------
# Redis in production (shared by every process: the queue's state counts, the
# workers' heartbeat); memory of one process in the embedded default.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "rebuttal",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------
# Without a broker the embedded default runs tasks in-process, eagerly.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis gives a task taken by a worker that died back to the queue only after this many
# seconds, checked every interval x throttle seconds (kombu's defaults: 3600 s; 10 x 10 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    # A request that queues a task during a broker outage waits seconds, not minutes.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
# A worker keeps trying to reach the broker after losing it, at start-up too.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Celery beat (one process for the whole deployment) queues the periodic work.
SCHEDULER_INTERVAL_SECONDS = env_int("SCHEDULER_INTERVAL_SECONDS", 300)
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 20)
CELERY_BEAT_SCHEDULE = {
    "scheduler": {"task": "workflow.tasks.run_scheduler", "schedule": SCHEDULER_INTERVAL_SECONDS},
    "heartbeat": {
        "task": "workflow.tasks.heartbeat",
        "schedule": HEARTBEAT_SECONDS,
        # A heartbeat nobody took in time says nothing about now.
        "options": {"expires": HEARTBEAT_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule")
)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where the file-based backend writes messages (the local production profile has no mail server).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "rebuttals@example.org")
# A notification is sent while its row is locked: a hung mail server must not
# hold a database transaction open for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Links in e-mails point here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# The sender named on letterheads and in letter footers.
ORGANISATION_NAME = env_str("ORGANISATION_NAME", "Office of Human Resources")
# A letter task that runs longer than this is interrupted (soft limit) and retried later.
LETTER_TASK_SOFT_TIME_LIMIT = env_int("LETTER_TASK_SOFT_TIME_LIMIT", 60)
# Who receives breach escalations; empty: the members of the hr_admin group.
HR_LEAD_EMAILS = env_list("HR_LEAD_EMAILS", [])

# --- Logging --------------------------------------------------------------
# LOG_FORMAT ``text`` (readable, ``make run``) or ``json`` (production: one JSON object per
# line with the request id, user id and case reference, and allow-listed fields only: no
# names, e-mail addresses, statements, reasons, file names or IP addresses; config/logging.py).
LOG_FORMAT = console_formatter(env_str("LOG_FORMAT", "text"))
# Every committed case event is also appended here as one JSON line (ids, states and hashes;
# no free text). ``syslog:``, ``syslog:<socket>`` or ``syslog:<host>:<port>`` send the lines
# to syslog instead; empty: the database only. AUDIT_LOG_FSYNC: each line on disk at once.
AUDIT_LOG_FILE = env_str("AUDIT_LOG_FILE", str(BASE_DIR / "var" / "audit" / "audit.jsonl"))
AUDIT_LOG_FSYNC = env_bool("AUDIT_LOG_FSYNC", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logging.ContextFilter"}},
    "formatters": {
        "text": {"()": "config.logging.TextFormatter"},
        "json": {"()": "config.logging.JsonFormatter"},
        "audit": {"()": "config.logging.AuditFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
        **audit_handlers(AUDIT_LOG_FILE, fsync=AUDIT_LOG_FSYNC),
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # One line per finished task is noise; failures still log as errors.
    "loggers": {
        "celery.app.trace": {"level": "WARNING"},
        # WeasyPrint logs each rendering step at INFO; its warnings (a refused URL) still show.
        "weasyprint.progress": {"level": "WARNING"},
        # One line per sign-in is noise; lockouts are logged as warnings.
        "axes": {"level": "WARNING"},
        # Its DEBUG lines are SQL with parameters (statements, names, e-mail addresses): never logged.
        "django.db.backends": {"level": "INFO"},
        # Case events: to the audit sink whatever LOG_LEVEL says, and to the console too.
        "rebuttal.audit": {"handlers": ["audit"] if AUDIT_LOG_FILE.strip() else [], "level": "INFO"},
    },
}
