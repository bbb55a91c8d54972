"""Settings of the local cloud: its own Django project, database, URLconf and port.

Run it with ``python -m imsportal.localcloud <command>`` (a manage.py bound to these
settings): ``serve``, ``seed``, ``migrate``, ``localcloud_user``.
"""

from pathlib import Path

from imsportal.env import envfloat, envint, envstr, persistent_secret

# The same default as the portal's LOCALCLOUD_DATA_DIR: inside the portal's data directory.
_PORTAL_DATA_DIR = Path(
    envstr("IMSPORTAL_DATA_DIR") or Path(__file__).resolve().parent.parent.parent / "var"
)
DATA_DIR = Path(envstr("LOCALCLOUD_DATA_DIR") or _PORTAL_DATA_DIR / "localcloud").resolve()
IMAGES_DIR = DATA_DIR / "images"
OBJECTS_DIR = DATA_DIR / "objects"

HOST = envstr("LOCALCLOUD_HOST", "127.0.0.1")
PORT = envint("LOCALCLOUD_PORT", 8775, minimum=1)
# The address written into the catalog; set it when clients reach the cloud through a proxy.
PUBLIC_URL = envstr("LOCALCLOUD_PUBLIC_URL", f"http://{HOST}:{PORT}").rstrip("/")
REGION = envstr("LOCALCLOUD_REGION", "RegionOne")
TOKEN_TTL = envint("LOCALCLOUD_TOKEN_TTL", 3600, minimum=1)
MAX_IMAGE_SIZE = envint("LOCALCLOUD_MAX_IMAGE_SIZE", 8 * 1024**3, minimum=1)
# Wall time of an IMS create job from submission to SUCCESS/FAIL; the first third is INIT.
IMS_JOB_SECONDS = envfloat("LOCALCLOUD_IMS_JOB_SECONDS", 3.0)
# Guards the /_admin/ endpoints (fault injection for tests); empty disables them.
ADMIN_TOKEN = envstr("LOCALCLOUD_ADMIN_TOKEN")

DEBUG = False
SECRET_KEY = persistent_secret(DATA_DIR / "secret_key")
ALLOWED_HOSTS = ["*"]  # a loopback test backend; the catalog URL is what clients use
INSTALLED_APPS = ["imsportal.localcloud"]
MIDDLEWARE = ["imsportal.localcloud.middleware.RequestIdMiddleware"]
ROOT_URLCONF = "imsportal.localcloud.urls"
WSGI_APPLICATION = "imsportal.localcloud.wsgi.application"
APPEND_SLASH = False
USE_TZ = True
TIME_ZONE = "UTC"
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "localcloud.sqlite3",
        "OPTIONS": {
            # Writers queue on BEGIN IMMEDIATE instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOCALCLOUD_LOG_LEVEL", "WARNING")},
}
