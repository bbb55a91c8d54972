"""IMS ``POST /v2/cloudimages/action`` over real HTTP: from a server or a bucket object
(reference ims.md §3)."""

from __future__ import annotations

import pytest

from tests.localcloud.conftest import Api
from tests.localcloud.ims.conftest import SERVER_ID, assert_downloads, assert_ims_error, cloudimages

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
