"""create_user checks a given password with Django's validators, and can read it from a file
so that it stays out of the shell history and the process list (issue 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("a", "too short"),
        ("password123", "too common"),
        ("12345678901234", "entirely numeric"),
        ("erin-the-user", "too similar to the username"),
    ],
)
def test_a_weak_password_is_refused(password, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_user", "erin-the-user", password=password)
    assert not get_user_model().objects.filter(username="erin-the-user").exists()


def test_the_password_may_come_from_a_file(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("Correct-Horse-Battery-9\n")
    call_command("create_user", "frank", password_file=secret)
    assert get_user_model().objects.get(username="frank").check_password("Correct-Horse-Battery-9")


def test_a_weak_password_from_a_file_is_refused(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("abc\n")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "gina", password_file=secret)


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_file_is_a_clear_error(tmp_path, content):
    secret = tmp_path / "pw"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(CommandError, match="--password-file"):
        call_command("create_user", "hank", password_file=secret)


def test_password_and_password_file_exclude_each_other(tmp_path):
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("create_user", "ivy", "--password=x", f"--password-file={tmp_path}")
