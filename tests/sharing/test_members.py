"""An image's members page: list by name, share with one or several projects (picked or
pasted), make a private image shared first, stop sharing with a confirmation."""

from __future__ import annotations

import html
import json

import pytest

from imsportal.audit.models import AuditEntry
from tests.sharing.conftest import MARKUP

pytestmark = pytest.mark.django_db


def url(image, suffix=""):
    return f"/p/owner/images/{image.id}/members/{suffix}"


def test_it_lists_members_by_portal_name_with_status_and_dates(
    operator_client, grant, partner_project, offered, partner_conn
):
    grant("op", partner_project)  # a role in partner: the portal may show its name
    body = operator_client.get(url(offered)).content.decode()
    panel = body.split('id="members-panel"')[1]
    assert "partner-project" in panel
    assert partner_conn.auth.project_id in panel
    assert 'class="badge member-pending"' in panel
    assert panel.count("<time") == 2  # created and updated


def test_a_member_unknown_to_the_user_shows_by_id_only(operator_client, offered, partner_conn):
    panel = operator_client.get(url(offered)).content.decode().split('id="members-panel"')[1]
    assert partner_conn.auth.project_id in panel
    assert "partner-project" not in panel  # the operator has no role in partner


def test_share_with_a_pasted_id_and_a_picked_project(
    operator_client, grant, make_image, partner_project, partner_conn, owner_conn
):
    grant("op", partner_project)
    image = make_image()
    other = "0123456789abcdef0123456789abcdef"
    resp = operator_client.post(
        url(image, "add/"),
        {"projects": [partner_conn.auth.project_id], "ids": f"{other},\n"},
        headers={"HX-Request": "true"},
    )
    body = resp.content.decode()
    assert resp.status_code == 200
    assert body.lstrip().startswith('<section id="members-panel"')
    assert json.loads(resp["HX-Trigger"]) == {"membersChanged": {"image": image.id}}
    members = {m.member_id: m.status for m in owner_conn.image.members(image)}
    assert members == {partner_conn.auth.project_id: "pending", other: "pending"}
    results = body.split('class="share-results"')[1].split("</div>")[0]
    assert results.count("shared: pending") == 2
    entries = AuditEntry.objects.filter(action="image.share", target_id=image.id)
    assert entries.count() == 2
    assert all(e.request_id for e in entries)


def test_invalid_and_own_ids_are_field_errors_and_nothing_is_shared(
    operator_client, make_image, owner_conn
):
    image = make_image()
    resp = operator_client.post(url(image, "add/"), {"ids": "ok-id, <b>bad</b>"})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Not a project id: &lt;b&gt;bad&lt;/b&gt;" in body
    resp = operator_client.post(url(image, "add/"), {"ids": owner_conn.auth.project_id})
    assert "own id" in resp.content.decode()
    assert owner_conn.image.members(image) == []


def test_an_empty_share_post_changes_nothing(operator_client, make_image, owner_conn):
    image = make_image()
    resp = operator_client.post(url(image, "add/"))
    assert resp.status_code == 200
    assert "Pick a project or paste a project id." in resp.content.decode()
    assert owner_conn.image.members(image) == []


def test_sharing_twice_reports_the_existing_status(operator_client, offered, partner_conn):
    resp = operator_client.post(url(offered, "add/"), {"ids": partner_conn.auth.project_id})
    assert resp.status_code == 302  # plain POST: redirect with a message per project
    body = operator_client.get(resp["Location"]).content.decode()
    assert "already a member (pending)" in body


def test_a_private_image_offers_to_become_shared_and_share_can_switch_it(
    operator_client, make_image, owner_conn, partner_conn
):
    image = make_image(visibility="private")
    body = operator_client.get(url(image)).content.decode()
    assert "Make it shared" in body
    resp = operator_client.post(url(image, "add/"), {"ids": partner_conn.auth.project_id})
    assert resp.status_code == 302
    assert owner_conn.image.get_image(image).visibility == "private"  # not asked to switch
    resp = operator_client.post(
        url(image, "add/"), {"ids": partner_conn.auth.project_id, "make_shared": "on"}
    )
    assert owner_conn.image.get_image(image).visibility == "shared"
    assert [m.status for m in owner_conn.image.members(image)] == ["pending"]
    assert AuditEntry.objects.filter(action="image.update", target_id=image.id).exists()


def test_make_shared_button_needs_its_field(operator_client, make_image, owner_conn):
    image = make_image(visibility="private")
    operator_client.post(url(image, "make-shared/"))
    assert owner_conn.image.get_image(image).visibility == "private"
    resp = operator_client.post(
        url(image, "make-shared/"), {"visibility": "shared"}, headers={"HX-Request": "true"}
    )
    assert owner_conn.image.get_image(image).visibility == "shared"
    assert "Not shared with any project yet." in resp.content.decode()


