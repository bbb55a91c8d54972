"""Owner names: the user's portal projects by configured id or by the id their token names."""

from __future__ import annotations

import pytest

from images import owners
from tests.localcloud_server import free_port

pytestmark = pytest.mark.django_db


def test_a_configured_id_names_the_project_without_a_call(make_user, owner_project):
    owner_project.project_id = "abc123"
    owner_project.save()
    user = make_user("u1", "viewer")
    assert owners.known_owners(user, resolve=False) == {"abc123": owner_project}


def test_an_id_from_the_token_names_the_project(make_user, owner_project, cloud_conn):
    user = make_user("u2", "viewer")
    assert owners.known_owners(user) == {cloud_conn.auth.project_id: owner_project}


def test_projects_the_user_has_no_role_in_stay_unnamed(make_user, owner_project, partner_project):
    user = make_user("u3", "viewer")
    assert partner_project not in owners.known_owners(user).values()


def test_an_unreachable_project_is_not_asked_again_at_once(make_user, owner_project, monkeypatch):
    owner_project.auth_url = f"http://127.0.0.1:{free_port()}/identity/v3"
    owner_project.save()
    user = make_user("u4", "viewer")
    assert owners.known_owners(user) == {}
    calls = []
    monkeypatch.setattr(owners, "connection_for", lambda p: calls.append(p))
    assert owners.known_owners(user) == {}
    assert calls == []
