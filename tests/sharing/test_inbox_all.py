"""One inbox across projects (/inbox/) and the navigation badge."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_way(make_image, owner_conn, partner_conn):
    """One offer owner → partner and one partner → owner."""
    to_partner = make_image(name="to-partner")
    owner_conn.image.add_member(to_partner, member=partner_conn.auth.project_id)
    to_owner = make_image(name="to-owner", conn=partner_conn)
    partner_conn.image.add_member(to_owner, member=owner_conn.auth.project_id)
    return to_partner, to_owner


@pytest.fixture
def approver_both(client, make_user, owner_project, partner_project, grant):
    make_user("both", "approver")  # in owner
    grant("both", partner_project, "approver")
    client.force_login(_user("both"))
    return client


def _user(name):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)


def test_it_groups_every_pending_offer_by_project(approver_both, two_way):
    body = approver_both.get("/inbox/").content.decode()
    owner_part = body.split('id="group-owner"')[1].split("</section>")[0]
    partner_part = body.split('id="group-partner"')[1].split("</section>")[0]
    assert "to-owner" in owner_part
    assert "to-partner" not in owner_part
    assert "to-partner" in partner_part
    assert "to-owner" not in partner_part
    # Each row acts in its own project.
    assert 'action="/p/partner/images/shared/answer/"' in partner_part
    assert 'action="/p/owner/images/shared/answer/"' in owner_part
    assert "(2 pending)" in body


def test_accepting_from_it_acts_in_that_project_and_returns(approver_both, two_way, partner_conn):
    to_partner, _ = two_way
    resp = approver_both.post(
        "/p/partner/images/shared/answer/",
        {"image": to_partner.id, "status": "accepted", "next": "all"},
    )
    assert resp.status_code == 302
    assert resp["Location"] == "/inbox/"
    member = partner_conn.image.get_member(partner_conn.auth.project_id, to_partner)
    assert member.status == "accepted"
    body = approver_both.get("/inbox/").content.decode()
    assert "(1 pending)" in body
    assert "Accepted 1" in body


def test_htmx_answer_from_it_refreshes_the_page(approver_both, two_way):
    _, to_owner = two_way
    resp = approver_both.post(
        "/p/owner/images/shared/answer/",
        {"image": to_owner.id, "status": "rejected", "next": "all"},
        headers={"HX-Request": "true"},
    )
    assert resp["HX-Refresh"] == "true"


def test_the_badge_counts_all_approver_projects_and_refreshes_after_an_answer(
    approver_both, two_way
):
    assert ">2<" in approver_both.get("/inbox/badge/").content.decode()
    _, to_owner = two_way
    approver_both.post(
        "/p/owner/images/shared/answer/", {"image": to_owner.id, "status": "accepted"}
    )
    assert ">1<" in approver_both.get("/inbox/badge/").content.decode()


def test_only_projects_where_the_user_is_approver_are_listed(
    client, make_user, partner_project, grant, two_way
):
    make_user("mixed", "viewer")  # viewer in owner
    grant("mixed", partner_project, "approver")
    client.force_login(_user("mixed"))
    body = client.get("/inbox/").content.decode()
    assert 'id="group-partner"' in body
    assert 'id="group-owner"' not in body
    assert "to-owner" not in body
    assert ">1<" in client.get("/inbox/badge/").content.decode()


def test_a_user_approver_nowhere_gets_an_explanation_and_no_badge(viewer_client, two_way):
    assert "not an approver in any project" in viewer_client.get("/inbox/").content.decode()
    assert viewer_client.get("/inbox/badge/").content.decode().strip() == ""


def test_a_failing_project_shows_its_error_and_the_others_still_list(
    approver_both, two_way, owner_project
):
    owner_project.password = "wrong"
    owner_project.save()
    body = approver_both.get("/inbox/").content.decode()
    owner_part = body.split('id="group-owner"')[1].split("</section>")[0]
    assert 'role="alert"' in owner_part
    assert "HTTP 401" in owner_part
    assert "to-partner" in body


def test_the_nav_loads_the_badge_with_htmx(approver_both, owner_project):
    body = approver_both.get("/p/owner/images/shared/").content.decode()
    assert 'hx-get="/inbox/badge/"' in body
    assert 'hx-trigger="load, inboxChanged from:body"' in body


def test_sharing_through_the_portal_refreshes_the_member_projects_badge(
    client, make_user, partner_project, grant, make_image, partner_conn
):
    make_user("sharer", "operator")
    grant("sharer", partner_project, "approver")
    client.force_login(_user("sharer"))
    assert client.get("/inbox/badge/").content.decode().strip() == ""  # 0, now cached
    image = make_image()
    client.post(f"/p/owner/images/{image.id}/members/add/", {"ids": partner_conn.auth.project_id})
    assert ">1<" in client.get("/inbox/badge/").content.decode()
