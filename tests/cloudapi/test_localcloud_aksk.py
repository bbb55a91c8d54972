"""AK/SK signing round trip against the local cloud's verifier (seeded key pairs)."""

from __future__ import annotations

import pytest

from imsportal import cloudapi
from imsportal.cloudapi import Connection

OWNER_AK, OWNER_SK = "OWNERDEMOACCESSKEY01", "ownerDemoSecretKey0000000000000000000001"


@pytest.fixture
def signed(localcloud, owner):
    config = localcloud.cloud_config(
        auth_type="aksk",
        ak=OWNER_AK,
        sk=OWNER_SK,
        project_id=owner.auth.project_id,
        image_endpoint=localcloud.image_url,
    )
    return Connection.from_config(config)


def test_signed_requests_reach_glance_and_ims(signed, owner):
    by_token = [i.id for i in owner.image.images(limit=5)]
    assert [i.id for i in signed.image.images(limit=5)] == by_token
    cirros = signed.image.find_image("cirros-0.6.2")
    assert cirros.owner == owner.auth.project_id
    signed.image.add_tag(cirros, "signed tag")  # path with an encoded space
    signed.image.remove_tag(cirros, "signed tag")
    assert list(signed.ims.cloudimages(limit=2, name="cirros-0.6.2"))


def test_signed_json_bodies_and_uploads(signed):
    image = signed.image.upload_image("bare", "raw", data=b"\1" * 70_000, name="signed-upload")
    try:
        assert image.status == "active"
        renamed = signed.image.update_image(image, name="signed-renamed")  # json-patch body
        assert renamed.name == "signed-renamed"
    finally:
        signed.image.delete_image(image.id)


def test_a_wrong_secret_is_rejected(localcloud, owner):
    conn = Connection.from_config(
        localcloud.cloud_config(
            auth_type="aksk",
            ak=OWNER_AK,
            sk="wrong-secret",
            project_id=owner.auth.project_id,
            image_endpoint=localcloud.image_url,
        )
    )
    with pytest.raises(cloudapi.UnauthorizedError) as info:
        list(conn.image.images(limit=1))
    assert info.value.code == "APIGW.0301"
    assert "signature" in info.value.message


def test_signed_requests_reach_the_local_cloud_at_its_host_root(localcloud, owner):
    # The endpoint a Huawei Cloud user configures: the IMS host, no path.
    config = localcloud.cloud_config(
        auth_type="aksk",
        ak=OWNER_AK,
        sk=OWNER_SK,
        project_id=owner.auth.project_id,
        image_endpoint=localcloud.url,
    )
    conn = Connection.from_config(config)
    assert [i.id for i in conn.image.images(limit=3)] == [i.id for i in owner.image.images(limit=3)]
    assert next(iter(conn.ims.cloudimages(limit=1))).id
