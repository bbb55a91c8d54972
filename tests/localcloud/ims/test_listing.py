"""IMS ``GET /v2/cloudimages`` over real HTTP (reference ims.md §1)."""

from __future__ import annotations

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud.ims.conftest import SEEDED, assert_ims_error, cloudimages

# ---------------------------------------------------------------------------------------
# Query


def test_the_list_has_ims_fields_as_ims_sends_them(owner: Api):
    images = cloudimages(owner)
    assert {i["name"] for i in images} >= {"cirros-0.6.2", "windows-2022-eval", "rescue-iso"}
    debian = next(i for i in images if i["name"] == "debian-12-generic")
    assert debian["__isregistered"] == "true"
    assert debian["__imagetype"] == "private"
    assert debian["__os_type"] == "Linux"
    assert debian["__platform"] == "Debian"
    assert debian["__os_bit"] == "64"
    assert debian["__os_version"] == "Debian 12 64bit"
    assert debian["__image_size"] == str(debian["size"])
    assert isinstance(debian["size"], int)
    assert debian["virtual_env_type"] == "FusionCompute"
    assert debian["protected"] is False
    assert debian["self"] == f"/v2/images/{debian['id']}"
    assert debian["file"] == f"/v2/images/{debian['id']}/file"
    assert debian["schema"] == "/v2/schemas/image"
    assert debian["created_at"].endswith("Z")
    assert len(debian["created_at"]) == 20
    windows = next(i for i in images if i["name"] == "windows-2022-eval")
    assert windows["__os_type"] == "Windows"
    assert windows["__platform"] == "Windows"
    iso = next(i for i in images if i["name"] == "rescue-iso")
    assert iso["virtual_env_type"] == "IsoImage"
    # Default order: newest first.
    created = [i["created_at"] for i in images]
    assert created == sorted(created, reverse=True)


def test_marker_paging_walks_every_image_once(owner: Api):
    everything = [i["id"] for i in cloudimages(owner, sort_key="name", sort_dir="asc")]
    pages, marker = [], None
    while True:
        params = {"limit": "5", "sort_key": "name", "sort_dir": "asc"}
        if marker:
            params["marker"] = marker
        page = cloudimages(owner, **params)
        pages.append(page)
        if len(page) < 5:
            break
        marker = page[-1]["id"]
    walked = [i["id"] for page in pages for i in page]
    assert walked == everything
    assert len(set(walked)) == len(walked) >= 12
    names = [i["name"] for page in pages for i in page]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "fedora-41-cloud"}, {"fedora-41-cloud"}),
        ({"__os_type": "Windows"}, {"windows-2022-eval"}),
        ({"__platform": "Ubuntu"}, {"ubuntu-24.04-server", "ubuntu-22.04-server"}),
        ({"disk_format": "vhd"}, {"windows-2022-eval"}),
        ({"disk_format": "iso", "status": "active"}, {"rescue-iso"}),
        ({"__platform": "Debian", "disk_format": "raw"}, {"debian-13-generic"}),
        ({"__os_type": "Other"}, {"freebsd-14.1"}),
        (
            {"name": "cirros-0.6.2", "__isregistered": "true", "protected": "false"},
            {"cirros-0.6.2"},
        ),
        ({"name": "cirros-0.6.2", "__isregistered": "false"}, set()),
        ({"name": "cirros-0.6.2", "visibility": "public"}, set()),
        ({"name": "cirros-0.6.2", "min_disk": "0", "__imagetype": "gold"}, set()),
        ({"name": "cirros-0.6.2", "created_at": "lt:2000-01-01T00:00:00Z"}, set()),
        ({"name": "cirros-0.6.2", "created_at": "gte:2000-01-01 00:00:00"}, {"cirros-0.6.2"}),
        ({"__imagetype": "market"}, set()),
    ],
)
def test_filters(owner: Api, params, expected):
    # Other tests add images to the owner project; look at the seeded ones only.
    assert {i["name"] for i in cloudimages(owner, **params)} & SEEDED == expected


def test_filters_by_id_owner_tag_and_visibility(owner: Api, partner: Api):
    one = cloudimages(owner, name="alpine-3.20-virt")[0]
    assert [i["id"] for i in cloudimages(owner, id=one["id"])] == [one["id"]]
    mine = cloudimages(owner, owner=owner.project_id)
    assert mine
    assert all(i["owner"] == owner.project_id for i in mine)
    assert all("demo" in i["tags"] for i in cloudimages(owner, tag="demo"))
    assert len(cloudimages(owner, tag="demo")) >= 12
    private = cloudimages(owner, visibility="private")
    assert private
    assert all(i["visibility"] == "private" for i in private)
    # The owner project's images are not the partner's to see.
    assert not cloudimages(partner, id=one["id"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"__imagetype": "golden"}, "IMG.0024"),
        ({"limit": "ten"}, "IMG.0001"),
        ({"limit": "0"}, "IMG.0001"),
        ({"sort_key": "owner"}, "IMG.0001"),
        ({"sort_dir": "up"}, "IMG.0001"),
        ({"visibility": "community"}, "IMG.0001"),
        ({"member_status": "pending"}, "IMG.0001"),  # needs visibility=shared
        ({"protected": "maybe"}, "IMG.0001"),
        ({"created_at": "before:2020-01-01T00:00:00Z"}, "IMG.0001"),
        ({"min_disk": "-1"}, "IMG.0001"),
        ({"marker": "00000000-0000-0000-0000-000000000000"}, "IMG.0027"),
    ],
)
def test_bad_queries_are_400_with_ims_codes(owner: Api, params, code):
    assert_ims_error(owner.get("/v2/cloudimages", params=params), 400, code)


def test_requests_without_valid_credentials_get_the_gateway_401(cloud):
    for headers in ({}, {"X-Auth-Token": "bogus"}):
        resp = requests.get(f"{cloud.image_url}/v2/cloudimages", headers=headers, timeout=30)
        assert resp.status_code == 401
        assert resp.json()["error_code"] == "APIGW.0301"
        assert resp.json()["request_id"].startswith("req-")


def test_shared_images_by_member_status(ims: Api, partner: Api):
    image = ims.create(disk_format="raw", container_format="bare", visibility="shared")
    assert (
        ims.post(
            f"/v2/images/{image['id']}/members", json={"member": partner.project_id}
        ).status_code
        == 200
    )
    query = {"visibility": "shared", "__imagetype": "shared"}
    pending = cloudimages(partner, member_status="pending", **query)
    assert [i["id"] for i in pending] == [image["id"]]
    assert pending[0]["__imagetype"] == "shared"
    assert pending[0]["owner"] == ims.project_id
    assert image["id"] not in {i["id"] for i in cloudimages(partner)}
    assert (
        partner.put(
            f"/v2/images/{image['id']}/members/{partner.project_id}", json={"status": "accepted"}
        ).status_code
        == 200
    )
    assert image["id"] in {i["id"] for i in cloudimages(partner)}
    assert [i["id"] for i in cloudimages(partner, member_status="accepted", **query)] == [
        image["id"]
    ]
    assert not cloudimages(partner, member_status="pending", **query)
    # The owner sees an image it shares out as "shared" too.
    assert cloudimages(ims, id=image["id"])[0]["__imagetype"] == "shared"
    # A member cannot modify the image.
    assert_ims_error(
        partner.request(
            "PATCH",
            f"/v2/cloudimages/{image['id']}",
            json=[{"op": "replace", "path": "/name", "value": "mine"}],
        ),
        400,
        "IMG.0047",
    )
