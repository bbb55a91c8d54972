"""Property suggestions from the cloud's metadata definitions, values checked before the call,
and no suggestions (but a working form) where the cloud serves none."""

from __future__ import annotations

import pytest
import requests

from images import metadefs
from imsportal.cloudapi import NotFoundError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_definitions():
    metadefs.reset()
    yield
    metadefs.reset()


def edit_data(image, **changes):
    data = {
        "name": image.name,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "visibility": image.visibility,
        "properties": "",
    }
    data.update(changes)
    return data


def test_the_client_reads_image_properties(cloud_conn):
    found = cloud_conn.image.metadef_properties("OS::Glance::Image")
    assert found["hw_disk_bus"]["enum"][:2] == ["scsi", "virtio"]
    assert found["hw_disk_bus"]["namespace"] == "OS::Compute::LibvirtImage"


def test_the_edit_form_suggests_keys(operator_client, owner_project, make_image):
    image = make_image()
    body = operator_client.get(f"/p/owner/images/{image.id}/edit/").content.decode()
    assert '<datalist id="metadef-keys">' in body
    assert '<option value="hw_disk_bus">' in body
    assert 'list="metadef-keys"' in body


def test_a_value_outside_the_enum_is_refused_before_the_call(
    operator_client, owner_project, make_image, cloud_conn, monkeypatch
):
    image = make_image()
    operator_client.get(f"/p/owner/images/{image.id}/edit/")  # definitions cached
    sent = []
    real_send = requests.Session.send

    def spy(self, request, **kwargs):
        sent.append(request.method)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/edit/",
        edit_data(image, new_key="hw_disk_bus", new_value="floppy"),
    )
    assert resp.status_code == 200
    assert "hw_disk_bus must be one of: scsi, virtio" in resp.content.decode()
    assert "PATCH" not in sent
    assert "hw_disk_bus" not in cloud_conn.image.get_image(image.id).properties


def test_a_new_property_is_added(operator_client, owner_project, make_image, cloud_conn):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/edit/",
        edit_data(image, new_key="hw_disk_bus", new_value="virtio"),
    )
    assert resp.status_code == 302
    assert cloud_conn.image.get_image(image.id).properties["hw_disk_bus"] == "virtio"


def test_a_cloud_without_metadefs_gives_a_plain_form(
    operator_client, owner_project, make_image, cloud_conn, monkeypatch
):
    from imsportal.cloudapi.metadefs import ImageMetadefs

    def not_served(self, *args, **kwargs):
        raise NotFoundError("The resource could not be found.", status_code=404)

    monkeypatch.setattr(ImageMetadefs, "metadef_properties", not_served)
    image = make_image()
    body = operator_client.get(f"/p/owner/images/{image.id}/edit/").content.decode()
    assert 'metadef-keys">' not in body
    assert "datalist" not in body
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/edit/",
        edit_data(image, new_key="hw_disk_bus", new_value="anything"),
    )
    assert resp.status_code == 302
    assert cloud_conn.image.get_image(image.id).properties["hw_disk_bus"] == "anything"


@pytest.mark.parametrize(
    ("value", "definition", "problem"),
    [
        ("x", {"type": "integer"}, "a whole number"),
        ("0", {"type": "integer", "minimum": 1}, "at least 1"),
        ("maybe", {"type": "boolean"}, "true or false"),
        ("ok", {"type": "string", "enum": ["ok"]}, None),
        ("12345", {"type": "string", "maxLength": 3}, "at most 3 characters"),
    ],
)
def test_checks(value, definition, problem):
    result = metadefs.check("k", value, definition)
    assert (result is None) if problem is None else (problem in result)
