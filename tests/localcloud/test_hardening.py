"""Bad input and abuse the local cloud must survive (issue 9, local cloud): deeply nested
JSON, absurd Range headers, null owners, ids with a trailing newline, Glance's property
limits on every path that sets properties, unsigned X-Project-Id, and token revocation
along the chain."""

from __future__ import annotations

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud.test_aksk import OWNER_AK, OWNER_SK, assert_apigw_401, sign

NESTED = b"[" * 100_000

pytestmark = pytest.mark.usefixtures("cleanup")


def test_deeply_nested_json_is_a_400_everywhere(cloud, owner: Api, image):
    token = requests.post(
        f"{cloud.auth_url}/auth/tokens",
        data=NESTED,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert token.status_code == 400
    assert token.json()["error"]["code"] == 400
    json_headers = {"Content-Type": "application/json"}
    for method, path, headers in [
        ("POST", "/v2/images", json_headers),
        (
            "PATCH",
            f"/v2/images/{image['id']}",
            {"Content-Type": "application/openstack-images-v2.1-json-patch"},
        ),
        ("POST", f"/v2/images/{image['id']}/members", json_headers),
        ("PATCH", f"/v2/cloudimages/{image['id']}", json_headers),
        ("POST", "/v2/cloudimages/action", json_headers),
    ]:
        resp = owner.request(method, path, data=NESTED, headers=headers)
        assert resp.status_code == 400, (method, path, resp.status_code, resp.text[:200])


def test_a_range_with_thousands_of_digits_is_416(owner: Api, image):
    assert owner.upload(image["id"], b"0123456789").status_code == 204
    for value in (f"bytes={'9' * 5000}-", f"bytes=0-{'9' * 5000}", f"bytes=-{'9' * 5000}"):
        resp = owner.get(f"/v2/images/{image['id']}/file", headers={"Range": value})
        assert resp.status_code in (206, 416), resp.text
        assert resp.status_code != 500
    start_too_far = owner.get(
        f"/v2/images/{image['id']}/file", headers={"Range": f"bytes={'9' * 5000}-"}
    )
    assert start_too_far.status_code == 416
    assert start_too_far.headers["Content-Range"] == "bytes */10"
    whole = owner.get(f"/v2/images/{image['id']}/file", headers={"Range": f"bytes=0-{'9' * 5000}"})
    assert whole.status_code == 206
    assert whole.content == b"0123456789"


def test_an_image_created_with_a_null_owner_belongs_to_the_caller(owner: Api):
    image = owner.create(disk_format="raw", container_format="bare", owner=None)
    assert image["owner"] == owner.project_id
    assert owner.delete(f"/v2/images/{image['id']}").status_code == 204


def test_an_id_with_a_trailing_newline_is_refused(owner: Api):
    resp = owner.post(
        "/v2/images",
        json={"id": "11111111-2222-3333-4444-555555555555\n", "name": "newline"},
    )
    assert resp.status_code == 400, resp.text
    assert "11111111-2222-3333-4444-555555555555\\n" not in owner.ids("?name=newline")


def test_glance_refuses_property_values_over_255_characters(owner: Api, image):
    created = owner.post(
        "/v2/images", json={"name": "long", "disk_format": "raw", "description": "x" * 256}
    )
    assert created.status_code == 400, created.text
    patched = owner.patch(
        f"/v2/images/{image['id']}", [{"op": "add", "path": "/big", "value": "x" * 256}]
    )
    assert patched.status_code == 400, patched.text
    fine = owner.patch(
        f"/v2/images/{image['id']}", [{"op": "add", "path": "/big", "value": "x" * 255}]
    )
    assert fine.status_code == 200


def test_ims_patch_keeps_glances_property_limits(owner: Api):
    image = owner.create(disk_format="raw", container_format="bare")
    assert owner.upload(image["id"], b"x" * 1024).status_code == 204
    url = f"/v2/cloudimages/{image['id']}"
    big = owner.request("PATCH", url, json=[{"op": "add", "path": "/big", "value": "x" * 5000}])
    assert big.status_code == 400, big.text
    assert big.json()["error"]["code"] == "IMG.0001"
    many = [{"op": "add", "path": f"/p{n}", "value": "v"} for n in range(129)]
    resp = owner.request("PATCH", url, json=many)
    assert resp.status_code == 400, resp.text
    assert "128" in resp.json()["error"]["message"]
    props = owner.image(image["id"])
    assert "p0" not in props
    assert "big" not in props


def test_an_unsigned_x_project_id_is_refused(cloud, owner: Api, partner: Api):
    url = f"{cloud.url}/v2/cloudimages"
    headers = sign("GET", url, OWNER_AK, OWNER_SK, None)
    # Sent but not covered by the signature: it could be swapped for any project.
    headers["X-Project-Id"] = owner.project_id
    resp = requests.get(url, headers=headers, timeout=30)
    assert_apigw_401(resp)
    assert "X-Project-Id must be signed" in resp.json()["error_msg"]


def test_revoking_a_token_revokes_the_tokens_issued_from_it(cloud, owner: Api):
    def from_token(token: str) -> str:
        resp = requests.post(
            f"{cloud.auth_url}/auth/tokens",
            json={
                "auth": {
                    "identity": {"methods": ["token"], "token": {"id": token}},
                    "scope": {"project": {"id": owner.project_id}},
                }
            },
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Subject-Token"]

    root = Api(cloud, "owner", "owner-project").token
    child = from_token(root)
    grandchild = from_token(child)
    unrelated = Api(cloud, "owner", "owner-project").token

    def valid(token: str) -> bool:
        resp = requests.head(
            f"{cloud.auth_url}/auth/tokens",
            headers={"X-Auth-Token": unrelated, "X-Subject-Token": token},
            timeout=30,
        )
        return resp.status_code == 200

    assert valid(root)
    assert valid(child)
    assert valid(grandchild)
    revoked = requests.delete(
        f"{cloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": unrelated, "X-Subject-Token": root},
        timeout=30,
    )
    assert revoked.status_code == 204
    assert not valid(root)
    assert not valid(child)
    assert not valid(grandchild)
    assert valid(unrelated)
    images = requests.get(
        f"{cloud.url}/v2/images", headers={"X-Auth-Token": grandchild}, timeout=30
    )
    assert images.status_code == 401


def test_ims_create_keeps_glances_value_limit(owner: Api):
    resp = owner.post(
        "/v2/cloudimages/action",
        json={
            "name": "too-long-ep",
            "image_url": "owner-images:cirros-mini.qcow2",
            "min_disk": 40,
            "enterprise_project_id": "x" * 5000,
        },
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == "IMG.0001"
