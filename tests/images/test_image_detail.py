"""The image page: every attribute, owner names, tags, jobs, 404s, escaping, cloud errors."""

from __future__ import annotations

import uuid

import pytest

from jobs.models import Job

pytestmark = pytest.mark.django_db
CIRROS = "8ec93389-e81c-5380-b6d6-d879652b7b6a"  # seeded; read only here


def test_it_shows_every_attribute(operator_client, owner_project):
    resp = operator_client.get(f"/p/owner/images/{CIRROS}/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "cirros-0.6.2" in body
    # size human readable with the exact bytes on hover
    assert '<span title="65,536 bytes" class="size">64.0' in body
    assert "74e4327d42ba382199d3471d17dd7366" in body  # checksum
    assert "Hash (sha512)" in body
    assert "33d8ce46551b8e9a" in body
    assert "<dt><bdi>os_distro</bdi></dt><dd><bdi>cirros</bdi></dd>" in body
    # the owner is named by the portal project whose credentials own it
    assert "owner-project</span>" in body
    assert "demo" in body  # tag
    assert '<section id="members-panel"' in body  # the members panel of the sharing pages
    assert "UTC" in body  # times carry their zone


def test_it_shows_ims_properties_and_jobs(operator_client, owner_project, make_image):
    image = make_image(__note="from-ims-side")
    Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title="up-1", image_id=image.id)
    Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title="other", image_id="x")
    body = operator_client.get(f"/p/owner/images/{image.id}/").content.decode()
    assert "IMS properties" in body
    assert "<code><bdi>__note</bdi></code>" in body
    assert "from-ims-side" in body
    assert "up-1" in body
    assert "other" not in body
    assert 'class="badge status-queued"' in body or "status-" in body


def test_unknown_id_is_a_404_page(operator_client, owner_project):
    resp = operator_client.get(f"/p/owner/images/{uuid.uuid4()}/")
    assert resp.status_code == 404
    assert "Not found" in resp.content.decode()


def test_not_a_uuid_is_a_404(operator_client, owner_project):
    assert operator_client.get("/p/owner/images/not-an-id/").status_code == 404


def test_viewer_sees_no_change_controls(viewer_client, owner_project):
    body = viewer_client.get(f"/p/owner/images/{CIRROS}/").content.decode()
    assert "cirros-0.6.2" in body
    assert "Edit</a>" not in body
    assert "Delete…" not in body
    assert 'name="tag"' not in body


def test_operator_sees_change_controls(operator_client, owner_project):
    body = operator_client.get(f"/p/owner/images/{CIRROS}/").content.decode()
    assert f"/p/owner/images/{CIRROS}/edit/" in body
    assert "data-confirm=" in body
    assert "Delete…" in body


def test_names_in_the_list_link_here(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/", {"name": "cirros-0.6.2"}).content.decode()
    assert f'href="/p/owner/images/{CIRROS}/"' in body


def test_a_failing_cloud_is_a_readable_page(operator_client, owner_project, localcloud):
    operator_client.get("/p/owner/images/")  # signed in before the fault
    localcloud.set_faults(error_status=500, error_count=1, path_prefix="/image/v2/images/")
    try:
        resp = operator_client.get(f"/p/owner/images/{CIRROS}/")
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert "HTTP 500" in resp.content.decode()


def test_markup_in_name_tag_and_property_is_escaped(operator_client, owner_project, make_image):
    image = make_image(name="<b>bold</b>", tags=["<i>t</i>"], note="<script>x</script>")
    pages = [
        f"/p/owner/images/{image.id}/",
        f"/p/owner/images/{image.id}/edit/",
        f"/p/owner/images/{image.id}/delete/",
        f"/p/owner/images/{image.id}/tags/",
        "/p/owner/images/?name=%3Cb%3Ebold%3C%2Fb%3E",
        "/p/owner/images/find/?q=bold",
        "/p/owner/images/cloud/?name=%3Cb%3Ebold%3C%2Fb%3E",
        f"/p/owner/images/cloud/{image.id}/edit/",
    ]
    for path in pages:
        body = operator_client.get(path).content.decode()
        assert "<b>bold</b>" not in body, path
        assert "<i>t</i>" not in body, path
        assert "<script>x</script>" not in body, path
        assert "&lt;b&gt;bold&lt;/b&gt;" in body, path
    # the bulk confirmation page and the htmx tag fragment too
    body = operator_client.post(
        "/p/owner/images/bulk/", {"ids": [image.id], "action": "delete"}
    ).content.decode()
    assert "<b>bold</b>" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    body = operator_client.post(
        f"/p/owner/images/{image.id}/tags/", {"tag": "<u>u</u>"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<u>u</u>" not in body
    assert "&lt;u&gt;u&lt;/u&gt;" in body


def test_another_projects_image_shows_no_change_controls(
    operator_client, owner_project, localcloud, cloud_conn
):
    from imsportal.cloudapi import Connection

    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    theirs = partner.image.upload_image(
        "bare", "raw", b"p", name="theirs", visibility="shared", tags=["x"]
    )
    try:
        partner.image.add_member(theirs, member=cloud_conn.auth.project_id)
        body = operator_client.get(f"/p/owner/images/{theirs.id}/").content.decode()
        assert "theirs" in body
        assert f"/p/owner/images/{theirs.id}/edit/" not in body
        assert "Delete…" not in body
        assert "Remove tag x" not in body
        assert f'<code title="project id">{partner.auth.project_id}</code>' in body
    finally:
        partner.image.delete_image(theirs.id)
