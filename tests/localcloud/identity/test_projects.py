"""Keystone's project reads as the openstack CLI uses them, with Keystone's default policy:
admins list and look up projects; anyone else reads only the project of their token and
their own user's projects, and gets the 403 that makes the CLI fall back to raw ids."""

from __future__ import annotations

import requests

from tests.localcloud.conftest import Api


def get(api: Api, path: str, **kwargs) -> requests.Response:
    return requests.get(
        f"{api.cloud.auth_url}{path}",
        headers={"X-Auth-Token": api.token, **kwargs.pop("headers", {})},
        timeout=30,
        **kwargs,
    )


def user_id(api: Api) -> str:
    resp = requests.get(
        f"{api.cloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": api.token, "X-Subject-Token": api.token},
        timeout=30,
    )
    return resp.json()["token"]["user"]["id"]


def test_an_admin_lists_projects_and_finds_one_by_name(admin, partner):
    resp = get(admin, "/projects")
    assert resp.status_code == 200
    names = {p["name"] for p in resp.json()["projects"]}
    assert {"owner-project", "partner-project"} <= names
    assert resp.json()["links"]["next"] is None

    by_name = get(admin, "/projects", params={"name": "partner-project"})
    assert by_name.status_code == 200
    [project] = by_name.json()["projects"]
    assert project["id"] == partner.project_id
    assert project["domain_id"] == "default"
    assert project["is_domain"] is False
    assert project["links"]["self"].endswith(f"/identity/v3/projects/{partner.project_id}")

    assert get(admin, "/projects", params={"name": "no-such"}).json()["projects"] == []
    shown = get(admin, f"/projects/{partner.project_id}")
    assert shown.status_code == 200
    assert shown.json()["project"]["name"] == "partner-project"


def test_a_member_cannot_list_projects_and_gets_keystones_403(owner):
    for params in ({}, {"name": "partner-project"}):
        resp = get(owner, "/projects", params=params)
        assert resp.status_code == 403
        assert resp.json() == {
            "error": {
                "code": 403,
                "title": "Forbidden",
                "message": "You are not authorized to perform the requested action: "
                "identity:list_projects.",
            }
        }


def test_a_member_reads_its_own_project_only(owner, partner):
    own = get(owner, f"/projects/{owner.project_id}")
    assert own.status_code == 200
    assert own.json()["project"]["name"] == "owner-project"
    other = get(owner, f"/projects/{partner.project_id}")
    assert other.status_code == 403
    assert other.json()["error"]["message"].endswith("identity:get_project.")
    # Policy first: a missing project looks the same as someone else's.
    assert get(owner, "/projects/0123456789abcdef").status_code == 403


def test_an_admin_gets_keystones_404_for_a_missing_project(admin):
    resp = get(admin, "/projects/0123456789abcdef")
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Could not find project: 0123456789abcdef."


def test_users_list_their_own_projects_not_others(owner, partner):
    mine = get(owner, f"/users/{user_id(owner)}/projects")
    assert mine.status_code == 200
    assert [p["name"] for p in mine.json()["projects"]] == ["owner-project"]
    theirs = get(owner, f"/users/{user_id(partner)}/projects")
    assert theirs.status_code == 403
    assert theirs.json()["error"]["message"].endswith("identity:list_user_projects.")


def test_project_reads_need_a_valid_token(owner):
    resp = requests.get(
        f"{owner.cloud.auth_url}/projects", headers={"X-Auth-Token": "nope"}, timeout=30
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401


def test_unserved_keystone_paths_answer_keystones_json_404(owner):
    for path in ("/users", "/domains", "/roles/abc", "/OS-FEDERATION/identity_providers"):
        resp = get(owner, path)
        assert resp.status_code == 404, path
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.json() == {
            "error": {
                "code": 404,
                "title": "Not Found",
                "message": "The resource could not be found.",
            }
        }
    outside = requests.get(f"{owner.cloud.url}/identity/v2.0/tenants", timeout=30)
    assert outside.status_code == 404
    assert outside.json()["error"]["code"] == 404
