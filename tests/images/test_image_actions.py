"""Edit, delete (with unprotect), deactivate/reactivate and tags: real calls to the local
cloud, audited, refusing empty POSTs, htmx fragments and the no-JS paths."""

from __future__ import annotations

import json
import re

import pytest
import requests

from imsportal.audit.models import AuditEntry
from imsportal.cloudapi import NotFoundError

pytestmark = pytest.mark.django_db


def edit_data(image, **changes):
    data = {
        "name": image.name,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "visibility": image.visibility,
        "os_distro": image.properties.get("os_distro", ""),
        "os_version": image.properties.get("os_version", ""),
        "properties": "",
    }
    if image.is_protected:
        data["protected"] = "on"
    data.update(changes)
    return data


@pytest.fixture
def count_calls(monkeypatch):
    calls: list[str] = []
    real_send = requests.Session.send

    def counting_send(self, request, **kwargs):
        calls.append(request.method)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    return calls


# --- edit -------------------------------------------------------------------------------------
def test_edit_sends_every_change_in_one_patch(
    operator_client, owner_project, make_image, cloud_conn, count_calls
):
    image = make_image(keep="1", drop="2")
    data = edit_data(
        image,
        name="renamed",
        min_disk="3",
        min_ram="512",
        visibility="shared",
        hidden="on",
        os_distro="debian",
        os_version="12",
        properties="keep=changed\nnew=3",
    )
    resp = operator_client.post(f"/p/owner/images/{image.id}/edit/", data)
    assert resp.status_code == 302
    assert count_calls.count("PATCH") == 1
    after = cloud_conn.image.get_image(image.id)
    assert (after.name, after.min_disk, after.min_ram) == ("renamed", 3, 512)
    assert after.visibility == "shared"
    assert after.is_hidden
    assert after.properties["os_distro"] == "debian"
    assert after.properties["os_version"] == "12"
    assert after.properties["keep"] == "changed"
    assert after.properties["new"] == "3"
    assert "drop" not in after.properties
    entry = AuditEntry.objects.get(action="image.update", target_id=image.id)
    assert entry.outcome == "success"
    assert entry.request_id.startswith("req-")
    assert entry.params["changes"]["drop"] is None


def test_edit_form_is_prefilled(operator_client, owner_project, make_image):
    image = make_image(name="prefill-me", colour="blue", os_distro="alpine")
    body = operator_client.get(f"/p/owner/images/{image.id}/edit/").content.decode()
    assert 'value="prefill-me"' in body
    assert "colour=blue" in body
    assert 'value="alpine"' in body


def test_read_only_attribute_shows_the_clouds_message(
    operator_client, owner_project, make_image, cloud_conn
):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/edit/", edit_data(image, properties="checksum=abc")
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Attribute &#x27;checksum&#x27; is read-only." in body
    # shown at the properties box it came from, not only at the top
    assert re.search(r"checksum&#x27; is read-only.*?</ul>\s*<textarea", body, re.S)
    assert "HTTP 403" in body
    assert AuditEntry.objects.get(action="image.update").outcome == "failure"
    assert cloud_conn.image.get_image(image.id).checksum != "abc"


def test_unchanged_form_makes_no_call(operator_client, owner_project, make_image, count_calls):
    image = make_image()
    resp = operator_client.post(f"/p/owner/images/{image.id}/edit/", edit_data(image))
    assert resp.status_code == 302
    assert "PATCH" not in count_calls
    assert not AuditEntry.objects.filter(action="image.update").exists()


def test_invalid_edit_is_a_field_error(operator_client, owner_project, make_image):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/edit/", edit_data(image, min_disk="-1", properties="novalue")
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "greater than or equal to 0" in body
    assert "Line 1 is not key=value." in body


def test_viewer_may_not_edit(viewer_client, owner_project, make_image, cloud_conn):
    image = make_image(name="keep-name")
    resp = viewer_client.post(f"/p/owner/images/{image.id}/edit/", edit_data(image, name="x"))
    assert resp.status_code == 403
    assert cloud_conn.image.get_image(image.id).name == "keep-name"


# --- delete -----------------------------------------------------------------------------------
def test_unconfirmed_delete_shows_the_confirmation(
    operator_client, owner_project, make_image, cloud_conn
):
    image = make_image(name="doomed")
    resp = operator_client.post(f"/p/owner/images/{image.id}/delete/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Delete image “" in body
    assert "doomed" in body
    assert 'name="confirm" value="yes"' in body
    assert cloud_conn.image.get_image(image.id).status == "active"


def test_confirmed_delete_deletes_and_audits(
    operator_client, owner_project, make_image, cloud_conn
):
    image = make_image(name="doomed")
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/delete/", {"confirm": "yes"}, follow=True
    )
    assert resp.redirect_chain[-1][0] == "/p/owner/images/"
    assert "Deleted image “doomed”." in resp.content.decode()
    with pytest.raises(NotFoundError):
        cloud_conn.image.get_image(image.id)
    entry = AuditEntry.objects.get(action="image.delete")
    assert entry.target_name == "doomed"
    assert entry.request_id


