"""The local cloud's Keystone v3 subset over real HTTP (reference glance-keystone.md §5.2, §7)."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from tests.localcloud_server import LocalCloud, start_localcloud

GENERIC = "The request you have made requires authentication."


def password_body(
    user: dict | None = None, password: str = "owner-demo-password", scope: object = "default"
) -> dict:
    user = user or {"name": "owner", "domain": {"name": "Default"}}
    body: dict = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {**user, "password": password}},
            }
        }
    }
    if scope == "default":
        scope = {"project": {"name": "owner-project", "domain": {"id": "default"}}}
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def post_token(cloud: LocalCloud, body: object, **kwargs) -> requests.Response:
    return requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30, **kwargs)


def token_for(cloud: LocalCloud, **kwargs) -> tuple[str, dict]:
    resp = post_token(cloud, password_body(**kwargs))
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"], resp.json()["token"]


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def assert_401(resp: requests.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.json() == {"error": {"code": 401, "title": "Unauthorized", "message": GENERIC}}
    assert resp.headers["WWW-Authenticate"].startswith('Keystone uri="http://127.0.0.1:')


@pytest.fixture(scope="module")
def users(localcloud: LocalCloud) -> LocalCloud:
    """Extra identities: a user in another domain, a disabled user, a user without roles."""
    m = localcloud.manage
    m(
        "localcloud_user",
        "carol",
        "--domain",
        "Acme",
        "--project",
        "acme-project",
        "--role",
        "member",
        "--password",
        "carol-pw",
    )
    m(
        "localcloud_user",
        "carol",
        "--domain",
        "Acme",
        "--project",
        "owner-project",
        "--project-domain",
        "Default",
        "--role",
        "reader",
    )
    m(
        "localcloud_user",
        "dave",
        "--project",
        "owner-project",
        "--role",
        "member",
        "--password",
        "dave-pw",
    )
    m("localcloud_user", "dave", "--disable")
    m("localcloud_user", "erin", "--password", "erin-pw")  # no role anywhere
    return localcloud


def test_version_documents(localcloud):
    resp = requests.get(localcloud.auth_url, timeout=30)
    assert resp.status_code == 200
    version = resp.json()["version"]
    assert version["id"].startswith("v3.")
    assert version["status"] == "stable"
    assert version["links"][0]["href"] == f"{localcloud.auth_url}/"
    root = requests.get(f"{localcloud.url}/identity", timeout=30)
    assert root.status_code == 300
    assert root.json()["versions"]["values"][0]["id"] == version["id"]


def test_password_token_by_names_has_the_keystone_shape(localcloud):
    resp = post_token(localcloud, password_body())
    assert resp.status_code == 201
    assert resp.headers["X-Subject-Token"]
    assert resp.headers["Vary"] == "X-Auth-Token"
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    assert "X-Subject-Token" not in resp.text
    token = resp.json()["token"]
    assert token["methods"] == ["password"]
    assert len(token["audit_ids"]) == 1
    assert token["user"]["name"] == "owner"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert "password_expires_at" in token["user"]
    assert token["project"]["name"] == "owner-project"
    assert token["project"]["domain"] == {"id": "default", "name": "Default"}
    assert token["is_domain"] is False
    assert sorted(r["name"] for r in token["roles"]) == ["member", "reader"]
    assert all(len(r["id"]) == 32 for r in token["roles"])
    issued, expires = parse(token["issued_at"]), parse(token["expires_at"])
    assert token["expires_at"].endswith("Z")
    assert "." in token["expires_at"]
    assert (expires - issued).total_seconds() == 3600  # LOCALCLOUD_TOKEN_TTL default

    by_type = {s["type"]: s for s in token["catalog"]}
    assert set(by_type) == {"identity", "image", "ims", "compute"}
    assert by_type["image"]["name"] == "glance"
    for service, path in [("identity", "/identity"), ("image", "/image"), ("ims", "/image")]:
        endpoints = by_type[service]["endpoints"]
        assert sorted(e["interface"] for e in endpoints) == ["admin", "internal", "public"]
        for e in endpoints:
            assert e["url"] == f"{localcloud.url}{path}"
            assert e["region_id"] == e["region"] == "RegionOne"
            assert e["id"]


def test_user_and_project_by_id_and_domain_by_name(localcloud):
    _, first = token_for(localcloud)
    by_ids = post_token(
        localcloud,
        password_body(
            user={"id": first["user"]["id"]},
            scope={"project": {"id": first["project"]["id"]}},
        ),
    )
    assert by_ids.status_code == 201, by_ids.text
    assert by_ids.json()["token"]["project"]["id"] == first["project"]["id"]
    by_domain_name = post_token(
        localcloud,
        password_body(
            user={"name": "owner", "domain": {"id": "default"}},
            scope={"project": {"name": "owner-project", "domain": {"name": "Default"}}},
        ),
    )
    assert by_domain_name.status_code == 201
    assert by_domain_name.headers["X-Subject-Token"] != by_ids.headers["X-Subject-Token"]


def test_user_and_project_in_different_domains(users):
    resp = post_token(
        users,
        password_body(
            user={"name": "carol", "domain": {"name": "Acme"}},
            password="carol-pw",
            scope={"project": {"name": "owner-project", "domain": {"id": "default"}}},
        ),
    )
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    assert token["user"]["domain"]["name"] == "Acme"
    assert token["project"]["domain"]["id"] == "default"
    assert [r["name"] for r in token["roles"]] == ["reader"]


def test_nocatalog_leaves_the_catalog_out(localcloud):
    resp = requests.post(
        f"{localcloud.auth_url}/auth/tokens?nocatalog", json=password_body(), timeout=30
    )
    assert resp.status_code == 201
    assert "catalog" not in resp.json()["token"]
    assert resp.json()["token"]["roles"]


@pytest.mark.parametrize(
    ("user", "password", "scope"),
    [
        ({"name": "owner", "domain": {"name": "Default"}}, "wrong", "default"),
        ({"name": "nobody", "domain": {"name": "Default"}}, "x", "default"),
        ({"name": "owner", "domain": {"name": "Acme"}}, "owner-demo-password", "default"),
        ({"name": "owner", "domain": {"name": "NoSuchDomain"}}, "owner-demo-password", "default"),
        ({"id": "0" * 32}, "owner-demo-password", "default"),
        (None, "owner-demo-password", {"project": {"id": "0" * 32}}),
        (None, "owner-demo-password", {"project": {"name": "nope", "domain": {"id": "default"}}}),
        (
            None,
            "owner-demo-password",
            {"project": {"name": "owner-project", "domain": {"id": "x"}}},
        ),
        # A project where the user has no role (partner's), and non-project scopes.
        (
            None,
            "owner-demo-password",
            {"project": {"name": "partner-project", "domain": {"id": "default"}}},
        ),
        (None, "owner-demo-password", {"domain": {"id": "default"}}),
        (None, "owner-demo-password", {"system": {"all": True}}),
        # Disabled user; user without any role.
        ({"name": "dave", "domain": {"name": "Default"}}, "dave-pw", "default"),
        ({"name": "erin", "domain": {"name": "Default"}}, "erin-pw", "default"),
    ],
)
def test_every_credential_or_scope_failure_is_the_same_401(users, user, password, scope):
    assert_401(post_token(users, password_body(user=user, password=password, scope=scope)))


def test_unsupported_method_is_a_401(localcloud):
    body = password_body()
    body["auth"]["identity"]["methods"] = ["totp"]
    assert_401(post_token(localcloud, body))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("auth"),
        lambda b: b["auth"].pop("identity"),
        lambda b: b["auth"]["identity"].update(methods="password"),
        lambda b: b["auth"]["identity"].update(methods=[]),
        lambda b: b["auth"]["identity"].pop("password"),
        lambda b: b["auth"]["identity"]["password"]["user"].pop("domain"),
        lambda b: b["auth"]["identity"]["password"]["user"].pop("name"),
        lambda b: b["auth"]["identity"]["password"]["user"].update(password=123),
        lambda b: b["auth"]["scope"]["project"].pop("domain"),  # project name without domain
        lambda b: b["auth"]["scope"]["project"].update(domain={}),
        lambda b: b["auth"].update(scope={"project": "owner-project"}),
        lambda b: b["auth"].update(scope={"nothing": 1}),
    ],
)
def test_malformed_bodies_are_400(localcloud, mutate):
    body = password_body()
    mutate(body)
    resp = post_token(localcloud, body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400
    assert resp.json()["error"]["title"] == "Bad Request"


def test_a_body_that_is_not_json_is_400(localcloud):
    resp = requests.post(
        f"{localcloud.auth_url}/auth/tokens",
        data="{not json",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 400


def test_validate_head_and_revoke(localcloud):
    caller, _ = token_for(localcloud)
    subject, subject_body = token_for(localcloud)
    url = f"{localcloud.auth_url}/auth/tokens"
    both = {"X-Auth-Token": caller, "X-Subject-Token": subject}

    got = requests.get(url, headers=both, timeout=30)
    assert got.status_code == 200
    assert got.headers["X-Subject-Token"] == subject
    assert got.json()["token"] == subject_body
    no_catalog = requests.get(f"{url}?nocatalog", headers=both, timeout=30)
    assert "catalog" not in no_catalog.json()["token"]
    own = requests.get(
        url, headers={"X-Auth-Token": subject, "X-Subject-Token": subject}, timeout=30
    )
    assert own.status_code == 200
    head = requests.head(url, headers=both, timeout=30)
    assert head.status_code == 200
    assert head.content == b""

    assert_401(requests.get(url, headers={"X-Subject-Token": subject}, timeout=30))
    assert_401(requests.get(url, headers={**both, "X-Auth-Token": "bogus"}, timeout=30))
    missing = requests.get(url, headers={**both, "X-Subject-Token": "bogus"}, timeout=30)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404
    assert (
        requests.head(url, headers={**both, "X-Subject-Token": "bogus"}, timeout=30).status_code
        == 404
    )

    # The subject works on the image host until it is revoked.
    images = f"{localcloud.image_url}/v2/cloudimages"
    assert requests.get(images, headers={"X-Auth-Token": subject}, timeout=30).status_code == 200
    assert requests.delete(url, headers=both, timeout=30).status_code == 204
    assert requests.get(url, headers=both, timeout=30).status_code == 404
    assert requests.delete(url, headers=both, timeout=30).status_code == 404
    assert requests.get(images, headers={"X-Auth-Token": subject}, timeout=30).status_code == 401
    assert (
        requests.get(
            f"{localcloud.image_url}/v2/images", headers={"X-Auth-Token": subject}, timeout=30
        ).status_code
        == 401
    )
    # Revoking one token leaves the others alone.
    assert requests.get(images, headers={"X-Auth-Token": caller}, timeout=30).status_code == 200


def test_another_users_token_may_not_be_validated_or_revoked(localcloud):
    owner_token, _ = token_for(localcloud)
    partner_token, _ = token_for(
        localcloud,
        user={"name": "partner", "domain": {"name": "Default"}},
        password="partner-demo-password",
        scope={"project": {"name": "partner-project", "domain": {"id": "default"}}},
    )
    url = f"{localcloud.auth_url}/auth/tokens"
    headers = {"X-Auth-Token": partner_token, "X-Subject-Token": owner_token}
    assert requests.get(url, headers=headers, timeout=30).status_code == 403
    assert requests.delete(url, headers=headers, timeout=30).status_code == 403
    assert (
        requests.get(
            url, headers={"X-Auth-Token": owner_token, "X-Subject-Token": owner_token}, timeout=30
        ).status_code
        == 200
    )


def test_expired_tokens_need_allow_expired_within_48_hours(localcloud):
    caller, _ = token_for(localcloud)
    recent, _ = token_for(localcloud)
    old, _ = token_for(localcloud)
    localcloud.manage(
        "shell",
        "-c",
        "from datetime import timedelta; from django.utils import timezone;"
        "from imsportal.localcloud.models import Token;"
        f"Token.objects.filter(id='{recent}').update(expires_at=timezone.now()-timedelta(hours=1));"
        f"Token.objects.filter(id='{old}').update(expires_at=timezone.now()-timedelta(hours=49))",
    )
    url = f"{localcloud.auth_url}/auth/tokens"
    for subject, plain, allowed in [(recent, 404, 200), (old, 404, 404)]:
        headers = {"X-Auth-Token": caller, "X-Subject-Token": subject}
        assert requests.get(url, headers=headers, timeout=30).status_code == plain
        resp = requests.get(f"{url}?allow_expired=1", headers=headers, timeout=30)
        assert resp.status_code == allowed
    # An expired token is no credential, allow_expired or not.
    assert_401(
        requests.get(url, headers={"X-Auth-Token": recent, "X-Subject-Token": caller}, timeout=30)
    )
    images = f"{localcloud.image_url}/v2/cloudimages"
    assert requests.get(images, headers={"X-Auth-Token": recent}, timeout=30).status_code == 401


def test_unscoped_token_lists_projects_and_rescopes(users):
    resp = post_token(
        users,
        password_body(
            user={"name": "carol", "domain": {"name": "Acme"}}, password="carol-pw", scope=None
        ),
    )
    assert resp.status_code == 201, resp.text
    unscoped = resp.headers["X-Subject-Token"]
    body = resp.json()["token"]
    assert "project" not in body
    assert "catalog" not in body
    assert "roles" not in body

    projects = requests.get(
        f"{users.auth_url}/auth/projects", headers={"X-Auth-Token": unscoped}, timeout=30
    )
    assert projects.status_code == 200
    listed = {p["name"]: p for p in projects.json()["projects"]}
    assert set(listed) == {"acme-project", "owner-project"}
    assert listed["owner-project"]["domain_id"] == "default"
    assert projects.json()["links"]["self"].endswith("/v3/auth/projects")

    # Unscoped tokens reach neither the catalog nor the image host.
    catalog = requests.get(
        f"{users.auth_url}/auth/catalog", headers={"X-Auth-Token": unscoped}, timeout=30
    )
    assert catalog.status_code == 403
    assert (
        requests.get(
            f"{users.image_url}/v2/cloudimages", headers={"X-Auth-Token": unscoped}, timeout=30
        ).status_code
        == 401
    )

    rescoped = post_token(
        users,
        {
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": unscoped}},
                "scope": {"project": {"id": listed["acme-project"]["id"]}},
            }
        },
    )
    assert rescoped.status_code == 201, rescoped.text
    token = rescoped.json()["token"]
    assert token["methods"] == ["token", "password"]
    assert token["expires_at"] == body["expires_at"]  # a token never outlives its parent
    assert token["audit_ids"][1] == body["audit_ids"][0]
    assert [r["name"] for r in token["roles"]] == ["member"]
    scoped = rescoped.headers["X-Subject-Token"]
    catalog = requests.get(
        f"{users.auth_url}/auth/catalog", headers={"X-Auth-Token": scoped}, timeout=30
    )
    assert catalog.status_code == 200
    assert {s["type"] for s in catalog.json()["catalog"]} == {"identity", "image", "ims", "compute"}
    assert_401(
        requests.get(f"{users.auth_url}/auth/projects", headers={"X-Auth-Token": "x"}, timeout=30)
    )
    # Re-scoping from a bad token is a 401.
    assert_401(
        post_token(
            users,
            {"auth": {"identity": {"methods": ["token"], "token": {"id": "bogus"}}}},
        )
    )


def test_user_command_creates_updates_and_disables(localcloud):
    out = localcloud.manage(
        "localcloud_user",
        "frank",
        "--domain",
        "Frankland",
        "--project",
        "frank-project",
        "--role",
        "member",
        "--role",
        "reader",
        "--password",
        "frank-pw-1",
    )
    assert "project frank-project" in out
    assert "roles member,reader" in out
    scope = {"project": {"name": "frank-project", "domain": {"name": "Frankland"}}}
    user = {"name": "frank", "domain": {"name": "Frankland"}}
    assert (
        post_token(
            localcloud, password_body(user=user, password="frank-pw-1", scope=scope)
        ).status_code
        == 201
    )
    # Running again changes only what it names: a new password, the roles stay.
    localcloud.manage(
        "localcloud_user", "frank", "--domain", "Frankland", "--password", "frank-pw-2"
    )
    assert_401(post_token(localcloud, password_body(user=user, password="frank-pw-1", scope=scope)))
    resp = post_token(localcloud, password_body(user=user, password="frank-pw-2", scope=scope))
    assert sorted(r["name"] for r in resp.json()["token"]["roles"]) == ["member", "reader"]
    localcloud.manage("localcloud_user", "frank", "--domain", "Frankland", "--disable")
    assert_401(post_token(localcloud, password_body(user=user, password="frank-pw-2", scope=scope)))


def test_token_ttl_comes_from_the_environment(tmp_path):
    cloud = start_localcloud(tmp_path / "ttl", LOCALCLOUD_TOKEN_TTL="120")
    try:
        _, token = token_for(cloud)
        issued, expires = parse(token["issued_at"]), parse(token["expires_at"])
        assert (expires - issued).total_seconds() == 120
    finally:
        cloud.stop()
