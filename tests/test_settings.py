"""Settings come from the environment; bad values stop the start with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from imsportal import env

BASE_DIR = Path(__file__).resolve().parent.parent


def load_settings(tmp_path, **variables) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUD_", "DATABASE"))}
    environ.update(IMSPORTAL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="imsportal.settings")
    environ.update(variables)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
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
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL is not a database URL"),
        ({"SECRET_KEY_FILE": "/nonexistent/key"}, "SECRET_KEY_FILE: cannot read"),
        ({"CELERY_TASK_TIME_LIMIT": "10", "CELERY_TASK_SOFT_TIME_LIMIT": "20"}, "must be larger"),
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
