"""The "Shared with me" page shows what other projects offer, grouped by member status."""

import io

import pytest

from imsportal.cloudapi import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered_image(localcloud):
    owner = Connection.from_config(localcloud.cloud_config("owner", "owner-project"))
    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    image = owner.image.upload_image(
        "bare", "raw", io.BytesIO(b"x" * 4096), name="offered-to-partner", visibility="shared"
    )
    owner.image.add_member(image, member=partner.auth.project_id)
    yield image, owner, partner
    owner.image.delete_image(image)


def test_partner_sees_a_pending_offer_then_accepted(
    client, make_user, partner_project, offered_image
):
    image, _owner, partner = offered_image
    client.force_login(make_user("approver", "approver", project=partner_project))

    body = client.get("/p/partner/images/shared/").content.decode()
    pending = body.split("<h2>Pending")[1].split("<h2>")[0]
    assert "offered-to-partner" in pending

    partner.image.update_member(partner.auth.project_id, image, status="accepted")
    body = client.get("/p/partner/images/shared/").content.decode()
    accepted = body.split("<h2>Accepted")[1].split("<h2>")[0]
    assert "offered-to-partner" in accepted
    assert "offered-to-partner" not in body.split("<h2>Pending")[1].split("<h2>")[0]


def test_owner_does_not_see_its_own_images_as_shared_with_it(
    operator_client, owner_project, offered_image
):
    body = operator_client.get("/p/owner/images/shared/").content.decode()
    assert body.count("<h2>") == 3  # the page rendered its groups, not an error
    assert 'role="alert"' not in body
    assert "offered-to-partner" not in body
