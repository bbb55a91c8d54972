"""The local cloud answers every call of real Glance's observed table (real-glance.md) with
the same status code and body shape, in the same order, over real HTTP."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from tests.localcloud.conftest import Api

pytestmark = pytest.mark.usefixtures("cleanup")

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def assert_webob_json(resp: requests.Response, status: int, text: str = "") -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == f"{status} {resp.reason}"
    assert body["title"] == resp.reason
    assert body["message"].endswith("<br /><br />\n\n\n")
    assert text in body["message"]


def test_the_observed_table_call_for_call(cloud, owner: Api, partner: Api, third: Api, admin: Api):
    a, b, c = owner, partner, third
    data = os.urandom(1024 * 1024 + 17)
    steps: list[tuple[str, int, int]] = []

    def step(name: str, resp: requests.Response, expected: int) -> requests.Response:
        steps.append((name, resp.status_code, expected))
        assert resp.status_code == expected, f"{name}: {resp.status_code} {resp.text[:300]}"
        assert resp.headers["x-openstack-request-id"].startswith("req-")
        return resp

    created = step(
        "create_A",
        a.post(
            "/v2/images",
            json={
                "name": "dash-test",
                "disk_format": "raw",
                "container_format": "bare",
                "visibility": "private",
                "tags": ["t0"],
                "hw_test": "x",
            },
        ),
        201,
    )
    img = created.json()
    iid = img["id"]
    assert img["status"] == "queued"
    assert img["hw_test"] == "x"
    assert img["owner"] == a.project_id
    assert created.headers["Location"].endswith(f"/v2/images/{iid}")
    assert created.headers["OpenStack-image-store-ids"] == "fs"
    assert img["size"] is None
    assert img["checksum"] is None
    assert img["os_hash_value"] is None
    assert img["file"] == f"/v2/images/{iid}/file"
    assert img["self"] == f"/v2/images/{iid}"

    up = step("upload_A", a.upload(iid, data), 204)
    assert up.content == b""
    shown = step("show_A", a.get(f"/v2/images/{iid}"), 200).json()
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["virtual_size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["stores"] == "fs"
    step("reupload_active_A", a.upload(iid, b"again"), 409)
    step(
        "upload_no_content_type",
        a.put(f"/v2/images/{iid}/file", data=b"x", headers={"Content-Type": ""}),
        415,
    )
    down = step("download_A", a.get(f"/v2/images/{iid}/file"), 200)
    assert down.content == data
    assert down.headers["Content-MD5"] == shown["checksum"]
    assert down.headers["Content-Length"] == str(len(data))

    listed = step("list_A_all", a.get("/v2/images"), 200).json()
    assert set(listed) >= {"images", "first", "schema"}
    assert listed["schema"] == "/v2/schemas/images"
    named = step(
        "list_A_filter_name",
        a.get(
            "/v2/images?name=dash-test&status=active&visibility=private&limit=5"
            "&sort_key=created_at&sort_dir=desc"
        ),
        200,
    ).json()
    assert iid in [i["id"] for i in named["images"]]
    assert all(i["name"] == "dash-test" for i in named["images"])
    tagged = step("list_A_filter_tag", a.get("/v2/images?tag=t0"), 200).json()
    assert iid in [i["id"] for i in tagged["images"]]
    sized = step(
        "list_A_filter_size",
        a.get("/v2/images?size_min=1000&size_max=100000000&disk_format=raw"),
        200,
    ).json()
    assert iid in [i["id"] for i in sized["images"]]
    assert all(i["disk_format"] == "raw" for i in sized["images"])
    owned = step("list_A_filter_owner", a.get(f"/v2/images?owner={a.project_id}"), 200).json()
    assert all(i["owner"] == a.project_id for i in owned["images"])

    step("add_tag_A", a.put(f"/v2/images/{iid}/tags/newtag"), 204)
    step("remove_tag_A", a.delete(f"/v2/images/{iid}/tags/t0"), 204)
    assert step("show_tags_A", a.get(f"/v2/images/{iid}"), 200).json()["tags"] == ["newtag"]
    step("remove_missing_tag_A", a.delete(f"/v2/images/{iid}/tags/nope"), 404)
    renamed = step(
        "patch_name_A",
        a.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/name", "value": "dash-2"}]),
        200,
    )
    assert renamed.json()["name"] == "dash-2"

    step("B_show_private_before", b.get(f"/v2/images/{iid}"), 404)
    step("add_member_while_private", a.post(f"/v2/images/{iid}/members", json={"member": "x"}), 403)
    shared = step(
        "set_shared_A",
        a.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/visibility", "value": "shared"}]),
        200,
    )
    assert shared.json()["visibility"] == "shared"
    assert iid not in [
        i["id"] for i in step("B_list_before_share", b.get("/v2/images"), 200).json()["images"]
    ]
    member = step(
        "add_member_B", a.post(f"/v2/images/{iid}/members", json={"member": b.project_id}), 200
    ).json()
    assert member["status"] == "pending"
    assert member["member_id"] == b.project_id
    assert member["image_id"] == iid
    assert member["schema"] == "/v2/schemas/member"
    step(
        "add_member_B_again",
        a.post(f"/v2/images/{iid}/members", json={"member": b.project_id}),
        409,
    )
    members = step("list_members_A", a.get(f"/v2/images/{iid}/members"), 200).json()
    assert [m["member_id"] for m in members["members"]] == [b.project_id]
    assert members["schema"] == "/v2/schemas/members"

    def b_sees(query: str, name: str) -> bool:
        body = step(name, b.get(f"/v2/images{query}"), 200).json()
        return iid in [i["id"] for i in body["images"]]

    assert not b_sees("", "B_list_default_pending")
    assert b_sees("?member_status=pending", "B_list_member_status_pending")
    assert not b_sees("?visibility=shared", "B_list_visibility_shared")
    assert b_sees("?visibility=shared&member_status=all", "B_list_shared_all")
    step("B_show_pending", b.get(f"/v2/images/{iid}"), 200)
    own = step("B_show_own_member", b.get(f"/v2/images/{iid}/members/{b.project_id}"), 200)
    assert own.json()["status"] == "pending"
    step("C_show", c.get(f"/v2/images/{iid}"), 404)
    accept = {"status": "accepted"}
    step("C_accept_for_B", c.put(f"/v2/images/{iid}/members/{b.project_id}", json=accept), 404)
    step("A_accept_for_B", a.put(f"/v2/images/{iid}/members/{b.project_id}", json=accept), 403)
    accepted = step("B_accept", b.put(f"/v2/images/{iid}/members/{b.project_id}", json=accept), 200)
    assert accepted.json()["status"] == "accepted"
    assert b_sees("", "B_list_default_after_accept")
    assert step("B_download", b.get(f"/v2/images/{iid}/file"), 200).content == data
    step(
        "B_patch_forbidden",
        b.patch(f"/v2/images/{iid}", [{"op": "replace", "path": "/name", "value": "mine"}]),
        403,
    )
    step("B_delete_forbidden", b.delete(f"/v2/images/{iid}"), 403)
    step(
        "B_add_member_forbidden",
        b.post(f"/v2/images/{iid}/members", json={"member": c.project_id}),
        403,
    )
    reject = {"status": "rejected"}
    step("B_reject", b.put(f"/v2/images/{iid}/members/{b.project_id}", json=reject), 200)
    assert not b_sees("", "B_list_default_after_reject")
    assert b_sees("?member_status=rejected", "B_list_rejected")
    step("B_reaccept", b.put(f"/v2/images/{iid}/members/{b.project_id}", json=accept), 200)
    step("remove_member_B", a.delete(f"/v2/images/{iid}/members/{b.project_id}"), 204)
    step("B_show_after_remove", b.get(f"/v2/images/{iid}"), 404)
    assert not b_sees("", "B_list_after_remove")
    step("remove_member_again", a.delete(f"/v2/images/{iid}/members/{b.project_id}"), 404)
    assert iid in admin.ids("?owner=" + a.project_id)
    step("admin_list", admin.get("/v2/images"), 200)

    protect = [{"op": "replace", "path": "/protected", "value": True}]
    assert step("set_protected_A", a.patch(f"/v2/images/{iid}", protect), 200).json()["protected"]
    assert_webob_json(
        step("delete_protected_A", a.delete(f"/v2/images/{iid}"), 403), 403, "is protected"
    )
    unprotect = [{"op": "replace", "path": "/protected", "value": False}]
    step("unset_protected_A", a.patch(f"/v2/images/{iid}", unprotect), 200)
    step("delete_A", a.delete(f"/v2/images/{iid}"), 204)
    assert not (cloud.data_dir / "images" / iid).exists()
    step("show_after_delete", a.get(f"/v2/images/{iid}"), 404)
    step("download_after_delete", a.get(f"/v2/images/{iid}/file"), 404)
    step("delete_again", a.delete(f"/v2/images/{iid}"), 404)

    missing = "00000000-0000-0000-0000-000000000000"
    assert_webob_json(
        step("err_404_json", a.get(f"/v2/images/{missing}"), 404),
        404,
        f"No image found with ID {missing}",
    )
    html = step("err_404_default", a.get(f"/v2/images/{missing}", headers={"Accept": "*/*"}), 404)
    assert html.headers["Content-Type"].startswith("text/html")
    assert "<title>404 Not Found</title>" in html.text
    assert "<br /><br />" in html.text
    assert_webob_json(
        step("err_400_bad_create", a.post("/v2/images", json={"disk_format": "nope"}), 400),
        400,
        "Provided object does not match schema 'image'",
    )
    step("err_400_bad_uuid", a.get("/v2/images/not-a-uuid"), 404)
    no_auth = step("err_401_no_auth", requests.get(f"{cloud.image_url}/v2/images", timeout=10), 401)
    assert no_auth.headers["WWW-Authenticate"].startswith("Keystone uri=")
    reader = Api(cloud, "lc-reader", "owner-project")
    step("err_403_reader_only_create", reader.post("/v2/images", json={"name": "r"}), 403)
    member_only = Api(cloud, "lc-member", "owner-project")
    step("member_only_list", member_only.get("/v2/images"), 403)
    noformat = step("create_noformat_A", a.post("/v2/images", json={"name": "nf"}), 201).json()
    assert noformat["visibility"] == "shared"  # the default since 2.5
    assert_webob_json(
        step("upload_noformat_A", a.upload(noformat["id"], b"abc"), 400),
        400,
        "Properties disk_format, container_format must be set prior to saving data.",
    )
    step("B_upload_into_A_image", b.upload(noformat["id"], b"abc"), 404)
    step("delete_noformat_A", a.delete(f"/v2/images/{noformat['id']}"), 204)
    assert len(steps) == 65
