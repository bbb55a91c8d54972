"""The project's shared-with-me inbox: tabs by member status, accept and reject per row and
in bulk (htmx and plain POST), approver role, cloud errors, escaping."""

from __future__ import annotations

import json

import pytest

from imsportal.audit.models import AuditEntry
from tests.sharing.conftest import MARKUP

pytestmark = pytest.mark.django_db
INBOX = "/p/partner/images/shared/"
ANSWER = "/p/partner/images/shared/answer/"


@pytest.fixture
def approver(client, make_user, partner_project):
    client.force_login(make_user("appr", "approver", project=partner_project))
    return client


def status_of(partner_conn, image) -> str:
    return partner_conn.image.get_member(partner_conn.auth.project_id, image).status


def tab(body: str, name: str) -> str:
    return body.split(f'>{name} <span class="count">(')[1].split(")")[0]


def test_pending_offer_is_listed_with_owner_size_format_and_date(approver, offered):
    body = approver.get(INBOX).content.decode()
    assert tab(body, "Pending") == "1"
    assert tab(body, "Accepted") == "0"
    rows = body.split("<tbody>")[1]
    assert offered.name in rows
    assert offered.owner in rows
    assert "qcow2/bare" in rows
    assert "<time datetime=" in rows  # the date offered (the member's created_at)
    assert "Glance hides <strong>pending</strong>" in body


def test_accept_one_with_htmx_returns_the_inbox_and_an_event(approver, offered, partner_conn):
    resp = approver.post(
        ANSWER,
        {"image": offered.id, "status": "accepted", "tab": "pending"},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert body.lstrip().startswith('<div id="inbox">')
    assert "inboxChanged" in json.loads(resp["HX-Trigger"])
    assert 'hx-swap-oob="innerHTML"' in body
    assert "Accepted 1" in body
    assert tab(body, "Pending") == "0"
    assert tab(body, "Accepted") == "1"
    assert status_of(partner_conn, offered) == "accepted"
    entry = AuditEntry.objects.get(action="image.accept", target_id=offered.id)
    assert entry.target_name == offered.name
    assert entry.request_id
    assert entry.outcome == "success"


def test_reject_with_a_plain_post_redirects_with_a_message(approver, offered, partner_conn):
    resp = approver.post(ANSWER, {"image": offered.id, "status": "rejected", "tab": "pending"})
    assert resp.status_code == 302
    assert resp["Location"] == f"{INBOX}?status=pending&page=1"
    assert status_of(partner_conn, offered) == "rejected"
    body = approver.get(resp["Location"]).content.decode()
    assert "Rejected 1" in body
    assert tab(body, "Rejected") == "1"
    assert AuditEntry.objects.filter(action="image.reject", target_id=offered.id).exists()


def test_re_accept_from_the_rejected_tab(approver, offered, partner_conn):
    partner_conn.image.update_member(partner_conn.auth.project_id, offered, status="rejected")
    body = approver.get(INBOX, {"status": "rejected"}).content.decode()
    assert "Accept again" in body
    assert offered.name in body
    approver.post(ANSWER, {"image": offered.id, "status": "accepted", "tab": "rejected"})
    assert status_of(partner_conn, offered) == "accepted"


def test_bulk_accept_of_selected_rows_reports_each(approver, make_image, owner_conn, partner_conn):
    images = [make_image() for _ in range(3)]
    for image in images:
        owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    chosen = [images[0].id, images[2].id]
    resp = approver.post(ANSWER, {"image": chosen, "status": "accepted"}, follow=True)
    body = resp.content.decode()
    assert "Accepted 2" in body
    assert [status_of(partner_conn, i) for i in images] == ["accepted", "pending", "accepted"]


def test_accept_all_pending(approver, make_image, owner_conn, partner_conn):
    images = [make_image() for _ in range(3)]
    for image in images:
        owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    approver.post(ANSWER, {"every": "pending", "status": "accepted"})
    assert {status_of(partner_conn, i) for i in images} == {"accepted"}


def test_an_empty_post_changes_nothing(approver, offered, partner_conn):
    resp = approver.post(ANSWER, follow=True)
    assert "Nothing changed" in resp.content.decode()
    assert status_of(partner_conn, offered) == "pending"


def test_a_viewer_sees_offers_but_may_not_answer(client, make_user, partner_project, offered):
    client.force_login(make_user("v", "viewer", project=partner_project))
    body = client.get(INBOX).content.decode()
    assert offered.name in body
    assert "Accept" not in body.split("<tbody>")[1]
    assert client.post(ANSWER, {"image": offered.id, "status": "accepted"}).status_code == 403


def test_an_operator_is_not_an_approver(client, make_user, partner_project, offered):
    client.force_login(make_user("o", "operator", project=partner_project))
    assert client.post(ANSWER, {"image": offered.id, "status": "accepted"}).status_code == 403


def test_owner_does_not_see_its_own_shared_images(operator_client, offered):
    body = operator_client.get("/p/owner/images/shared/").content.decode()
    assert tab(body, "Pending") == "0"
    assert offered.name not in body


def test_a_cloud_error_while_answering_is_a_message_and_audited(
    approver, offered, partner_conn, localcloud
):
    localcloud.set_faults(
        error_status=503, error_count=5, path_prefix=f"/image/v2/images/{offered.id}/members"
    )
    try:
        resp = approver.post(ANSWER, {"image": offered.id, "status": "accepted"})
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 302
    body = approver.get(resp["Location"]).content.decode()
    assert "HTTP 503" in body
    assert status_of(partner_conn, offered) == "pending"
    entry = AuditEntry.objects.get(action="image.accept", target_id=offered.id)
    assert entry.outcome == "failure"


def test_a_cloud_error_on_the_inbox_is_a_message_not_a_500(approver, localcloud):
    localcloud.set_faults(error_status=503, error_count=5, path_prefix="/image/v2/images")
    try:
        resp = approver.get(INBOX)
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert "HTTP 503" in resp.content.decode()


def test_markup_in_an_offered_name_is_escaped(approver, make_image, owner_conn, partner_conn):
    image = make_image(name=MARKUP)
    owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    body = approver.get(INBOX).content.decode()
    assert MARKUP not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_htmx_tab_switch_renders_only_the_inbox(approver, offered):
    resp = approver.get(INBOX, {"status": "accepted"}, headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert body.lstrip().startswith('<div id="inbox">')
    assert "No accepted offers." in body
    assert resp["Vary"]
    assert "HX-Request" in resp["Vary"]


def test_accept_all_is_bounded_and_says_so(
    approver, make_image, owner_conn, partner_conn, monkeypatch
):
    from images.views import inbox

    monkeypatch.setattr(inbox, "MAX_ANSWER_ALL", 2)
    images = [make_image() for _ in range(3)]
    for image in images:
        owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    body = approver.post(ANSWER, {"every": "pending", "status": "accepted"}, follow=True)
    assert "2 of 3 answered at once; answer again for the rest." in body.content.decode()
    assert sorted(status_of(partner_conn, i) for i in images) == [
        "accepted",
        "accepted",
        "pending",
    ]
