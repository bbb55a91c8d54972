"""openstacksdk, configured like any cloud (auth URL, user, password, project, domain), walks
the image and member calls against the local cloud."""

from __future__ import annotations

import hashlib
import os
import uuid

import openstack
import pytest
from openstack import exceptions

from tests.localcloud_server import LocalCloud

# The SDK's own deprecation notices (influxdb, service_type, ...) are not about this server.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")


def connect(cloud: LocalCloud, user: str, project: str) -> openstack.connection.Connection:
    return openstack.connect(
        auth_url=cloud.auth_url,
        username=user,
        password=f"{user}-demo-password",
        project_name=project,
        user_domain_name="Default",
        project_domain_name="Default",
        load_yaml_config=False,
        load_envvars=False,
    )


@pytest.fixture(scope="module")
def sdk_owner(cloud: LocalCloud):
    conn = connect(cloud, "owner", "owner-project")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def sdk_partner(cloud: LocalCloud):
    conn = connect(cloud, "partner", "partner-project")
    yield conn
    conn.close()


def test_openstacksdk_walks_images_and_members(sdk_owner, sdk_partner):
    data = os.urandom(300 * 1024)
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    image = sdk_owner.image.create_image(
        name,
        data=data,
        disk_format="raw",
        container_format="bare",
        visibility="shared",
        allow_duplicates=True,
        meta={"purpose": "sdk-test"},
    )
    try:
        got = sdk_owner.image.get_image(image.id)
        assert got.status == "active"
        assert got.size == len(data)
        assert got.checksum == hashlib.md5(data).hexdigest()
        assert got.hash_value == hashlib.sha512(data).hexdigest()
        assert got.visibility == "shared"
        assert got.properties["purpose"] == "sdk-test"

        listed = list(sdk_owner.image.images(name=name, status="active", limit=1))
        assert [i.id for i in listed] == [image.id]
        assert image.id in [i.id for i in sdk_owner.image.images(sort_key="name", limit=3)]

        updated = sdk_owner.image.update_image(image, min_ram=256, name=f"{name}-2")
        assert updated.min_ram == 256
        assert sdk_owner.image.get_image(image.id).name == f"{name}-2"

        sdk_owner.image.add_tag(image, "sdk-tag")
        assert "sdk-tag" in sdk_owner.image.get_image(image.id).tags
        sdk_owner.image.remove_tag(image, "sdk-tag")
        assert "sdk-tag" not in sdk_owner.image.get_image(image.id).tags

        partner_project = sdk_partner.current_project_id
        member = sdk_owner.image.add_member(image, member_id=partner_project)
        assert member.status == "pending"
        assert [m.member_id for m in sdk_owner.image.members(image)] == [partner_project]

        # The partner answers with its own connection.
        pending = list(sdk_partner.image.images(member_status="pending", visibility="shared"))
        assert image.id in [i.id for i in pending]
        accepted = sdk_partner.image.update_member(partner_project, image.id, status="accepted")
        assert accepted.status == "accepted"
        assert image.id in [i.id for i in sdk_partner.image.images()]
        assert sdk_owner.image.get_member(partner_project, image).status == "accepted"
        download = sdk_partner.image.download_image(image.id)
        assert download.content == data
        with pytest.raises(exceptions.ForbiddenException):
            sdk_partner.image.delete_image(image.id, ignore_missing=False)

        sdk_owner.image.remove_member(partner_project, image)
        with pytest.raises(exceptions.NotFoundException):
            sdk_partner.image.get_image(image.id)
    finally:
        sdk_owner.image.delete_image(image.id, ignore_missing=False)
    with pytest.raises(exceptions.NotFoundException):
        sdk_owner.image.get_image(image.id)


def test_openstacksdk_finds_compute_in_the_catalog_and_lists_servers(sdk_owner, sdk_partner):
    servers = {s.name: s for s in sdk_owner.compute.servers()}
    assert sorted(servers) == ["ecs-db-01", "ecs-web-01"]
    assert servers["ecs-web-01"].status == "ACTIVE"
    assert servers["ecs-web-01"].metadata["os_type"] == "Linux"
    assert sdk_owner.compute.get_server(servers["ecs-db-01"].id).name == "ecs-db-01"
    assert [s.name for s in sdk_partner.compute.servers()] == ["ecs-app-01"]
