"""Smoke test of the real-Glance harness (tests/realglance.py) with plain requests.

Checks that the loopback Glance behaves like a Keystone-backed one for several projects: upload
and checksums, project isolation, sharing through members, 401 without a token, error bodies.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
import requests

# Projects of their own, so that other suites sharing the session's Glance never see these images.
PROJ_A, PROJ_B, PROJ_C = "smoke-projA", "smoke-projB", "smoke-projC"
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def glance(realglance):
    client = Glance(realglance)
    yield client
    client.cleanup()


class Glance:
    """Tiny helper: requests against /v2 as a given project, deleting what it created."""

    def __init__(self, harness):
        self.harness = harness
        self.created: list[tuple[str, str]] = []

    def call(self, method, path, project, *, user=None, roles=("member", "reader"), **kw):
        headers = {"X-Auth-Token": self.harness.token(user or f"{project}-user", project, roles)}
        headers.update(kw.pop("headers", {}))
        url = f"{self.harness.endpoint}/v2{path}"
        return requests.request(method, url, headers=headers, timeout=60, **kw)

    def create(self, project, **body):
        body = {"name": f"smoke-{uuid.uuid4().hex[:8]}", "disk_format": "raw"} | body
        body.setdefault("container_format", "bare")
        r = self.call("POST", "/images", project, json=body)
        assert r.status_code == 201, r.text
        self.created.append((r.json()["id"], project))
        return r.json()

    def cleanup(self):
        for image_id, project in self.created:
            self.call("DELETE", f"/images/{image_id}", project)


def test_upload_checksums_isolation_and_sharing(glance):
    data = os.urandom(1024 * 1024)
    image = glance.create(PROJ_A, visibility="private")
    assert image["status"] == "queued"
    assert image["owner"] == PROJ_A
    image_id = image["id"]

    r = glance.call(
        "PUT",
        f"/images/{image_id}/file",
        PROJ_A,
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 204, r.text

    shown = glance.call("GET", f"/images/{image_id}", PROJ_A).json()
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()

    # Another project cannot see a private image at all: 404, not 403.
    assert glance.call("GET", f"/images/{image_id}", PROJ_B).status_code == 404
    assert glance.call("GET", f"/images/{image_id}/file", PROJ_B).status_code == 404
    listed = glance.call("GET", "/images", PROJ_B).json()["images"]
    assert image_id not in {i["id"] for i in listed}

    # Members only on a shared image.
    r = glance.call("POST", f"/images/{image_id}/members", PROJ_A, json={"member": PROJ_B})
    assert r.status_code == 403
    r = glance.call(
        "PATCH",
        f"/images/{image_id}",
        PROJ_A,
        json=[{"op": "replace", "path": "/visibility", "value": "shared"}],
        headers={"Content-Type": PATCH_TYPE},
    )
    assert r.status_code == 200, r.text
    assert r.json()["visibility"] == "shared"
    r = glance.call("POST", f"/images/{image_id}/members", PROJ_A, json={"member": PROJ_B})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"

    # Only the member itself accepts; then it can download, but not change the image.
    member_path = f"/images/{image_id}/members/{PROJ_B}"
    assert glance.call("PUT", member_path, PROJ_A, json={"status": "accepted"}).status_code == 403
    assert glance.call("PUT", member_path, PROJ_C, json={"status": "accepted"}).status_code == 404
    r = glance.call("PUT", member_path, PROJ_B, json={"status": "accepted"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    listed = glance.call("GET", "/images", PROJ_B).json()["images"]
    assert image_id in {i["id"] for i in listed}
    r = glance.call("GET", f"/images/{image_id}/file", PROJ_B)
    assert r.status_code == 200
    assert r.content == data
    assert glance.call("DELETE", f"/images/{image_id}", PROJ_B).status_code == 403
    assert glance.call("GET", f"/images/{image_id}", PROJ_C).status_code == 404


def test_missing_or_garbled_token_is_401(realglance):
    url = f"{realglance.endpoint}/v2/images"
    assert requests.get(url, timeout=10).status_code == 401
    for token in ("", "nonsense", "alice:projA", "alice::member", "a:b:c:d", "alice:projA:"):
        assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).status_code == 401
    # Identity headers sent by the client are dropped, not trusted.
    spoofed = {"X-Identity-Status": "Confirmed", "X-Project-Id": PROJ_A, "X-Roles": "admin"}
    assert requests.get(url, headers=spoofed, timeout=10).status_code == 401


def test_client_identity_headers_cannot_override_the_token(glance):
    image = glance.create(PROJ_A, visibility="private")
    spoofed = {"X-Project-Id": PROJ_A, "X-Tenant-Id": PROJ_A, "X-Roles": "admin,member,reader"}
    r = glance.call("GET", f"/images/{image['id']}", PROJ_B, headers=spoofed)
    assert r.status_code == 404
    # A real admin token does see it (admin sees every project's images).
    r = glance.call("GET", f"/images/{image['id']}", "admin-project", roles=("admin",))
    assert r.status_code == 200
    assert r.json()["owner"] == PROJ_A


def test_secure_rbac_defaults_are_on(glance):
    # Without Keystone's implied roles, "reader" alone cannot create and "member" alone cannot list.
    r = glance.call("POST", "/images", PROJ_A, roles=("reader",), json={"name": "x"})
    assert r.status_code == 403
    assert glance.call("GET", "/images", PROJ_A, roles=("member",)).status_code == 403


def test_error_body_is_json_when_asked_and_html_otherwise(glance):
    path = f"/images/{MISSING_ID}"
    r = glance.call("GET", path, PROJ_A, headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "404 Not Found"
    assert body["title"] == "Not Found"
    assert f"No image found with ID {MISSING_ID}" in body["message"]

    r = glance.call("GET", path, PROJ_A)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<title>404 Not Found</title>" in r.text
    with pytest.raises(requests.JSONDecodeError):
        r.json()
