"""Settings for IMS Portal, read from environment variables (see README, "Configuration").

The defaults run everything on one machine with no servers to install: SQLite, Celery's
filesystem broker and the embedded local cloud. Production switches each part by variable.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from imsportal.env import (
    envbool,
    envchoice,
    envfloat,
    envint,
    envsecret,
    envstr,
    read_secret_file,
)
from imsportal.prepare import layout

BASE_DIR = Path(__file__).resolve().parent.parent
# Where each data file lives; the start commands create them (imsportal.prepare), this only reads.
PATHS = layout()
DATA_DIR = PATHS.data_dir

DEBUG = envbool("DEBUG", False)


def _key(name: str, generated: Path | None) -> str:
    """A key every host of one portal must share: from ``name`` (or ``name_FILE``); on the
    embedded defaults (one host) from the file ``imsportal.prepare`` generated instead."""
    value = envsecret(name)
    if value:
        return value
    if generated is None:
        # Several hosts (or processes on a shared database) must use one key.
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) is required with DATABASE_URL")
    value = read_secret_file(generated) or ""
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set and {generated} does not exist yet: set {name} (or "
            f"{name}_FILE), or run `make run` or any `manage.py` command, which generate it"
        )
    return value


SECRET_KEY = _key("SECRET_KEY", PATHS.secret_key_file)
# Fernet keys that encrypt the cloud projects' secrets, newest first (see projects/crypto.py).
ENCRYPTION_KEYS = [
    k.strip() for k in _key("ENCRYPTION_KEYS", PATHS.encryption_key_file).split(",") if k.strip()
]
try:
    [Fernet(key) for key in ENCRYPTION_KEYS]
except ValueError:
    raise ImproperlyConfigured(
        "ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes each), "
        "comma-separated"
    ) from None
ALLOWED_HOSTS = [h.strip() for h in envstr("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in envstr("CSRF_TRUSTED_ORIGINS").split(",") if o]
SECURE_COOKIES = envbool("SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto (only if it always sets it).
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS once the portal is served over HTTPS only (which SECURE_COOKIES says it is).
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if SECURE_COOKIES else 0, minimum=0)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): only this origin's files; no inline script or style,
# no eval (htmx is told so in base.html's htmx-config), no framing, forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    "template_partials",
    "imsportal.accounts",
    "imsportal.projects",
    "imsportal.audit",
    "imsportal.health",
    "images",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "imsportal.middleware.HtmxLoginRequiredMiddleware",  # Django's, plus HX-Redirect for htmx
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx, read by the login middleware too
    "imsportal.middleware.CloudBudgetMiddleware",
    "imsportal.middleware.PrivatePagesMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout into the lockout page
]

ROOT_URLCONF = "imsportal.urls"
WSGI_APPLICATION = "imsportal.wsgi.application"

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
                "imsportal.projects.context_processors.project",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
_SQLITE_OPTIONS = {
    # Writers queue on BEGIN IMMEDIATE instead of failing with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
_database_url = envstr("DATABASE_URL")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except ValueError as e:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {e}") from None
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"].update(OPTIONS=dict(_SQLITE_OPTIONS))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": PATHS.sqlite_file,
            # A file, not :memory:, so that a Celery worker process in the tests sees it too.
            "TEST": {"NAME": DATA_DIR / "test-portal.sqlite3"},
            "OPTIONS": dict(_SQLITE_OPTIONS),
            # Kept open per thread, as for PostgreSQL: opening one (and its PRAGMAs) cost
            # about 2 ms a request under gunicorn, 100 status polls a second 0.67 cores
            # instead of 0.48 (bench/load.py).
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ---------------------------------------------------------------------------------
# Shared by every web process (a per-process cache would show each process its own count of
# pending shares): files in the data folder on one host, Redis (CACHE_URL) across hosts.
_cache_url = envstr("CACHE_URL")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(PATHS.cache_dir),
        # Sessions live here too: room for every signed-in operator before culling starts
        # (a culled session is read again from the database, not lost).
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}
# Sessions are read from the cache, written to both: no database query per request to find
# who is signed in. Signing out deletes both copies.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ----------------------------------------------------------------------------------
LOGIN_URL = "login"
# Login throttling (django-axes, https://django-axes.readthedocs.io/): after
# LOGIN_FAILURE_LIMIT failures for one user name (existing or not) or from one client
# address, logins there are refused for LOGIN_LOCKOUT_MINUTES; /admin/login/ included.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "imsportal.accounts.lockout.client_ip"
# Reverse proxies in front of the portal that append to X-Forwarded-For (0: none).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0, minimum=0)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
# The portal speaks English only. Off, Django skips its translation machinery: every number,
# form field and date it renders asked for the active language through a lock shared by all of
# a process's threads (asgiref's Local), a queue under load.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = PATHS.static_root
WHITENOISE_USE_FINDERS = True  # serve straight from the apps and static/ without collectstatic

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND") or (
    "file://" + str(PATHS.results_dir)
    if PATHS.results_dir
    else CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith("redis")
    else "rpc://"
)
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 3300, minimum=1)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 3600, minimum=1)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be larger than CELERY_TASK_SOFT_TIME_LIMIT"
    )

# --- Cloud ---------------------------------------------------------------------------------
# The embedded local cloud listens here; by default the portal talks to it.
LOCALCLOUD_HOST = envstr("LOCALCLOUD_HOST", "127.0.0.1")
LOCALCLOUD_PORT = envint("LOCALCLOUD_PORT", 8775, minimum=1)
LOCALCLOUD_DATA_DIR = Path(envstr("LOCALCLOUD_DATA_DIR") or DATA_DIR / "localcloud").resolve()
_localcloud_url = f"http://{LOCALCLOUD_HOST}:{LOCALCLOUD_PORT}"

# The timeouts and retries of every cloud call, for every project.
CLOUD_HTTP = {
    "connect_timeout": envfloat("CLOUD_CONNECT_TIMEOUT", 5.0, minimum=0.1),
    "read_timeout": envfloat("CLOUD_READ_TIMEOUT", 60.0, minimum=0.1),
    "retries": envint("CLOUD_RETRIES", 3, minimum=0),
    "max_response_bytes": envint("CLOUD_MAX_RESPONSE_BYTES", 16 * 1024 * 1024, minimum=65536),
}
# Seconds all the cloud calls of one page may take in all, retries included
# (imsportal.middleware.CloudBudgetMiddleware). Tasks have no such bound.
CLOUD_REQUEST_BUDGET = envfloat("CLOUD_REQUEST_BUDGET", 10.0, minimum=0.1)

# The cloud project that `manage.py sync_cloud_project` creates or updates from CLOUD_*
# (idempotent; `make run` runs it). Without CLOUD_AUTH_URL, `make run` registers the local
# cloud's two demo projects instead. All other projects are managed on the Projects page.
CLOUD_PROJECT_FROM_ENV = bool(envstr("CLOUD_AUTH_URL") or envstr("CLOUD_IMAGE_ENDPOINT"))
CLOUD = {
    "slug": envstr("CLOUD_PROJECT_SLUG", "default"),
    "name": envstr("CLOUD_PROJECT_LABEL"),
    "auth_type": envchoice("CLOUD_AUTH_TYPE", "password", ("password", "token", "aksk")),
    "auth_url": envstr("CLOUD_AUTH_URL", f"{_localcloud_url}/identity/v3"),
    "username": envstr("CLOUD_USERNAME", "owner"),
    "password": envsecret("CLOUD_PASSWORD", "owner-demo-password"),
    "user_domain_name": envstr("CLOUD_USER_DOMAIN_NAME", "Default"),
    "project_id": envstr("CLOUD_PROJECT_ID"),
    "project_name": envstr("CLOUD_PROJECT_NAME", "owner-project"),
    "project_domain_name": envstr("CLOUD_PROJECT_DOMAIN_NAME", "Default"),
    "region": envstr("CLOUD_REGION"),
    "interface": envchoice("CLOUD_INTERFACE", "public", ("public", "internal", "admin")),
    "image_endpoint": envstr("CLOUD_IMAGE_ENDPOINT"),
    "ims_endpoint": envstr("CLOUD_IMS_ENDPOINT"),
    "token": envsecret("CLOUD_TOKEN"),
    "access_key": envsecret("CLOUD_AK"),
    "secret_key": envsecret("CLOUD_SK"),
}
if CLOUD["auth_type"] == "token" and not (CLOUD["token"] and CLOUD["image_endpoint"]):
    raise ImproperlyConfigured("CLOUD_AUTH_TYPE=token needs CLOUD_TOKEN and CLOUD_IMAGE_ENDPOINT")
if CLOUD["auth_type"] == "aksk" and not (
    CLOUD["access_key"] and CLOUD["secret_key"] and CLOUD["project_id"] and CLOUD["image_endpoint"]
):
    raise ImproperlyConfigured(
        "CLOUD_AUTH_TYPE=aksk needs CLOUD_AK, CLOUD_SK, CLOUD_PROJECT_ID and CLOUD_IMAGE_ENDPOINT"
    )
# The local cloud's demo projects, registered by `make run` on the embedded defaults.
LOCALCLOUD_DEMO_PROJECTS = [
    {
        "slug": slug,
        "name": f"{slug}-project",
        "auth_url": f"{_localcloud_url}/identity/v3",
        "username": slug,
        "password": f"{slug}-demo-password",
        "project_name": f"{slug}-project",
    }
    for slug in ("owner", "partner")
]

# --- Uploads and jobs (issue 11) --------------------------------------------------------------
# Where tus uploads are staged before a worker streams them to the cloud. With several web and
# worker hosts, a volume every one of them mounts.
UPLOAD_STAGING_DIR = Path(envstr("UPLOAD_STAGING_DIR") or DATA_DIR / "uploads").resolve()
UPLOAD_MAX_SIZE = envint("UPLOAD_MAX_SIZE", 50 * 1024**3, minimum=1)
# Bytes that must stay free on the staging volume after an upload's full length is reserved.
UPLOAD_MIN_FREE_SPACE = envint("UPLOAD_MIN_FREE_SPACE", 256 * 1024**2, minimum=0)
# Unfinished uploads older than this are removed by `manage.py cleanup_uploads`.
UPLOAD_EXPIRY_SECONDS = envint("UPLOAD_EXPIRY_SECONDS", 24 * 3600, minimum=60)
# The size of the PATCH requests the upload page sends (tus chunk size). Each PATCH ends
# with an fsync and a round trip; within one the server makes its bytes durable every
# 64 MiB or second anyway, so a dropped PATCH loses at most that much. 64 MiB stays under
# the 100 MB request caps some proxies and CDNs keep.
UPLOAD_CHUNK_SIZE = envint("UPLOAD_CHUNK_SIZE", 64 * 1024**2, minimum=64 * 1024)
# Read timeout of the cloud upload call: a body that takes minutes, not a page's 60 s.
UPLOAD_CLOUD_READ_TIMEOUT = envfloat("UPLOAD_CLOUD_READ_TIMEOUT", 3600.0, minimum=1.0)
# A running job whose worker has not reported for this long is taken over by another worker.
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 60, minimum=2)
UPLOAD_TASK_MAX_RETRIES = envint("UPLOAD_TASK_MAX_RETRIES", 5, minimum=0)
# Seconds before the first retry of a transient cloud error; doubled each time, with jitter.
UPLOAD_RETRY_BACKOFF = envfloat("UPLOAD_RETRY_BACKOFF", 10.0, minimum=0.1)
# Bytes per second a worker sends to the cloud (0: no cap), to leave room on a shared uplink.
UPLOAD_CLOUD_MAX_RATE = envint("UPLOAD_CLOUD_MAX_RATE", 0, minimum=0)
# The portal's public base URL (as browsers reach it, through the reverse proxy): /healthz
# then checks that uploads stream through unbuffered. Empty: no such check.
UPLOAD_PROBE_URL = envstr("UPLOAD_PROBE_URL")
# Keep it below HEALTH_TIMEOUT: the probe waits this long for the portal to see its first bytes.
UPLOAD_PROBE_WAIT = envfloat("UPLOAD_PROBE_WAIT", 0.4, minimum=0.05)
# Each worker removes expired uploads and re-sends abandoned jobs this often (0: never; then
# run `manage.py cleanup_uploads` from cron).
JOBS_SWEEP_SECONDS = envint("JOBS_SWEEP_SECONDS", 300, minimum=0)
IMS_JOB_POLL_SECONDS = envfloat("IMS_JOB_POLL_SECONDS", 5.0, minimum=0.1)
IMS_JOB_DEADLINE_SECONDS = envint("IMS_JOB_DEADLINE_SECONDS", 2 * 3600, minimum=1)

# --- Audit trail ---------------------------------------------------------------------------
AUDIT_RETENTION_DAYS = envint("AUDIT_RETENTION_DAYS", 365, minimum=1)

# --- Logging -------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors": {"()": "imsportal.logfilters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors"],
        }
    },
    "root": {
        "handlers": ["console"],
        "level": envchoice(
            "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), upper=True
        ),
    },
    # urllib3: a line per retry is the client's job; axes.apps: its banner at every start.
    "loggers": {"urllib3": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}},
}

# --- Health --------------------------------------------------------------------------------
# /healthz answers within this many seconds, whatever the parts do.
HEALTH_TIMEOUT = envfloat("HEALTH_TIMEOUT", 0.8, minimum=0.1)
# Workers record a heartbeat this often; /healthz calls a worker dead after three missed.
WORKER_HEARTBEAT_SECONDS = envfloat("WORKER_HEARTBEAT_SECONDS", 5.0, minimum=0.5)
