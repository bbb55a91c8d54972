"""Exact inbox counts with 150 offers pending for partner-project AND 150 shared images
that partner-project owns itself (Glance's member_status list returns those too)."""

from __future__ import annotations

import re
import time

import pytest

from imsportal.cloudapi import Connection

pytestmark = pytest.mark.django_db
INBOX = "/p/partner/images/shared/"
N = 150


@pytest.fixture(scope="module")
def crowd(localcloud):
    """150 offers from owner to partner and 150 of partner's own shared images; records
    only (no data), so it takes a few seconds."""
    owner = Connection.from_config(localcloud.cloud_config("owner", "owner-project"))
    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    made = []
    for n in range(N):
        offer = owner.image.create_image(
            name=f"crowd-offer-{n:03}", disk_format="raw", container_format="bare"
        )
        made.append((owner, offer))
        owner.image.add_member(offer, member=partner.auth.project_id)
        own = partner.image.create_image(
            name=f"crowd-own-{n:03}", disk_format="raw", container_format="bare"
        )
        made.append((partner, own))
    yield owner, partner
    for conn, image in made:
        conn.image.delete_image(image)


@pytest.fixture
def approver(client, make_user, partner_project):
    client.force_login(make_user("appr", "approver", project=partner_project))
    return client


def counts(body: str) -> dict[str, str]:
    return dict(
        re.findall(r">(Pending|Accepted|Rejected) <span class=\"count\">\((\d+\+?)\)", body)
    )


def test_counts_are_exact_and_the_list_pages(approver, crowd):
    start = time.monotonic()
    body = approver.get(INBOX).content.decode()
    assert counts(body) == {"Pending": "150", "Accepted": "0", "Rejected": "0"}
    assert "Page 1 of 8" in body
    assert body.split("<tbody>")[1].count("<tr>") == 20
    assert "crowd-own-" not in body
    last = approver.get(INBOX, {"status": "pending", "page": 8}).content.decode()
    assert last.split("<tbody>")[1].count("<tr>") == 10
    assert "Next →" not in last
    assert "← Previous" in last
    assert time.monotonic() - start < 20


def test_the_pages_hold_every_offer_once(approver, crowd):
    seen = []
    for page in range(1, 9):
        body = approver.get(INBOX, {"page": page}).content.decode()
        seen += re.findall(r'class="image-name" title="(crowd-offer-\d{3})"', body)
    assert len(seen) == N
    assert len(set(seen)) == N


def test_a_bounded_scan_says_the_count_is_a_lower_bound(crowd):
    from images.sharing import scan_offers

    _owner, partner = crowd
    full = scan_offers(partner, "pending")
    assert (full.count, full.complete, full.calls) == (N, True, 1)
    # One call of 1000 covers 300 images; a scan limited to pages of 100 stops early.
    import images.sharing as sharing

    original = sharing.SCAN_PAGE
    sharing.SCAN_PAGE = 100
    try:
        partial = scan_offers(partner, "pending", max_pages=2)
    finally:
        sharing.SCAN_PAGE = original
    assert partial.complete is False
    assert partial.calls == 2
    assert partial.count < N


def test_the_badge_counts_them(approver, crowd):
    body = approver.get("/inbox/badge/").content.decode()
    assert ">150<" in body


def test_accept_one_moves_exactly_one(approver, crowd):
    _owner, partner = crowd
    offer = next(partner.image.images(name="crowd-offer-007", member_status="pending"))
    try:
        approver.post("/p/partner/images/shared/answer/", {"image": offer.id, "status": "accepted"})
        body = approver.get(INBOX).content.decode()
        assert counts(body) == {"Pending": "149", "Accepted": "1", "Rejected": "0"}
    finally:
        partner.image.update_member(partner.auth.project_id, offer, status="pending")