def test_stop_sharing_asks_then_removes(operator_client, offered, partner_conn, owner_conn):
    remove = url(offered, f"{partner_conn.auth.project_id}/remove/")
    page = operator_client.get(remove).content.decode()
    assert "Stop sharing" in page
    assert 'name="confirm"' in page
    operator_client.post(remove)  # no confirmation: nothing happens
    assert len(owner_conn.image.members(offered)) == 1
    resp = operator_client.post(remove, {"confirm": "True"})
    assert resp.status_code == 302
    assert owner_conn.image.members(offered) == []
    entry = AuditEntry.objects.get(action="image.unshare", target_id=offered.id)
    assert entry.params == {"member": partner_conn.auth.project_id}
    assert entry.outcome == "success"


def test_viewer_sees_members_but_no_controls_and_may_not_change(
    viewer_client, offered, partner_conn, owner_conn
):
    body = viewer_client.get(url(offered)).content.decode()
    assert "member-pending" in body
    assert "Share with projects" not in body
    assert "Stop sharing" not in body
    assert viewer_client.post(url(offered, "add/"), {"ids": "abc"}).status_code == 403
    remove = url(offered, f"{partner_conn.auth.project_id}/remove/")
    assert viewer_client.post(remove, {"confirm": "True"}).status_code == 403
    assert len(owner_conn.image.members(offered)) == 1


def test_an_unknown_image_is_a_404(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/00000000-0000-0000-0000-000000000000/members/")
    assert resp.status_code == 404


def test_a_cloud_error_while_sharing_is_reported_per_project_and_audited(
    operator_client, offered, localcloud, owner_conn
):
    localcloud.set_faults(
        error_status=503, error_count=5, path_prefix=f"/image/v2/images/{offered.id}/members"
    )
    try:
        resp = operator_client.post(
            url(offered, "add/"),
            {"ids": "aaaabbbbccccdddd0000111122223333"},
            headers={"HX-Request": "true"},
        )
    finally:
        localcloud.clear_faults()
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "failed" in body
    assert "503" in body
    entry = AuditEntry.objects.get(action="image.share", target_id=offered.id)
    assert entry.outcome == "failure"


def test_a_cloud_error_on_the_page_is_a_message_not_a_500(operator_client, offered, localcloud):
    localcloud.set_faults(error_status=503, error_count=5, path_prefix="/image/v2/images/")
    try:
        resp = operator_client.get(url(offered))
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert 'role="alert"' in resp.content.decode()


def test_markup_in_names_and_member_ids_is_escaped(operator_client, make_image, owner_conn):
    image = make_image(name=MARKUP)
    owner_conn.image.add_member(image, member="<i>evil</i>")
    body = operator_client.get(url(image)).content.decode()
    assert MARKUP not in body
    assert "<i>evil</i>" not in body
    assert html.escape(MARKUP) in body.replace("&#x27;", "'")
    assert "&lt;i&gt;evil&lt;/i&gt;" in body


def test_markup_in_a_member_id_on_the_confirmation_page_is_escaped(operator_client, offered):
    # (A "/" cannot be part of the URL's member id, so no closing tag here.)
    body = operator_client.get(url(offered, "%3Cimg%20src=x%22%3E/remove/")).content.decode()
    assert '<img src=x">' not in body
    assert "&lt;img src=x&quot;&gt;" in body
    assert "nothing to stop" in body


def test_htmx_stop_sharing_returns_the_panel(operator_client, offered, partner_conn, owner_conn):
    remove = url(offered, f"{partner_conn.auth.project_id}/remove/")
    resp = operator_client.post(remove, {"confirm": "True"}, headers={"HX-Request": "true"})
    assert resp.content.decode().lstrip().startswith('<section id="members-panel"')
    assert "Stopped sharing with" in resp.content.decode()  # the out-of-band message
    assert "membersChanged" in json.loads(resp["HX-Trigger"])
    assert owner_conn.image.members(offered) == []


def test_htmx_share_when_the_image_cannot_be_read_redirects_the_page(
    operator_client, offered, localcloud
):
    localcloud.set_faults(
        error_status=503, error_count=5, path_prefix=f"/image/v2/images/{offered.id}"
    )
    try:
        resp = operator_client.post(
            url(offered, "add/"), {"ids": "abcdef"}, headers={"HX-Request": "true"}
        )
    finally:
        localcloud.clear_faults()
    assert resp["HX-Redirect"] == url(offered)
    assert "HTTP 503" in operator_client.get(url(offered)).content.decode()


def test_projects_on_other_clouds_are_not_resolved(
    operator_client, grant, offered, monkeypatch, localcloud
):
    from images import sharing
    from tests.conftest import make_project

    far = make_project(localcloud, "far", auth_url="http://localhost:9/identity/v3")
    grant("op", far)
    asked = []
    real = sharing.connection_for
    monkeypatch.setattr(sharing, "connection_for", lambda p: asked.append(p.slug) or real(p))
    assert operator_client.get(url(offered)).status_code == 200
    assert "far" not in asked
    assert "owner" in asked
