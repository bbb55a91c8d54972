"""The local cloud's IMS v2 over real HTTP (reference ims.md §1-§4): query, update, create
from a server or a bucket object, and the asynchronous jobs."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud, start_localcloud

SETUP = """
from pathlib import Path
from django.conf import settings
from django.utils import timezone
from imsportal.localcloud.models import Bucket, Project, Server
from imsportal.localcloud.ims.disks import make_qcow2, make_raw
project = Project.objects.get(name="ims-project")
server, _ = Server.objects.get_or_create(
    id="11111111-2222-3333-4444-555555555555",
    defaults=dict(project=project, name="ims-ecs", os_type="Linux", platform="Ubuntu",
                  os_version="Ubuntu 22.04 server 64bit", disk_gb=20, created_at=timezone.now()))
server.disk_path.parent.mkdir(parents=True, exist_ok=True)
server.disk_path.write_bytes(make_raw("ims-ecs-disk"))
bucket, _ = Bucket.objects.get_or_create(name="ims-bucket", defaults=dict(project=project))
bucket.path.mkdir(parents=True, exist_ok=True)
(bucket.path / "dir").mkdir(exist_ok=True)
(bucket.path / "dir" / "tiny.qcow2").write_bytes(make_qcow2("ims-tiny"))
(bucket.path / "empty.raw").write_bytes(b"")
"""
SERVER_ID = "11111111-2222-3333-4444-555555555555"
SEEDED = {
    "cirros-0.6.2",
    "ubuntu-24.04-server",
    "ubuntu-22.04-server",
    "debian-12-generic",
    "debian-13-generic",
    "fedora-41-cloud",
    "rocky-9-generic",
    "alpine-3.20-virt",
    "windows-2022-eval",
    "opensuse-15.6",
    "freebsd-14.1",
    "rescue-iso",
}


def cloudimages(api: Api, **params: str) -> list[dict]:
    resp = api.get("/v2/cloudimages", params=params)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"images"}  # no next/first/schema links
    return resp.json()["images"]


def assert_ims_error(resp: requests.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def wait_jobs(api: Api, job_ids: list[str], timeout: float = 30) -> dict[str, list[dict]]:
    """Poll every job until it ends; the bodies seen for each, in order."""
    seen: dict[str, list[dict]] = {job_id: [] for job_id in job_ids}
    deadline = time.monotonic() + timeout
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            resp = api.get(f"/v1/{api.project_id}/jobs/{job_id}")
            assert resp.status_code == 200, resp.text
            seen[job_id].append(resp.json())
            if resp.json()["status"] in ("SUCCESS", "FAIL"):
                pending.discard(job_id)
        time.sleep(0.1)
    assert not pending, f"jobs still running: {pending}"
    return seen


def create(api: Api, **body) -> str:
    resp = api.post("/v2/cloudimages/action", json=body)
    assert resp.status_code == 200, resp.text
    assert list(resp.json()) == ["job_id"]
    job_id = resp.json()["job_id"]
    assert len(job_id) == 32
    assert int(job_id, 16) >= 0
    return job_id


@pytest.fixture(scope="module")
def ims(cloud: LocalCloud) -> Api:
    cloud.manage(
        "localcloud_user",
        "ims-user",
        "--project",
        "ims-project",
        "--role",
        "member",
        "--role",
        "reader",
        "--password",
        "ims-user-pw",
    )
    cloud.manage(
        "localcloud_user",
        "ims-reader",
        "--project",
        "ims-project",
        "--role",
        "reader",
        "--password",
        "ims-reader-pw",
    )
    cloud.manage("shell", "-c", SETUP)
    return Api(cloud, "ims-user", "ims-project", "ims-user-pw")


@pytest.fixture(scope="module")
def ims_reader(ims: Api) -> Api:
    return Api(ims.cloud, "ims-reader", "ims-project", "ims-reader-pw")


@pytest.fixture(scope="module")
def made(ims: Api) -> dict[str, dict]:
    """One image made from the server and one from a bucket object (jobs run together)."""
    jobs = {
        "server": create(
            ims,
            name="from server",
            instance_id=SERVER_ID,
            description="web tier",
            max_ram=4096,
            min_ram=1024,
            tags=["team.web"],
        ),
        "file": create(
            ims,
            name="from-file",
            image_url="ims-bucket:dir/tiny.qcow2",
            min_disk=2,
            os_version="Debian GNU/Linux 12 64bit",
            image_tags=[{"key": "team", "value": "db"}],
        ),
    }
    seen = wait_jobs(ims, list(jobs.values()))
    return {kind: {"job_id": job_id, "seen": seen[job_id]} for kind, job_id in jobs.items()}


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


# ---------------------------------------------------------------------------------------
# Update


def patch(api: Api, image_id: str, ops) -> requests.Response:
    return api.request("PATCH", f"/v2/cloudimages/{image_id}", json=ops)


def test_update_replace_add_remove(ims: Api, made):
    image_id = made["file"]["seen"][-1]["entities"]["image_id"]
    resp = patch(ims, image_id, [{"op": "replace", "path": "/name", "value": "renamed 1"}])
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "renamed 1"
    assert resp.json()["__imagetype"] == "private"
    assert resp.json()["id"] == image_id
    assert resp.json()["__isregistered"] == "true"

    # The file image has no description: replace is IMS's attribute conflict, add works.
    assert_ims_error(
        patch(ims, image_id, [{"op": "replace", "path": "/__description", "value": "d"}]),
        400,
        "IMG.0035",
    )
    resp = patch(ims, image_id, [{"op": "add", "path": "/__description", "value": "first"}])
    assert resp.json()["__description"] == "first"
    resp = patch(ims, image_id, [{"op": "replace", "path": "/__description", "value": "second"}])
    assert resp.json()["__description"] == "second"

    resp = patch(
        ims,
        image_id,
        [
            {"op": "add", "path": "/max_ram", "value": 8192},
            {"op": "replace", "path": "/min_ram", "value": "2048"},
            {"op": "add", "path": "/hw_firmware_type", "value": "uefi"},
            {"op": "add", "path": "/hw_vif_multiqueue_enabled", "value": "true"},
            {"op": "add", "path": "/__support_kvm", "value": "true"},
            {"op": "add", "path": "/my_custom", "value": "x"},
        ],
    )
    body = resp.json()
    assert resp.status_code == 200, resp.text
    assert body["max_ram"] == "8192"
    assert body["min_ram"] == 2048
    assert body["hw_firmware_type"] == "uefi"
    assert body["__support_kvm"] == "true"
    assert body["hw_vif_multiqueue_enabled"] == "true"
    assert body["my_custom"] == "x"
    assert cloudimages(ims, __support_kvm="true", id=image_id)

    resp = patch(ims, image_id, [{"op": "remove", "path": "/__description"}])
    assert "__description" not in resp.json()
    assert_ims_error(
        patch(ims, image_id, [{"op": "remove", "path": "/__description"}]), 400, "IMG.0035"
    )
    # Glance serves the same image with the change.
    assert ims.image(image_id)["name"] == "renamed 1"
    assert ims.image(image_id)["max_ram"] == "8192"


def test_update_is_all_or_nothing(ims: Api, made):
    image_id = made["file"]["seen"][-1]["entities"]["image_id"]
    before = cloudimages(ims, id=image_id)[0]
    resp = patch(
        ims,
        image_id,
        [
            {"op": "replace", "path": "/name", "value": "half-done"},
            {"op": "add", "path": "/hw_firmware_type", "value": "coreboot"},
        ],
    )
    assert_ims_error(resp, 400, "IMG.0141")
    assert cloudimages(ims, id=image_id)[0]["name"] == before["name"]


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "replace", "path": "/status", "value": "killed"}], "IMG.0001"),
        ([{"op": "replace", "path": "/protected", "value": True}], "IMG.0001"),
        ([{"op": "replace", "path": "/__os_type", "value": "Windows"}], "IMG.0001"),
        ([{"op": "add", "path": "/My_Attr", "value": "x"}], "IMG.0001"),
        ([{"op": "move", "path": "/name", "value": "x"}], "IMG.0001"),
        ([{"op": "replace", "path": "name", "value": "x"}], "IMG.0001"),
        ([{"op": "replace", "path": "/name"}], "IMG.0001"),
        ([{"op": "remove", "path": "/name"}], "IMG.0001"),
        ([{"op": "replace", "path": "/name", "value": "x" * 129}], "IMG.0002"),
        ([{"op": "replace", "path": "/name", "value": "bad/name"}], "IMG.0003"),
        ([{"op": "replace", "path": "/name", "value": " padded"}], "IMG.0003"),
        ([{"op": "add", "path": "/__description", "value": "x" * 1025}], "IMG.0004"),
        ([{"op": "add", "path": "/__description", "value": "<b>"}], "IMG.0054"),
        ([{"op": "replace", "path": "/min_ram", "value": "lots"}], "IMG.0055"),
        ([{"op": "add", "path": "/max_ram", "value": -1}], "IMG.0055"),
        ([{"op": "add", "path": "/hw_firmware_type", "value": "efi"}], "IMG.0141"),
        ({"op": "replace", "path": "/name", "value": "x"}, "IMG.0001"),  # not a list
        ([], "IMG.0007"),
    ],
)
def test_bad_updates_are_400_with_ims_codes(ims: Api, made, ops, code):
    image_id = made["server"]["seen"][-1]["entities"]["image_id"]
    assert_ims_error(patch(ims, image_id, ops), 400, code)


def test_update_errors_about_the_image_and_the_caller(ims: Api, ims_reader: Api, owner: Api):
    op = [{"op": "replace", "path": "/name", "value": "x"}]
    assert_ims_error(patch(ims, "00000000-0000-0000-0000-000000000000", op), 404, "IMG.0027")
    # Another project's image is as missing as an unknown one.
    other = cloudimages(owner, name="cirros-0.6.2")[0]["id"]
    assert_ims_error(patch(ims, other, op), 404, "IMG.0027")
    queued = ims.create(disk_format="raw", container_format="bare")
    assert_ims_error(patch(ims, queued["id"], op), 400, "IMG.0046")
    assert_ims_error(patch(ims_reader, queued["id"], op), 403, "IMG.0026")
    resp = ims.request(
        "PATCH",
        f"/v2/cloudimages/{queued['id']}",
        data="[oops",
        headers={"Content-Type": "application/json"},
    )
    assert_ims_error(resp, 400, "IMG.0001")
    assert_ims_error(ims.request("PATCH", f"/v2/cloudimages/{queued['id']}"), 400, "IMG.0007")


# ---------------------------------------------------------------------------------------
# Create and jobs


def test_an_image_from_a_server_goes_init_running_success(ims: Api, made, cloud):
    seen = made["server"]["seen"]
    statuses = [body["status"] for body in seen]
    assert statuses[0] == "INIT"
    assert "RUNNING" in statuses
    assert statuses[-1] == "SUCCESS"
    assert statuses.index("RUNNING") > statuses.index("INIT")
    percents = [b["entities"]["process_percent"] for b in seen]
    assert percents == sorted(percents)
    assert percents[0] == 0.0
    assert percents[-1] == 100.0
    done = seen[-1]
    assert done["job_type"] == "imsCreateImageByInstance"
    assert done["error_code"] is None
    assert done["fail_reason"] is None
    assert done["begin_time"].endswith("Z")
    assert done["end_time"] > done["begin_time"]
    assert all(b["end_time"] is None for b in seen[:-1])
    assert all("image_id" not in b["entities"] for b in seen[:-1])
    assert done["entities"]["image_name"] == "from server"

    image_id = done["entities"]["image_id"]
    image = cloudimages(ims, id=image_id)[0]
    assert image["status"] == "active"
    assert image["owner"] == ims.project_id
    assert image["__imagetype"] == "private"
    assert image["visibility"] == "private"
    assert image["__data_origin"] == f"instance,{SERVER_ID}"
    assert image["__platform"] == "Ubuntu"
    assert image["__os_version"].startswith("Ubuntu 22.04")
    assert image["__description"] == "web tier"
    assert image["max_ram"] == "4096"
    assert image["min_ram"] == 1024
    assert image["min_disk"] == 20
    assert image["tags"] == ["team.web"]
    assert image["disk_format"] == "raw"

    disk = (cloud.data_dir / "servers" / f"{SERVER_ID}.disk").read_bytes()
    assert_downloads(ims, image_id, disk)


def test_an_image_from_a_bucket_object(ims: Api, made, cloud):
    done = made["file"]["seen"][-1]
    assert done["status"] == "SUCCESS"
    assert done["job_type"] == "imsImportImageJob"
    image_id = done["entities"]["image_id"]
    image = ims.image(image_id)
    assert image["disk_format"] == "qcow2"
    assert image["virtual_size"] == 1024**3
    assert image["min_disk"] == 2
    assert image["tags"] == ["team=db"]
    assert image["__root_origin"] == "file"
    listed = cloudimages(ims, id=image_id)[0]
    assert listed["__os_type"] == "Linux"
    assert listed["__platform"] == "Debian"
    data = (cloud.data_dir / "objects" / "ims-bucket" / "dir" / "tiny.qcow2").read_bytes()
    assert data[:4] == b"QFI\xfb"
    assert_downloads(ims, image_id, data)


def assert_downloads(api: Api, image_id: str, expected: bytes) -> None:
    image = api.image(image_id)
    assert image["status"] == "active"
    assert image["size"] == len(expected)
    assert image["checksum"] == hashlib.md5(expected).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(expected).hexdigest()
    resp = api.get(f"/v2/images/{image_id}/file")
    assert resp.status_code == 200
    assert resp.content == expected
    assert resp.headers["Content-MD5"] == image["checksum"]


def test_jobs_that_fail(ims: Api, cloud):
    partner_server_id = cloud.manage(
        "shell",
        "-c",
        "from imsportal.localcloud.models import Server;"
        "print(Server.objects.get(name='ecs-app-01').id)",
    ).split()[-1]
    jobs = {
        create(ims, name="no-such-ecs", instance_id="not-a-server"): "IMG.0005",
        create(ims, name="their-ecs", instance_id=partner_server_id): "IMG.0005",
        create(ims, name="no-object", image_url="ims-bucket:missing.qcow2", min_disk=1): "IMG.0057",
        create(ims, name="empty-object", image_url="ims-bucket:empty.raw", min_disk=1): "IMG.0057",
        create(
            ims, name="their-bucket", image_url="partner-images:centos-mini.qcow2", min_disk=1
        ): "IMG.0057",
        create(ims, name="no-bucket", image_url="nobody-bucket:x.qcow2", min_disk=1): "IMG.0057",
    }
    seen = wait_jobs(ims, list(jobs))
    before = {i["id"] for i in cloudimages(ims)}
    for job_id, code in jobs.items():
        statuses = [b["status"] for b in seen[job_id]]
        assert statuses[0] == "INIT", statuses
        assert statuses[-1] == "FAIL", statuses
        done = seen[job_id][-1]
        assert done["error_code"] == code
        assert done["fail_reason"]
        assert "image_id" not in done["entities"]
        assert done["end_time"] is not None
    assert not [i for i in cloudimages(ims) if i["name"] in {"no-such-ecs", "their-ecs"}]
    assert {i["id"] for i in cloudimages(ims)} == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "IMG.0007"),
        ({"name": "x"}, "IMG.0001"),
        ({"instance_id": SERVER_ID}, "IMG.0013"),
        ({"name": "x" * 129, "instance_id": SERVER_ID}, "IMG.0002"),
        ({"name": "a<b", "instance_id": SERVER_ID}, "IMG.0003"),
        ({"name": "x", "instance_id": SERVER_ID, "description": "d" * 1025}, "IMG.0004"),
        ({"name": "x", "instance_id": SERVER_ID, "description": "a\rb"}, "IMG.0054"),
        ({"name": "x", "instance_id": SERVER_ID, "min_ram": "much"}, "IMG.0055"),
        ({"name": "x", "instance_id": SERVER_ID, "tags": ["a.b"], "image_tags": []}, "IMG.0115"),
        (
            {"name": "x", "instance_id": SERVER_ID, "tags": [f"t.{n}" for n in range(11)]},
            "IMG.0116",
        ),
        ({"name": "x", "instance_id": SERVER_ID, "image_url": "b:o", "min_disk": 1}, "IMG.0001"),
        ({"name": "x", "image_url": "no-colon", "min_disk": 1}, "IMG.0001"),
        ({"name": "x", "image_url": "ims-bucket:../escape", "min_disk": 1}, "IMG.0001"),
        ({"name": "x", "image_url": "ims-bucket:dir/tiny.qcow2"}, "IMG.0055"),
        ({"name": "x", "image_url": "ims-bucket:dir/tiny.qcow2", "min_disk": 0}, "IMG.0055"),
        ({"name": "x", "image_url": "ims-bucket:dir/tiny.qcow2", "min_disk": 2000}, "IMG.0055"),
        (
            {
                "name": "x",
                "image_url": "ims-bucket:dir/tiny.qcow2",
                "min_disk": 1,
                "type": "IsoImage",
            },
            "IMG.0166",
        ),
        (
            {
                "name": "x",
                "image_url": "ims-bucket:dir/tiny.qcow2",
                "min_disk": 1,
                "type": "Floppy",
            },
            "IMG.0001",
        ),
        (
            {"name": "x", "image_url": "ims-bucket:dir/tiny.qcow2", "min_disk": 1, "cmk_id": "key"},
            "IMG.0095",
        ),
        (
            {
                "name": "x",
                "image_url": "ims-bucket:dir/tiny.qcow2",
                "min_disk": 1,
                "hw_firmware_type": "efi",
            },
            "IMG.0141",
        ),
        (
            {
                "name": "x",
                "image_url": "ims-bucket:dir/tiny.qcow2",
                "min_disk": 1,
                "architecture": "sparc",
            },
            "IMG.0212",
        ),
        ({"name": "x", "data_images": [{"name": "d", "volume_id": "v"}]}, "IMG.0001"),
        ({"name": "x", "volume_id": "v", "os_version": "Ubuntu"}, "IMG.0001"),
    ],
)
def test_bad_creates_are_400_with_ims_codes(ims: Api, body, code):
    assert_ims_error(ims.post("/v2/cloudimages/action", json=body), 400, code)


def test_create_needs_a_member_role_and_a_json_object(ims: Api, ims_reader: Api):
    body = {"name": "x", "instance_id": SERVER_ID}
    assert_ims_error(ims_reader.post("/v2/cloudimages/action", json=body), 403, "IMG.0026")
    assert_ims_error(ims.post("/v2/cloudimages/action", json=[body]), 400, "IMG.0001")
    resp = ims.post(
        "/v2/cloudimages/action", data="{", headers={"Content-Type": "application/json"}
    )
    assert_ims_error(resp, 400, "IMG.0001")
    assert ims.get("/v2/cloudimages/action").status_code == 405


def test_jobs_belong_to_their_project(ims: Api, partner: Api, made):
    job_id = made["server"]["job_id"]
    assert_ims_error(partner.get(f"/v1/{ims.project_id}/jobs/{job_id}"), 403, "IMG.0026")
    assert_ims_error(partner.get(f"/v1/{partner.project_id}/jobs/{job_id}"), 404, "IMG.0017")
    assert_ims_error(ims.get(f"/v1/{ims.project_id}/jobs/{'f' * 32}"), 404, "IMG.0017")
    resp = requests.get(f"{ims.cloud.image_url}/v1/{ims.project_id}/jobs/{job_id}", timeout=30)
    assert resp.status_code == 401


def test_a_job_survives_a_restart(tmp_path: Path):
    first = start_localcloud(tmp_path / "lc")
    try:
        owner = Api(first, "owner", "owner-project", "owner-demo-password")
        server_id = first.manage(
            "shell",
            "-c",
            "from imsportal.localcloud.models import Server;"
            "print(Server.objects.get(name='ecs-web-01').id)",
        ).split()[-1]
        job_id = create(owner, name="across-restart", instance_id=server_id)
        assert owner.get(f"/v1/{owner.project_id}/jobs/{job_id}").json()["status"] == "INIT"
    finally:
        first.stop()
    second = start_localcloud(tmp_path / "lc")
    try:
        # Tokens live in the database, so the old one still works.
        owner.cloud = second
        seen = wait_jobs(owner, [job_id])[job_id]
        assert seen[-1]["status"] == "SUCCESS", seen[-1]["fail_reason"]
        image_id = seen[-1]["entities"]["image_id"]
        disk = (tmp_path / "lc" / "servers" / f"{server_id}.disk").read_bytes()
        assert_downloads(owner, image_id, disk)
        assert [i["name"] for i in cloudimages(owner, id=image_id)] == ["across-restart"]
    finally:
        second.stop()
