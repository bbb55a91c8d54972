"""IMS ``PATCH /v2/cloudimages/{id}`` over real HTTP (reference ims.md §2)."""

from __future__ import annotations

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud.ims.conftest import assert_ims_error, cloudimages

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
