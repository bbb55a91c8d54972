"""The outbox (what this project shares and who answered) and bulk sharing."""

from __future__ import annotations

import pytest

from imsportal.audit.models import AuditEntry
from tests.sharing.conftest import MARKUP

pytestmark = pytest.mark.django_db
OTHER = "0123456789abcdef0123456789abcdef"


def test_outbox_shows_every_member_status(operator_client, make_image, owner_conn, partner_conn):
    image = make_image(name="outbox-one")
    owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    owner_conn.image.add_member(image, member=OTHER)
    partner_conn.image.update_member(partner_conn.auth.project_id, image, status="accepted")
    body = operator_client.get("/p/owner/images/outbox/").content.decode()
    entry = body.split(f'id="out-{image.id}"')[1].split("</tr>")[0]
    assert "1 of 2 accepted, <strong>1 waiting</strong>" in entry
    assert "member-accepted" in entry
    assert "member-pending" in entry
    assert OTHER in entry
    assert partner_conn.auth.project_id in entry


def test_outbox_escapes_names_and_lists_no_foreign_images(
    operator_client, make_image, partner_conn
):
    make_image(name=MARKUP)
    make_image(name="partner-owned", conn=partner_conn)
    body = operator_client.get("/p/owner/images/outbox/").content.decode()
    assert MARKUP not in body
    assert "&lt;script&gt;" in body
    assert "partner-owned" not in body


def test_outbox_cloud_error_is_a_message(operator_client, owner_project, localcloud):
    localcloud.set_faults(error_status=503, error_count=5, path_prefix="/image/v2/images")
    try:
        resp = operator_client.get("/p/owner/images/outbox/")
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert "HTTP 503" in resp.content.decode()


def bulk_url(*images):
    return "/p/owner/images/share/?" + "&".join(f"image={i.id}" for i in images)


def test_bulk_share_form_names_the_images(operator_client, make_image):
    a, b = make_image(name="bulk-a"), make_image(name="bulk-b", visibility="private")
    body = operator_client.get(bulk_url(a, b)).content.decode()
    assert "Share 2 images" in body
    assert "bulk-a" in body
    assert "bulk-b" in body
    assert "Make private images shared first" in body


def test_bulk_share_gives_a_result_per_image_and_project(
    operator_client, make_image, owner_conn, partner_conn
):
    a, b = make_image(name="bulk-a"), make_image(name="bulk-b", visibility="private")
    ids = f"{partner_conn.auth.project_id}\n{OTHER}"
    resp = operator_client.post(
        "/p/owner/images/share/", {"image": [a.id, b.id], "ids": ids}, follow=True
    )
    body = resp.content.decode()
    assert "2 of 4 shares done." in body
    assert body.count("bulk-b → ") == 2
    assert "make it shared first" in body
    assert {m.member_id for m in owner_conn.image.members(a)} == {
        partner_conn.auth.project_id,
        OTHER,
    }
    resp = operator_client.post(
        "/p/owner/images/share/",
        {"image": [a.id, b.id], "ids": ids, "make_shared": "on"},
        follow=True,
    )
    body = resp.content.decode()
    assert "4 of 4 shares done." in body  # a's two are "already a member"
    assert len(owner_conn.image.members(b)) == 2
    assert AuditEntry.objects.filter(action="image.share", target_id=b.id).count() == 2


def test_bulk_share_empty_post_and_bad_ids_change_nothing(operator_client, make_image, owner_conn):
    a = make_image()
    resp = operator_client.post("/p/owner/images/share/", {"image": [a.id]})
    assert resp.status_code == 200
    assert "Pick a project" in resp.content.decode()
    resp = operator_client.get("/p/owner/images/share/?image=<b>x</b>")
    assert "Not an image id: &lt;b&gt;x&lt;/b&gt;" in resp.content.decode()
    assert owner_conn.image.members(a) == []


def test_bulk_share_reports_unknown_images(operator_client, make_image):
    a = make_image(name="bulk-known")
    missing = "00000000-0000-0000-0000-000000000000"
    body = operator_client.get(f"{bulk_url(a)}&image={missing}").content.decode()
    assert "Share 1 image" in body
    assert missing in body
    assert "Left out" in body


def test_bulk_share_needs_the_operator_role(viewer_client, make_image):
    a = make_image()
    assert viewer_client.get(bulk_url(a)).status_code == 403
    resp = viewer_client.post("/p/owner/images/share/", {"image": [a.id], "ids": OTHER})
    assert resp.status_code == 403


def test_the_image_lists_selection_opens_the_bulk_share_form(operator_client, make_image):
    """The list's "Share…" posts the selected rows; nothing is shared until the form is sent."""
    a, b = make_image(), make_image()
    resp = operator_client.post(
        "/p/owner/images/share/", {"action": "share", "ids": [a.id, b.id], "tag": ""}
    )
    body = resp.content.decode()
    assert resp.status_code == 200
    assert a.name in body
    assert b.name in body
    assert "errorlist" not in body  # an unbound form: no "choose a project" yet


def test_the_list_offers_share_for_rows_and_selections(operator_client, make_image):
    image = make_image()
    body = operator_client.get("/p/owner/images/", {"name": image.name}).content.decode()
    assert f'href="/p/owner/images/{image.id}/members/">Share…</a>' in body
    assert 'formaction="/p/owner/images/share/"' in body
