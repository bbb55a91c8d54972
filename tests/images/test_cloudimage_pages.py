"""Cloud images: IMS filters, sorting, sizes that agree with the Images list, the edit form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from imsportal.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_ims_filters_reach_ims(operator_client, owner_project, monkeypatch):
    operator_client.get("/p/owner/images/cloud/")
    sent = []
    real_send = requests.Session.send

    def spy(self, request, **kwargs):
        sent.append(request.url)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    resp = operator_client.get(
        "/p/owner/images/cloud/",
        {
            "imagetype": "private",
            "platform": "Ubuntu",
            "os_type": "Linux",
            "os_bit": "64",
            "status": "active",
            "visibility": "private",
            "name": "n",
            "tag": "t",
            "sort_key": "name",
            "sort_dir": "asc",
        },
    )
    assert resp.status_code == 200
    assert len(sent) == 1
    query = parse_qs(urlsplit(sent[0]).query)
    assert query["__imagetype"] == ["private"]
    assert query["__platform"] == ["Ubuntu"]
    assert query["__os_type"] == ["Linux"]
    assert query["__os_bit"] == ["64"]
    assert query["sort_key"] == ["name"]
    assert query["sort_dir"] == ["asc"]


def test_ims_columns_and_sort_headers(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/cloud/", {"name": "cirros-0.6.2"}).content.decode()
    assert '<td data-label="OS version">0.6.2</td>' in body
    assert '<td data-label="Source">uds</td>' in body
    assert "65,536 bytes" in body
    assert "sort_key=name&amp;sort_dir=asc" in body


def test_a_queued_image_shows_a_dash_in_both_lists(operator_client, owner_project, cloud_conn):
    queued = cloud_conn.image.create_image(
        name="q-size", disk_format="raw", container_format="bare"
    )
    try:
        for path in ("/p/owner/images/", "/p/owner/images/cloud/"):
            body = operator_client.get(path, {"name": "q-size"}).content.decode()
            cell = re.search(r'<td data-label="Size">(.*?)</td>', body).group(1)
            assert "–" in cell, path
            assert "bytes" not in cell, path
    finally:
        cloud_conn.image.delete_image(queued.id)


def test_edit_sends_ims_patch_operations(operator_client, owner_project, make_image, cloud_conn):
    image = make_image(name="ims-edit")
    url = f"/p/owner/images/cloud/{image.id}/edit/"
    assert 'value="ims-edit"' in operator_client.get(url).content.decode()
    resp = operator_client.post(
        url,
        {
            "name": "ims-edited",
            "description": "hello",
            "min_ram": "512",
            "max_ram": "2048",
            "hw_firmware_type": "uefi",
            "hw_vif_multiqueue_enabled": "",
        },
    )
    assert resp.status_code == 302
    after = cloud_conn.ims.get_cloudimage(image.id)
    assert after.name == "ims-edited"
    assert after.description == "hello"
    assert (after.min_ram, after.max_ram) == (512, 2048)
    assert after.properties.get("hw_firmware_type") == "uefi"
    entry = AuditEntry.objects.get(action="cloudimage.update")
    assert entry.params["changes"]["__description"] == "hello"


def test_ims_refusal_is_a_form_error(operator_client, owner_project, make_image):
    image = make_image(name="ims-bad")
    resp = operator_client.post(
        f"/p/owner/images/cloud/{image.id}/edit/", {"name": "bad/name!", "description": ""}
    )
    assert resp.status_code == 200
    assert "IMG.0003" in resp.content.decode() or "name format is invalid" in resp.content.decode()


def test_viewer_may_not_edit(viewer_client, owner_project):
    resp = viewer_client.get("/p/owner/images/cloud/8ec93389-e81c-5380-b6d6-d879652b7b6a/edit/")
    assert resp.status_code == 403


def test_the_red_hat_platform_filter_finds_a_rhel_image(operator_client, owner_project, make_image):
    rhel = make_image(name="rhel-9", os_distro="rhel")
    resp = operator_client.get("/p/owner/images/cloud/", {"platform": "Red Hat"})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Invalid filter" not in body
    assert rhel.id in body  # IMS spells it "Red Hat" (ims.md §1.1), not "RedHat"