def test_htmx_delete_redirects_on_the_client(operator_client, owner_project, make_image):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/delete/", {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200
    assert resp["HX-Redirect"] == "/p/owner/images/"


def test_protected_image_explains_and_offers_to_unprotect(
    operator_client, owner_project, make_image, cloud_conn
):
    image = make_image(protected=True)
    resp = operator_client.post(f"/p/owner/images/{image.id}/delete/", {"confirm": "yes"})
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "protected" in body
    assert "Remove protection" in body
    assert cloud_conn.image.get_image(image.id).is_protected
    assert not AuditEntry.objects.filter(action="image.delete").exists()
    # an empty POST does not unprotect; a confirmed one does, then back to the confirmation
    operator_client.post(f"/p/owner/images/{image.id}/unprotect/")
    assert cloud_conn.image.get_image(image.id).is_protected
    resp = operator_client.post(f"/p/owner/images/{image.id}/unprotect/", {"confirm": "yes"})
    assert resp["Location"] == f"/p/owner/images/{image.id}/delete/"
    assert not cloud_conn.image.get_image(image.id).is_protected


# --- deactivate / reactivate ----------------------------------------------------------------
def test_deactivate_and_reactivate(operator_client, owner_project, make_image, cloud_conn):
    image = make_image()
    url = f"/p/owner/images/{image.id}/"
    resp = operator_client.post(url + "deactivate/")  # unconfirmed: a question, no change
    assert resp.status_code == 200
    assert "Deactivate image “" in resp.content.decode()
    assert cloud_conn.image.get_image(image.id).status == "active"
    resp = operator_client.post(url + "deactivate/", {"confirm": "yes"}, follow=True)
    assert cloud_conn.image.get_image(image.id).status == "deactivated"
    assert "Deactivated image" in resp.content.decode()
    assert "Reactivate" in resp.content.decode()
    operator_client.post(url + "reactivate/", {"confirm": "yes"})
    assert cloud_conn.image.get_image(image.id).status == "active"
    actions = list(
        AuditEntry.objects.exclude(action="login").values_list("action", flat=True).order_by("at")
    )
    assert actions == ["image.deactivate", "image.reactivate"]


# --- tags ---------------------------------------------------------------------------------------
def test_htmx_add_tag_returns_chips_and_an_event(
    operator_client, owner_project, make_image, cloud_conn
):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/tags/", {"tag": "web"}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert body.lstrip().startswith(f'<div class="tags" id="tags-{image.id}">')
    assert "<html" not in body
    assert "><bdi>web</bdi></span>" in body
    assert json.loads(resp["HX-Trigger"]) == {"tagsChanged": {"id": image.id, "tags": ["web"]}}
    assert 'role="status"><bdi>Added tag web.</bdi></p>' in body
    assert cloud_conn.image.get_image(image.id).tags == ["web"]
    assert AuditEntry.objects.get(action="image.tag.add").params == {"tag": "web"}


def test_htmx_remove_tag(operator_client, owner_project, make_image, cloud_conn):
    image = make_image(tags=["a", "b"])
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/tags/remove/", {"tag": "a"}, headers={"HX-Request": "true"}
    )
    assert json.loads(resp["HX-Trigger"])["tagsChanged"]["tags"] == ["b"]
    assert cloud_conn.image.get_image(image.id).tags == ["b"]


@pytest.mark.parametrize(
    ("tag", "error"),
    [
        ("", "This field is required."),
        ("x" * 256, "at most 255 characters"),
        ("dup", "already has this tag"),
    ],
)
def test_invalid_tags_get_a_field_error(operator_client, owner_project, make_image, tag, error):
    image = make_image(tags=["dup"])
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/tags/", {"tag": tag}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200
    assert error in resp.content.decode()
    assert "HX-Trigger" not in resp
    # without JS: the same error on a page of its own
    resp = operator_client.post(f"/p/owner/images/{image.id}/tags/", {"tag": tag})
    assert resp.status_code == 200
    assert error in resp.content.decode()


def test_no_js_tag_add_redirects_back(operator_client, owner_project, make_image, cloud_conn):
    image = make_image()
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/tags/",
        {"tag": "x1", "next": "/p/owner/images/?scope=all"},
        follow=True,
    )
    assert resp.redirect_chain[-1][0] == "/p/owner/images/?scope=all"
    assert "Added tag “x1”" in resp.content.decode()
    # an off-site next is ignored
    resp = operator_client.post(
        f"/p/owner/images/{image.id}/tags/", {"tag": "x2", "next": "https://evil.example/"}
    )
    assert resp["Location"] == f"/p/owner/images/{image.id}/"
    assert sorted(cloud_conn.image.get_image(image.id).tags) == ["x1", "x2"]


def test_viewer_may_not_tag(viewer_client, owner_project, make_image, cloud_conn):
    image = make_image()
    assert viewer_client.post(f"/p/owner/images/{image.id}/tags/", {"tag": "v"}).status_code == 403
    assert cloud_conn.image.get_image(image.id).tags == []
