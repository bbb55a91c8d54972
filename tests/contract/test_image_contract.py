"""The ``conn.image`` contract, run against every image backend: the local cloud and a
real OpenStack Glance on loopback. Whatever one backend does differently fails here."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from imsportal import cloudapi
from imsportal.cloudapi import Connection, StaticTokenAuth

pytestmark = pytest.mark.contract

DATA = (hashlib.sha512(b"contract").digest() * 40_000)[: 2 * 1024 * 1024 + 5]


@dataclass
class Backend:
    name: str
    owner: Connection
    partner: Connection
    created: list[str] = field(default_factory=list)

    @property
    def owner_project(self) -> str:
        return self.owner.auth.project_id

    @property
    def partner_project(self) -> str:
        return self.partner.auth.project_id


@pytest.fixture(params=["localcloud", "realglance"])
def image_backend(request) -> Iterator[Backend]:
    if request.param == "localcloud":
        cloud = request.getfixturevalue("localcloud")
        backend = Backend(
            "localcloud",
            Connection.from_config(cloud.cloud_config("owner", "owner-project")),
            Connection.from_config(cloud.cloud_config("partner", "partner-project")),
        )
    else:
        glance = request.getfixturevalue("realglance")

        def conn(user: str, project: str) -> Connection:
            token = glance.token(user, project)
            return Connection(
                StaticTokenAuth(token, {"image": glance.endpoint}, project_id=project)
            )

        backend = Backend(
            "realglance", conn("owner", "owner-project"), conn("partner", "partner-project")
        )
    yield backend
    for image_id in backend.created:
        try:
            backend.owner.image.update_image(image_id, is_protected=False)
        except cloudapi.ApiError:
            pass
        backend.owner.image.delete_image(image_id)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def upload(backend: Backend, **attrs) -> cloudapi.Image:
    image = backend.owner.image.upload_image(
        "bare", "raw", data=DATA, name=attrs.pop("name", unique("contract")), **attrs
    )
    backend.created.append(image.id)
    return image


def test_create_upload_get_and_download(image_backend):
    img = image_backend.owner.image
    image = upload(image_backend, os_distro="contract")
    assert image.status == "active"
    assert image.owner == image_backend.owner_project
    assert image.size == len(DATA)
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    assert image.os_hash_algo == "sha512"
    assert image.os_hash_value == hashlib.sha512(DATA).hexdigest()
    assert image.visibility == "shared"  # Glance's default since 2.5
    assert image.properties["os_distro"] == "contract"
    got = img.get_image(image.id)
    assert (got.id, got.name, got.checksum) == (image.id, image.name, image.checksum)
    assert img.download_image(image) == DATA


def test_create_without_data_is_queued(image_backend):
    image = image_backend.owner.image.create_image(name=unique("queued"))
    image_backend.created.append(image.id)
    assert image.status == "queued"
    assert image.size is None
    assert image.checksum is None


def test_find_and_list(image_backend):
    img = image_backend.owner.image
    name = unique("findme")
    image = upload(image_backend, name=name)
    assert img.find_image(name).id == image.id
    assert img.find_image(image.id).id == image.id
    assert img.find_image(unique("missing")) is None
    with pytest.raises(cloudapi.NotFoundError):
        img.find_image(unique("missing"), ignore_missing=False)
    assert [i.id for i in img.images(name=name)] == [image.id]
    for _ in range(2):
        upload(image_backend)
    assert len(list(img.images(limit=2))) == 2
    assert len(list(img.images(limit=3, page_size=1))) == 3
    everything = list(img.images(page_size=1))
    assert len(everything) >= 3
    assert len({i.id for i in everything}) == len(everything)


def test_update_and_tags(image_backend):
    img = image_backend.owner.image
    image = upload(image_backend, os_version="1")
    updated = img.update_image(image, name="renamed", min_ram=256, os_version=None, extra="y")
    assert updated.name == "renamed"
    assert updated.min_ram == 256
    assert "os_version" not in updated.properties
    assert updated.properties["extra"] == "y"
    img.add_tag(image, "t1")
    img.add_tag(image.id, "t2")
    img.add_tag(image.id, "t2")
    assert sorted(img.get_image(image).tags) == ["t1", "t2"]
    img.remove_tag(image, "t1")
    assert img.get_image(image).tags == ["t2"]
    with pytest.raises(cloudapi.NotFoundError):
        img.remove_tag(image, "t1")
    with pytest.raises(cloudapi.ForbiddenError):
        img.update_image(image, checksum="0" * 32)


def test_deactivate_reactivate(image_backend):
    img = image_backend.owner.image
    image = upload(image_backend)
    img.deactivate_image(image)
    assert img.get_image(image).status == "deactivated"
    img.reactivate_image(image)
    assert img.get_image(image).status == "active"


def test_delete(image_backend):
    img = image_backend.owner.image
    by_id = upload(image_backend)
    img.delete_image(by_id)
    with pytest.raises(cloudapi.NotFoundError):
        img.get_image(by_id.id)
    img.delete_image(by_id.id)  # gone: ignored
    with pytest.raises(cloudapi.NotFoundError):
        img.delete_image(by_id.id, ignore_missing=False)
    by_name = upload(image_backend, name=unique("delete-by-name"))
    img.delete_image(by_name.name)
    assert img.find_image(by_name.id) is None
    protected = upload(image_backend, is_protected=True)
    with pytest.raises(cloudapi.ForbiddenError):
        img.delete_image(protected)


def test_errors(image_backend):
    img = image_backend.owner.image
    with pytest.raises(cloudapi.NotFoundError) as info:
        img.get_image(str(uuid.uuid4()))
    assert info.value.request_id
    with pytest.raises(cloudapi.BadRequestError):
        list(img.images(limit=2, marker=str(uuid.uuid4())))
    private = upload(image_backend, visibility="private")
    with pytest.raises(cloudapi.ForbiddenError):
        img.add_member(private, member_id=image_backend.partner_project)
    with pytest.raises(cloudapi.NotFoundError):
        image_backend.partner.image.get_image(private.id)
    with pytest.raises(cloudapi.ConflictError):
        img.upload_image("bare", "raw", data=b"x", id=private.id, name="same-id")


def test_two_project_share(image_backend):
    owner, partner = image_backend.owner.image, image_backend.partner.image
    me, them = image_backend.owner_project, image_backend.partner_project
    image = upload(image_backend, visibility="shared")

    member = owner.add_member(image, member_id=them)
    assert (member.member_id, member.image_id, member.status) == (them, image.id, "pending")
    with pytest.raises(cloudapi.ConflictError):
        owner.add_member(image, member_id=them)
    assert [m.member_id for m in owner.members(image)] == [them]
    assert owner.members(image, status="accepted") == []

    # Partner: pending, so not in the default list, but in the pending inbox.
    assert image.id not in {i.id for i in partner.images()}
    inbox = {i.id for i in partner.images(visibility="shared", member_status="pending")}
    assert image.id in inbox
    assert partner.get_image(image.id).owner == me
    assert partner.get_member(them, image).status == "pending"
    assert partner.find_member(them, image).status == "pending"
    assert [m.member_id for m in partner.members(image)] == [them]

    # Only the member may answer the invitation.
    with pytest.raises(cloudapi.ForbiddenError):
        owner.update_member(them, image, status="accepted")
    accepted = partner.update_member(them, image, status="accepted")
    assert accepted.status == "accepted"
    assert image.id in {i.id for i in partner.images()}
    assert [m.status for m in owner.members(image, status="accepted")] == ["accepted"]
    assert owner.get_member(member, image).status == "accepted"
    with pytest.raises(cloudapi.ForbiddenError):
        partner.delete_image(image.id)

    owner.remove_member(member, image)
    assert image.id not in {i.id for i in partner.images()}
    with pytest.raises(cloudapi.NotFoundError):
        partner.get_image(image.id)
    assert owner.find_member(them, image) is None
    with pytest.raises(cloudapi.NotFoundError):
        owner.get_member(them, image)
    owner.remove_member(them, image)  # gone: ignored
    with pytest.raises(cloudapi.NotFoundError):
        owner.remove_member(them, image, ignore_missing=False)
    assert owner.members(image) == []
