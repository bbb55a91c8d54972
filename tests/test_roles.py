"""Roles are groups with exactly their permissions; create_user makes users with a role."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from imsportal.accounts.roles import APPROVE, CHANGE, ROLES, VIEW, ensure_roles

pytestmark = pytest.mark.django_db


def test_role_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


@pytest.mark.parametrize(
    ("role", "view", "change", "approve"),
    [
        ("viewer", True, False, False),
        ("operator", True, True, False),
        ("approver", True, False, True),
    ],
)
def test_role_permissions(make_user, role, view, change, approve):
    user = make_user(role, role)
    assert user.has_perm(VIEW) is view
    assert user.has_perm(CHANGE) is change
    assert user.has_perm(APPROVE) is approve


def test_ensure_roles_is_idempotent_and_repairs():
    ensure_roles()
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.clear()
    ensure_roles()
    ensure_roles()
    assert Group.objects.filter(name="viewer").count() == 1
    assert list(viewer.permissions.values_list("codename", flat=True)) == ["view_images"]


def test_create_user_prints_a_generated_password_once(capsys):
    call_command("create_user", "carol", role="approver")
    out = capsys.readouterr().out
    password = out.split("password:")[1].split()[0]
    user = get_user_model().objects.get(username="carol")
    assert user.check_password(password)
    assert list(user.groups.values_list("name", flat=True)) == ["approver"]
    assert not user.is_staff

    call_command("create_user", "carol", role="approver", if_missing=True)
    again = capsys.readouterr().out
    assert "password" not in again
    assert get_user_model().objects.get(username="carol").check_password(password)


def test_create_user_refuses_a_duplicate():
    call_command("create_user", "dave", role="viewer", password="given-Pass-123")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_user", "dave", role="viewer")


def test_create_superuser_operator(capsys):
    call_command("create_user", "root", role="operator", superuser=True, password="x-Pass-1234")
    user = get_user_model().objects.get(username="root")
    assert user.is_superuser
    assert user.is_staff
    assert "x-Pass-1234" not in capsys.readouterr().out
