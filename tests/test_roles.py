"""Roles are granted per cloud project; create_user makes users with roles in projects."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from imsportal.projects.access import roles_in

pytestmark = pytest.mark.django_db


def test_roles_are_per_project(make_user, owner_project, partner_project):
    user = make_user("mixed", "operator")
    user.project_roles.create(project=partner_project, role="approver")
    assert roles_in(user, owner_project) == {"operator"}
    assert roles_in(user, partner_project) == {"approver"}


def test_create_user_prints_a_generated_password_once(capsys, owner_project, partner_project):
    call_command("create_user", "carol", project=["owner", "partner"], role=["approver"])
    out = capsys.readouterr().out
    password = out.split("password:")[1].split()[0]
    user = get_user_model().objects.get(username="carol")
    assert user.check_password(password)
    assert roles_in(user, owner_project) == roles_in(user, partner_project) == {"approver"}
    assert not user.is_staff

    # --if-missing on an existing user adds roles and keeps the password.
    call_command("create_user", "carol", project=["owner"], role=["operator"], if_missing=True)
    again = capsys.readouterr().out
    assert "password:" not in again
    assert get_user_model().objects.get(username="carol").check_password(password)
    assert roles_in(user, owner_project) == {"approver", "operator"}


def test_create_user_without_roles_has_no_project(owner_project):
    call_command("create_user", "norole", password="given-Pass-123")
    assert not get_user_model().objects.get(username="norole").project_roles.exists()


def test_create_user_refuses_a_duplicate(owner_project):
    call_command("create_user", "dave", project=["owner"], role=["viewer"], password="x-Pass-123")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_user", "dave", project=["owner"], role=["viewer"])


def test_create_user_refuses_an_unknown_project_or_a_role_without_project(owner_project):
    with pytest.raises(CommandError, match="No cloud project 'nope'"):
        call_command("create_user", "erin", project=["nope"], role=["viewer"])
    with pytest.raises(CommandError, match="go together"):
        call_command("create_user", "erin", role=["viewer"])
    assert not get_user_model().objects.filter(username="erin").exists()


def test_create_superuser(capsys, owner_project):
    call_command("create_user", "root", superuser=True, password="x-Pass-1234")
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser
    assert user.is_staff
    assert "x-Pass-1234" not in capsys.readouterr().out
