"""Image members: Glance's sharing rules, and the seed's two projects sharing through the API."""

from __future__ import annotations

import hashlib

import pytest

from tests.localcloud.conftest import Api

pytestmark = pytest.mark.usefixtures("cleanup")


def test_the_seeded_projects_share_and_accept_through_the_api_alone(owner: Api, partner: Api):
    seeded = owner.ids("?name=cirros-0.6.2")
    assert len(seeded) == 1
    image_id = seeded[0]
    image = owner.image(image_id)
    assert image["visibility"] == "shared"
    assert partner.get(f"/v2/images/{image_id}").status_code == 404
    added = owner.post(f"/v2/images/{image_id}/members", json={"member": partner.project_id})
    assert added.status_code == 200
    try:
        inbox = partner.ids("?visibility=shared&member_status=pending")
        assert image_id in inbox
        answer = partner.put(
            f"/v2/images/{image_id}/members/{partner.project_id}", json={"status": "accepted"}
        )
        assert answer.json()["status"] == "accepted"
        assert image_id in partner.ids()
        data = partner.get(f"/v2/images/{image_id}/file").content
        assert hashlib.sha512(data).hexdigest() == image["os_hash_value"]
    finally:
        owner.delete(f"/v2/images/{image_id}/members/{partner.project_id}")
    assert partner.get(f"/v2/images/{image_id}").status_code == 404


def test_who_sees_which_members(owner: Api, partner: Api, third: Api, image):
    members = f"/v2/images/{image['id']}/members"
    for api in (partner, third):
        assert owner.post(members, json={"member": api.project_id}).status_code == 200
    assert {m["member_id"] for m in owner.get(members).json()["members"]} == {
        partner.project_id,
        third.project_id,
    }
    # A member, even pending, sees the image and only its own entry.
    assert [m["member_id"] for m in partner.get(members).json()["members"]] == [partner.project_id]
    assert partner.get(f"{members}/{partner.project_id}").status_code == 200
    assert partner.get(f"{members}/{third.project_id}").status_code == 404
    assert partner.get(f"/v2/images/{image['id']}").status_code == 200
    # Only the owner removes; a member removing itself is 403.
    assert partner.delete(f"{members}/{partner.project_id}").status_code == 403
    assert partner.delete(f"{members}/{third.project_id}").status_code == 404
    assert (
        partner.put(f"{members}/{third.project_id}", json={"status": "accepted"}).status_code == 404
    )
    assert owner.delete(f"{members}/{third.project_id}").status_code == 204
    assert third.get(f"/v2/images/{image['id']}").status_code == 404


def test_member_bodies_are_validated(owner: Api, partner: Api, image):
    members = f"/v2/images/{image['id']}/members"
    assert owner.post(members, json={}).status_code == 400
    assert owner.post(members, json={"member": ""}).status_code == 400
    assert owner.post(members, json={"member_id": partner.project_id}).status_code == 400
    owner.post(members, json={"member": partner.project_id})
    mine = f"{members}/{partner.project_id}"
    assert partner.put(mine, json={"status": "maybe"}).status_code == 400
    assert partner.put(mine, json={}).status_code == 400
    assert partner.put(mine, json={"status": "rejected"}).json()["status"] == "rejected"
    assert image["id"] in partner.ids("?member_status=rejected")
    assert image["id"] not in partner.ids("?member_status=pending")
    assert image["id"] in partner.ids("?member_status=all&visibility=shared")
    # Rejecting does not revoke access: the image still reads and downloads.
    assert partner.get(f"/v2/images/{image['id']}").status_code == 200
    assert partner.get(f"/v2/images/{image['id']}/file").status_code == 204  # no data yet


def test_only_shared_images_have_members(owner: Api, partner: Api, admin: Api):
    img = owner.create(visibility="shared")
    members = f"/v2/images/{img['id']}/members"
    owner.post(members, json={"member": partner.project_id})
    to_private = [{"op": "replace", "path": "/visibility", "value": "private"}]
    assert owner.patch(f"/v2/images/{img['id']}", to_private).status_code == 200
    assert owner.get(members).status_code == 403
    assert owner.get(f"{members}/{partner.project_id}").status_code == 404
    assert owner.post(members, json={"member": "x"}).status_code == 403
    assert partner.get(f"/v2/images/{img['id']}").status_code == 404  # membership dormant
    to_shared = [{"op": "replace", "path": "/visibility", "value": "shared"}]
    assert owner.patch(f"/v2/images/{img['id']}", to_shared).status_code == 200
    assert partner.get(f"/v2/images/{img['id']}").status_code == 200
    # The admin may answer for anyone.
    answered = admin.put(f"{members}/{partner.project_id}", json={"status": "accepted"})
    assert answered.status_code == 200
    assert img["id"] in partner.ids()
    owner.delete(f"/v2/images/{img['id']}")
