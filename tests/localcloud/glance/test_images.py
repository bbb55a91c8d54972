"""Create, PATCH, delete, deactivate/reactivate, tags and the generic v2 behaviour."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.localcloud.conftest import Api

pytestmark = pytest.mark.usefixtures("cleanup")


def message(resp: requests.Response) -> str:
    return resp.json()["message"]


# ---------------------------------------------------------------------------------------
# Create


def test_create_defaults_and_custom_properties(owner: Api):
    img = owner.create(name="defaults", os_distro="cirros", tags=["a", "b", "a"])
    assert img["visibility"] == "shared"
    assert img["protected"] is False
    assert img["os_hidden"] is False
    assert (img["min_disk"], img["min_ram"]) == (0, 0)
    assert img["owner"] == owner.project_id
    assert img["os_distro"] == "cirros"
    assert sorted(img["tags"]) == ["a", "b"]  # a set: duplicates collapse
    assert img["disk_format"] is None
    assert img["container_format"] is None
    assert img["created_at"].endswith("Z")
    assert len(img["created_at"]) == 20


@pytest.mark.parametrize(
    "key",
    [
        "status",
        "checksum",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "self",
        "file",
        "schema",
        "direct_url",
        "stores",
        "os_hash_algo",
        "os_hash_value",
    ],
)
def test_create_refuses_read_only_attributes(owner: Api, key):
    resp = owner.post("/v2/images", json={"name": "ro", key: "x"})
    assert resp.status_code == 403
    assert f"Attribute '{key}' is read-only." in message(resp)


@pytest.mark.parametrize("key", ["location", "locations", "deleted", "deleted_at", "os_glance_x"])
def test_create_refuses_reserved_attributes(owner: Api, key):
    resp = owner.post("/v2/images", json={"name": "rsv", key: "x"})
    assert resp.status_code == 403
    assert f"Attribute '{key}' is reserved." in message(resp)


@pytest.mark.parametrize(
    "body",
    [
        {"disk_format": "floppy"},
        {"container_format": "zip"},
        {"id": "not-a-uuid"},
        {"name": "n" * 256},
        {"tags": ["t" * 256]},
        {"tags": "a,b"},
        {"k" * 256: "v"},
        {"hw_int": 1},
        {"hw_bool": True},
        {"hw_null": None},
        {"min_ram": -1},
        {"min_disk": "1"},
        {"protected": "yes"},
        {"visibility": "everyone"},
    ],
)
def test_create_schema_violations_are_400(owner: Api, body):
    resp = owner.post("/v2/images", json=body)
    assert resp.status_code == 400, resp.text
    assert "Provided object does not match schema 'image'" in message(resp)


def test_create_bodies_that_are_not_objects_are_400(owner: Api):
    assert owner.post("/v2/images", json=["a"]).status_code == 400
    bad = owner.post("/v2/images", data=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400


def test_owner_rules_on_create(owner: Api, partner: Api, admin: Api):
    other = owner.post("/v2/images", json={"owner": partner.project_id})
    assert other.status_code == 403
    assert f"You are not permitted to create images owned by '{partner.project_id}'." in message(
        other
    )
    own = owner.create(owner=owner.project_id)
    assert own["owner"] == owner.project_id
    given = admin.create(owner=partner.project_id, visibility="private")
    assert given["owner"] == partner.project_id
    assert partner.image(given["id"])["owner"] == partner.project_id
    for img in (own, given):
        admin.delete(f"/v2/images/{img['id']}")


def test_public_is_for_admins_and_community_for_members(owner: Api, admin: Api, partner: Api):
    assert owner.post("/v2/images", json={"visibility": "public"}).status_code == 403
    public = admin.create(visibility="public")
    community = owner.create(visibility="community")
    assert public["id"] in partner.ids()  # public images are in everyone's default list
    assert partner.image(community["id"])["visibility"] == "community"
    admin.delete(f"/v2/images/{public['id']}")
    owner.delete(f"/v2/images/{community['id']}")


def test_a_supplied_id_is_used_and_a_duplicate_is_409(owner: Api):
    wanted = str(uuid.uuid4())
    assert owner.create(id=wanted)["id"] == wanted
    again = owner.post("/v2/images", json={"id": wanted})
    assert again.status_code == 409
    assert owner.delete(f"/v2/images/{wanted}").status_code == 204
    # Glance soft-deletes: the id stays taken.
    assert owner.post("/v2/images", json={"id": wanted}).status_code == 409


def test_tag_and_property_quotas_are_413(owner: Api):
    assert owner.post("/v2/images", json={"tags": [f"t{i}" for i in range(129)]}).status_code == 413
    props = {f"p{i}": "v" for i in range(129)}
    assert owner.post("/v2/images", json=props).status_code == 413


# ---------------------------------------------------------------------------------------
# PATCH


def test_patch_needs_the_json_patch_media_type(owner: Api, image):
    resp = owner.request(
        "PATCH", f"/v2/images/{image['id']}", json=[], headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 415
    assert "application/openstack-images-v2.1-json-patch" in resp.headers["Accept-Patch"]
    assert "application/openstack-images-v2.0-json-patch" in resp.headers["Accept-Patch"]


def test_patch_operations_in_both_media_types(owner: Api, image):
    path = f"/v2/images/{image['id']}"
    resp = owner.patch(
        path,
        [
            {"op": "replace", "path": "/name", "value": "Fedora 17"},
            {"op": "replace", "path": "/tags", "value": ["a", "b", "a"]},
            {"op": "add", "path": "/os_distro", "value": "fedora"},
            {"op": "add", "path": "/min_ram", "value": 512},
            {"op": "add", "path": "/with~1slash", "value": "s"},
        ],
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["name"] == "Fedora 17"
    assert sorted(body["tags"]) == ["a", "b"]
    assert body["os_distro"] == "fedora"
    assert body["min_ram"] == 512
    assert body["with/slash"] == "s"
    # v2.1: add on an existing property replaces; v2.0: 409.
    assert (
        owner.patch(path, [{"op": "add", "path": "/os_distro", "value": "x"}]).json()["os_distro"]
        == "x"
    )
    old = owner.patch(path, [{"op": "add", "path": "/os_distro", "value": "y"}], media="v2.0")
    assert old.status_code == 409
    removed = owner.patch(path, [{"op": "remove", "path": "/os_distro"}], media="v2.0")
    assert removed.status_code == 200
    assert "os_distro" not in removed.json()


@pytest.mark.parametrize(
    ("ops", "status", "text"),
    [
        ([{"op": "replace", "path": "/nope", "value": "x"}], 409, "Property nope does not exist."),
        ([{"op": "remove", "path": "/nope"}], 409, "Property nope does not exist."),
        ([{"op": "remove", "path": "/name"}], 403, "Property name may not be removed."),
        ([{"op": "replace", "path": "/status", "value": "active"}], 403, "is read-only"),
        ([{"op": "replace", "path": "/id", "value": "x"}], 403, "Attribute 'id' is read-only."),
        ([{"op": "replace", "path": "/checksum", "value": "x"}], 403, "is read-only"),
        ([{"op": "add", "path": "/deleted", "value": "x"}], 403, "is reserved"),
        ([{"op": "add", "path": "/os_glance_x", "value": "x"}], 403, "is reserved"),
        ([{"op": "add", "path": "/tags/-", "value": "x"}], 400, "Invalid JSON pointer"),
        ([{"op": "add", "path": "/a/b", "value": "x"}], 400, "Invalid JSON pointer"),
        ([{"op": "test", "path": "/name", "value": "x"}], 400, ""),
        ([{"op": "replace", "path": "/name"}], 400, "value"),
        ([{"op": "replace", "path": "/min_ram", "value": "512"}], 400, "integer"),
        ([{"op": "add", "path": "/hw_x", "value": 5}], 400, "string"),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403, "publicize_image"),
        ([{"op": "replace", "path": "/owner", "value": "someone"}], 403, "owner"),
        ([{"op": "add", "path": "/locations/-", "value": {}}], 403, "locations"),
        ({"op": "replace"}, 400, "JSON array"),
        (["replace"], 400, ""),
    ],
)
def test_patch_rules(owner: Api, image, ops, status, text):
    resp = owner.patch(f"/v2/images/{image['id']}", ops)
    assert resp.status_code == status, resp.text
    assert text in message(resp)


def test_a_failing_op_saves_nothing(owner: Api, image):
    resp = owner.patch(
        f"/v2/images/{image['id']}",
        [
            {"op": "replace", "path": "/name", "value": "changed"},
            {"op": "remove", "path": "/missing"},
        ],
    )
    assert resp.status_code == 409
    assert owner.image(image["id"])["name"] == image["name"]


def test_formats_change_only_while_queued(owner: Api, image):
    path = f"/v2/images/{image['id']}"
    ok = owner.patch(path, [{"op": "replace", "path": "/disk_format", "value": "qcow2"}])
    assert ok.status_code == 200
    owner.patch(path, [{"op": "replace", "path": "/disk_format", "value": "raw"}])
    assert owner.upload(image["id"], b"data").status_code == 204
    late = owner.patch(path, [{"op": "replace", "path": "/container_format", "value": "ova"}])
    assert late.status_code == 403
    assert "can be only replaced for a queued image" in message(late)


def test_admin_may_give_an_image_away(admin: Api, owner: Api, partner: Api):
    img = owner.create(visibility="private")
    moved = admin.patch(
        f"/v2/images/{img['id']}",
        [{"op": "replace", "path": "/owner", "value": partner.project_id}],
    )
    assert moved.status_code == 200
    assert owner.get(f"/v2/images/{img['id']}").status_code == 404
    assert partner.delete(f"/v2/images/{img['id']}").status_code == 204


# ---------------------------------------------------------------------------------------
# Delete, deactivate, reactivate


def test_delete_rules(owner: Api, partner: Api, image):
    assert partner.delete(f"/v2/images/{image['id']}").status_code == 404  # not a member yet
    owner.post(f"/v2/images/{image['id']}/members", json={"member": partner.project_id})
    assert partner.delete(f"/v2/images/{image['id']}").status_code == 403  # visible, not its own
    private = owner.create(visibility="private")
    assert partner.delete(f"/v2/images/{private['id']}").status_code == 404
    assert owner.delete(f"/v2/images/{private['id']}").status_code == 204
    resp = owner.delete(f"/v2/images/{image['id']}")
    assert resp.status_code == 204
    assert resp.content == b""


def test_deactivate_and_reactivate(owner: Api, admin: Api, image):
    path = f"/v2/images/{image['id']}"
    queued = owner.post(f"{path}/actions/deactivate")
    assert queued.status_code == 403
    assert "Not allowed to deactivate image in status 'queued'" in message(queued)
    assert owner.upload(image["id"], b"bytes").status_code == 204
    assert owner.post(f"{path}/actions/deactivate").status_code == 204
    assert owner.image(image["id"])["status"] == "deactivated"
    assert owner.post(f"{path}/actions/deactivate").status_code == 204  # a no-op
    assert owner.get(f"{path}/file").status_code == 403
    assert admin.get(f"{path}/file").content == b"bytes"
    assert owner.post(f"{path}/actions/reactivate", data=b"{}").status_code == 400
    assert owner.post(f"{path}/actions/reactivate").status_code == 204
    assert owner.image(image["id"])["status"] == "active"
    assert owner.post(f"{path}/actions/reactivate").status_code == 204  # a no-op
    assert owner.get(f"{path}/file").content == b"bytes"


# ---------------------------------------------------------------------------------------
# Tags


def test_tags_put_is_idempotent_and_delete_needs_the_tag(owner: Api, partner: Api, third: Api):
    img = owner.create(visibility="private")
    path = f"/v2/images/{img['id']}/tags"
    assert owner.put(f"{path}/x y").status_code == 204
    assert owner.put(f"{path}/x y").status_code == 204
    assert owner.image(img["id"])["tags"] == ["x y"]
    assert owner.put(f"{path}/{'t' * 256}").status_code == 400
    assert owner.put(f"{path}/z", data=b"body").status_code == 400
    assert third.put(f"{path}/z").status_code == 404
    assert owner.delete(f"{path}/x y").status_code == 204
    missing = owner.delete(f"{path}/x y")
    assert missing.status_code == 404
    assert owner.image(img["id"])["tags"] == []
    owner.delete(f"/v2/images/{img['id']}")


# ---------------------------------------------------------------------------------------
# Generic behaviour: versions, schemas, 405, bodies on GET, ids, errors, request ids


def test_version_documents(cloud):
    for path in ("", "/", "/images", "/v1/images", "/v3"):
        resp = requests.get(f"{cloud.image_url}{path}", timeout=10)
        assert resp.status_code == 300, path
        versions = resp.json()["versions"]
        assert versions[0]["status"] == "CURRENT"
        assert versions[0]["links"][0]["href"] == f"{cloud.image_url}/v2/"
    assert requests.get(f"{cloud.image_url}/versions", timeout=10).status_code == 200


def test_schemas_and_stores(owner: Api):
    for name in ("image", "images", "member", "members"):
        resp = owner.get(f"/v2/schemas/{name}")
        assert resp.status_code == 200
        assert resp.json()["name"] == name
    image_schema = owner.get("/v2/schemas/image").json()
    assert "qcow2" in image_schema["properties"]["disk_format"]["enum"]
    assert image_schema["additionalProperties"] == {"type": "string"}
    assert owner.get("/v2/info/stores").json() == {"stores": [{"id": "fs", "default": "true"}]}
    assert owner.get("/v2/schemas/nope").status_code == 404


def test_wrong_methods_are_405_with_allow(owner: Api, image):
    resp = owner.post(f"/v2/images/{image['id']}", json={})
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "DELETE, GET, PATCH"
    assert owner.delete("/v2/images").status_code == 405
    assert owner.request("PATCH", f"/v2/images/{image['id']}/file").status_code == 405


def test_a_body_on_a_get_or_delete_is_400(owner: Api, image):
    for method in ("GET", "DELETE"):
        resp = owner.request(method, f"/v2/images/{image['id']}", data=b"{}")
        assert resp.status_code == 400
        assert "A body is not expected with this request." in message(resp)
    assert owner.get("/v2/images", data=b"x").status_code == 400


def test_ids_that_cannot_exist_are_404(owner: Api):
    assert owner.get("/v2/images/not-a-uuid").status_code == 404
    assert owner.get(f"/v2/images/{uuid.uuid4()}x").status_code == 404
    assert owner.get("/v2/nothing-here").status_code == 404


def test_error_format_follows_accept(owner: Api):
    missing = f"/v2/images/{uuid.uuid4()}"
    plain = owner.get(missing, headers={"Accept": "text/plain"})
    assert plain.headers["Content-Type"].startswith("text/plain")
    assert plain.text.startswith("404 Not Found\n\n")
    html = owner.get(missing, headers={"Accept": ""})
    assert html.headers["Content-Type"] == "text/html; charset=UTF-8"
    weighted = owner.get(missing, headers={"Accept": "text/html;q=0.1, application/json"})
    assert weighted.json()["code"] == "404 Not Found"


def test_missing_or_bad_tokens_are_401(cloud):
    for headers in ({}, {"X-Auth-Token": "nonsense"}):
        resp = requests.get(
            f"{cloud.image_url}/v2/images",
            headers={**headers, "Accept": "application/json"},
            timeout=10,
        )
        assert resp.status_code == 401
        assert resp.json()["code"] == "401 Unauthorized"
        assert resp.headers["WWW-Authenticate"] == f'Keystone uri="{cloud.url}/identity"'
    # 401 comes before 405 and 404, as Glance's auth runs before its router.
    assert requests.delete(f"{cloud.image_url}/v2/images", timeout=10).status_code == 401


def test_request_ids_are_reused_or_made(owner: Api):
    mine = owner.get("/v2/images?limit=1", headers={"X-Openstack-Request-Id": "abc"})
    assert mine.headers["x-openstack-request-id"] == "req-abc"
    made = owner.get("/v2/images/nope")
    assert made.headers["x-openstack-request-id"].startswith("req-")


def test_responses_carry_x_request_id_as_well(owner: Api, cloud):
    # Huawei's SDK reads only X-Request-Id; real IMS sends it beside Glance's header.
    for resp in (
        owner.get("/v2/images?limit=1"),
        owner.get("/v2/images/nope"),
        requests.get(f"{cloud.url}/v2/cloudimages", timeout=10),
        requests.get(f"{cloud.auth_url}/projects", timeout=10),
    ):
        assert resp.headers["X-Request-Id"] == resp.headers["x-openstack-request-id"]
        assert resp.headers["X-Request-Id"].startswith("req-")
