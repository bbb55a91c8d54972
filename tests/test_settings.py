"""Settings come from the environment; bad values stop the start with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from imsportal import env

BASE_DIR = Path(__file__).resolve().parent.parent


TEST_KEY = "V8AHt1_s0va2mIDv_RYYH9jf0N1rGOJsp8b3VAKX12c="


def load_settings(
    tmp_path, *, prepare: bool = True, show: str = "settings.DEBUG", **variables
) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter, after ``prepare()`` as the start commands
    do (unless ``prepare=False``), and print the expression ``show``."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "CLOUD_",
                "DATABASE",
                "SECRET_KEY",
                "ENCRYPTION_KEYS",
                "SECURE_",
                "LOG_LEVEL",
                "CACHE_",
            )
        )
    }
    environ.update(IMSPORTAL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="imsportal.settings")
    environ.update(variables)
    code = (
        "from imsportal.prepare import prepare; prepare(); " if prepare else ""
    ) + f"import django; django.setup(); from django.conf import settings; print({show})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=environ, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"CLOUD_RETRIES": "three"}, "CLOUD_RETRIES must be a whole number"),
        ({"CLOUD_RETRIES": "-1"}, "CLOUD_RETRIES must be at least 0"),
        ({"CLOUD_READ_TIMEOUT": "soon"}, "CLOUD_READ_TIMEOUT must be a number"),
        ({"CLOUD_AUTH_TYPE": "kerberos"}, "CLOUD_AUTH_TYPE must be one of password, token, aksk"),
        ({"CLOUD_AUTH_TYPE": "token"}, "needs CLOUD_TOKEN and CLOUD_IMAGE_ENDPOINT"),
        ({"CLOUD_AUTH_TYPE": "aksk", "CLOUD_AK": "x"}, "needs CLOUD_AK, CLOUD_SK"),
        (
            {"DATABASE_URL": "nonsense://", "SECRET_KEY": "k", "ENCRYPTION_KEYS": TEST_KEY},
            "DATABASE_URL is not a database URL",
        ),
        ({"SECRET_KEY_FILE": "/nonexistent/key"}, "SECRET_KEY_FILE: cannot read"),
        ({"CELERY_TASK_TIME_LIMIT": "10", "CELERY_TASK_SOFT_TIME_LIMIT": "20"}, "must be larger"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING"),
        ({"SECURE_PROXY_SSL_HEADER": "https"}, "SECURE_PROXY_SSL_HEADER must be one of"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS must be at least 0"),
        ({"CLOUD_REQUEST_BUDGET": "0"}, "CLOUD_REQUEST_BUDGET must be at least 0.1"),
        ({"HEALTH_TIMEOUT": "fast"}, "HEALTH_TIMEOUT must be a number"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT must be at least 1"),
        ({"LOGIN_LOCKOUT_MINUTES": "soon"}, "LOGIN_LOCKOUT_MINUTES must be a whole number"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT must be at least 0"),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:1/x"},
            "SECRET_KEY (or SECRET_KEY_FILE) is required with DATABASE_URL",
        ),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:1/x", "SECRET_KEY": "k" * 50},
            "ENCRYPTION_KEYS (or ENCRYPTION_KEYS_FILE) is required with DATABASE_URL",
        ),
        ({"ENCRYPTION_KEYS": "not-a-fernet-key"}, "ENCRYPTION_KEYS must be Fernet keys"),
        ({"CACHE_URL": "memcached://127.0.0.1"}, "CACHE_URL must be a redis://"),
    ],
)
def test_bad_values_fail_with_a_clear_message(tmp_path, variables, message):
    result = load_settings(tmp_path, **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_defaults_load(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # DEBUG is off unless asked for
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_web_processes_share_one_cache(tmp_path):
    """Files in the data folder by default (every web process of the host sees them);
    Redis with CACHE_URL."""
    show = "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION']"
    result = load_settings(tmp_path, show=show)
    assert result.returncode == 0, result.stderr
    assert "FileBasedCache" in result.stdout
    assert str(tmp_path / "cache") in result.stdout
    result = load_settings(tmp_path / "r", show=show, CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
    assert "RedisCache" in result.stdout
    assert "redis://127.0.0.1:6379/1" in result.stdout


def test_settings_create_no_folder_or_file(tmp_path):
    data = tmp_path / "data"
    result = load_settings(data, prepare=False, SECRET_KEY="k" * 50, ENCRYPTION_KEYS=TEST_KEY)
    assert result.returncode == 0, result.stderr
    assert not data.exists()


def test_without_prepare_the_missing_key_says_what_to_do(tmp_path):
    result = load_settings(tmp_path / "data", prepare=False)
    assert "ImproperlyConfigured" in result.stderr
    assert "run `make run` or any `manage.py` command" in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_shared_database_takes_the_key_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        show="settings.SECRET_KEY",
        DATABASE_URL=f"sqlite:///{tmp_path}/shared.sqlite3",
        SECRET_KEY="shared-key-" + "x" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "shared-key-" + "x" * 40
    assert not (tmp_path / "secret_key").exists()  # no generated key off the defaults
    assert not (tmp_path / "encryption_key").exists()


def test_prepare_makes_private_folders_and_files_and_is_idempotent(tmp_path, monkeypatch):
    from imsportal.prepare import prepare

    data = tmp_path / "data"
    for name in (
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "DATABASE_URL",
        "SECRET_KEY",
        "CACHE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMSPORTAL_DATA_DIR", str(data))
    prepare()
    key = (data / "secret_key").read_text()
    (data / "portal.sqlite3").chmod(0o644)  # as an older run left it
    data.chmod(0o755)
    prepare()
    assert (data / "secret_key").read_text() == key

    def mode(path):
        return path.stat().st_mode & 0o777

    assert mode(data) == 0o700
    for folder in ("broker", "broker/queue", "broker/processed", "broker/control"):
        assert mode(data / folder) == 0o700
    assert mode(data / "celery-results") == 0o700
    assert mode(data / "cache") == 0o700
    assert mode(data / "secret_key") == 0o600
    assert mode(data / "portal.sqlite3") == 0o600


def test_the_portal_database_stays_private_once_used(tmp_path):
    """SQLite gives its -wal and -shm files the database file's mode."""
    result = load_settings(
        tmp_path, show="__import__('django.db').db.connection.ensure_connection()"
    )
    assert result.returncode == 0, result.stderr
    for path in tmp_path.glob("portal.sqlite3*"):
        assert path.stat().st_mode & 0o777 == 0o600, path


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "None 0"),
        ({"SECURE_PROXY_SSL_HEADER": "true"}, "('HTTP_X_FORWARDED_PROTO', 'https') 0"),
        ({"SECURE_COOKIES": "true"}, "None 31536000"),
        ({"SECURE_COOKIES": "true", "SECURE_HSTS_SECONDS": "600"}, "None 600"),
    ],
)
def test_behind_a_proxy(tmp_path, variables, expected):
    show = "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), settings.SECURE_HSTS_SECONDS"
    result = load_settings(tmp_path, show=f"*({show})", **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_log_level_is_case_insensitive(tmp_path):
    result = load_settings(tmp_path, show="settings.LOGGING['root']['level']", LOG_LEVEL="debug")
    assert result.stdout.strip() == "DEBUG", result.stderr


def test_secret_from_file(tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("CLOUD_PASSWORD_FILE", str(secret))
    monkeypatch.delenv("CLOUD_PASSWORD", raising=False)
    assert env.envsecret("CLOUD_PASSWORD") == "s3cret"
    monkeypatch.setenv("CLOUD_PASSWORD", "other")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.envsecret("CLOUD_PASSWORD")


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("YES", True), ("off", False), ("", True)])
def test_envbool(monkeypatch, raw, value):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.envbool("X_FLAG", True) is value


def test_persistent_secret_is_stable(tmp_path):
    first = env.persistent_secret(tmp_path / "k")
    assert env.persistent_secret(tmp_path / "k") == first
    assert len(first) > 40
