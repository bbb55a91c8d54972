"""The official Huawei Cloud Python SDK v3 (huaweicloudsdkims), configured as a user would
for real IMS with only the endpoint, AK/SK and project id changed, walks the IMS and
Glance-compatible calls against the local cloud."""

from __future__ import annotations

import time
import uuid

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkims.v2 import ImsClient
from huaweicloudsdkims.v2.model import (
    CreateImageRequest,
    CreateImageRequestBody,
    GlanceAddImageMemberRequest,
    GlanceAddImageMemberRequestBody,
    GlanceCreateImageMetadataRequest,
    GlanceCreateImageMetadataRequestBody,
    GlanceDeleteImageRequest,
    GlanceListImageMembersRequest,
    GlanceListImagesRequest,
    GlanceShowImageRequest,
    GlanceUpdateImageMemberRequest,
    GlanceUpdateImageMemberRequestBody,
    ListImagesRequest,
    ShowJobRequest,
    UpdateImageRequest,
    UpdateImageRequestBody,
)

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud

# The SDK marks the Glance-compatible calls and show_job deprecated; they are what IMS serves.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:huaweicloudsdkims")

OWNER_KEYS = ("OWNERDEMOACCESSKEY01", "ownerDemoSecretKey0000000000000000000001")
PARTNER_KEYS = ("PARTNERDEMOACCESSK01", "partnerDemoSecretKey00000000000000000001")


def sdk(cloud: LocalCloud, keys: tuple[str, str], project_id: str, endpoint: str = "") -> ImsClient:
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return (
        ImsClient.new_builder()
        .with_credentials(BasicCredentials(keys[0], keys[1], project_id))
        .with_endpoints([endpoint or cloud.url])
        .with_http_config(config)
        .build()
    )


@pytest.fixture(scope="module")
def ims_owner(cloud: LocalCloud, owner: Api) -> ImsClient:
    return sdk(cloud, OWNER_KEYS, owner.project_id)


@pytest.fixture(scope="module")
def ims_partner(cloud: LocalCloud, partner: Api) -> ImsClient:
    return sdk(cloud, PARTNER_KEYS, partner.project_id)


def server_ids(owner: Api) -> dict[str, str]:
    resp = owner.session.get(
        f"{owner.cloud.url}/compute/v2.1/servers",
        headers={"X-Auth-Token": owner.token},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return {s["name"]: s["id"] for s in resp.json()["servers"]}


def wait_for_job(client: ImsClient, job_id: str) -> object:
    deadline = time.monotonic() + 30
    seen = set()
    while True:
        job = client.show_job(ShowJobRequest(job_id=job_id))
        seen.add(job.status)
        if job.status in ("SUCCESS", "FAIL") or time.monotonic() > deadline:
            job.seen = seen
            return job
        time.sleep(0.3)


def test_the_sdk_lists_with_filters_and_pages_by_marker(ims_owner, owner):
    everything = ims_owner.list_images(ListImagesRequest(limit=500)).images
    assert everything, "the seeded images are listed"
    assert all(i.owner == owner.project_id or i.visibility == "public" for i in everything)

    private = ims_owner.list_images(ListImagesRequest(imagetype="private", limit=500)).images
    assert private
    assert all(i.imagetype == "private" for i in private)
    ubuntu = ims_owner.list_images(ListImagesRequest(platform="Ubuntu", os_type="Linux")).images
    assert ubuntu
    assert all(i.platform == "Ubuntu" for i in ubuntu)

    pages, marker = [], None
    while True:
        page = ims_owner.list_images(
            ListImagesRequest(limit=3, marker=marker, sort_key="name", sort_dir="asc")
        ).images
        pages.append([i.id for i in page])
        if len(page) < 3:
            break
        marker = page[-1].id
    paged = [i for p in pages for i in p]
    assert len(pages) > 1
    assert paged == [
        i.id
        for i in ims_owner.list_images(
            ListImagesRequest(limit=500, sort_key="name", sort_dir="asc")
        ).images
    ]


def test_the_sdk_creates_from_a_server_updates_and_follows_the_job(ims_owner, owner):
    servers = server_ids(owner)
    name = f"sdk-ecs-{uuid.uuid4().hex[:6]}"
    created = ims_owner.create_image(
        CreateImageRequest(
            body=CreateImageRequestBody(name=name, instance_id=servers["ecs-web-01"], min_ram=1024)
        )
    )
    assert len(created.job_id) == 32
    assert created.raw_content
    assert "job_id" in created.raw_content.decode()

    job = wait_for_job(ims_owner, created.job_id)
    assert job.status == "SUCCESS", job
    assert job.job_type == "imsCreateImageByInstance"
    assert job.seen & {"INIT", "RUNNING"}
    image_id = job.entities.image_id

    found = ims_owner.list_images(ListImagesRequest(id=image_id)).images
    assert [i.name for i in found] == [name]
    assert found[0].data_origin == f"instance,{servers['ecs-web-01']}"

    updated = ims_owner.update_image(
        UpdateImageRequest(
            image_id=image_id,
            body=[UpdateImageRequestBody(op="replace", path="/name", value=f"{name}-renamed")],
        )
    )
    assert updated.name == f"{name}-renamed"
    ims_owner.glance_delete_image(GlanceDeleteImageRequest(image_id=image_id))


def test_the_sdk_creates_from_a_bucket_file_and_sees_a_failure(ims_owner):
    ok = ims_owner.create_image(
        CreateImageRequest(
            body=CreateImageRequestBody(
                name=f"sdk-obs-{uuid.uuid4().hex[:6]}",
                image_url="owner-images:cirros-mini.qcow2",
                min_disk=40,
                os_version="CirrOS 0.6 64bit",
            )
        )
    )
    bad = ims_owner.create_image(
        CreateImageRequest(
            body=CreateImageRequestBody(
                name=f"sdk-empty-{uuid.uuid4().hex[:6]}",
                image_url="owner-images:empty.qcow2",
                min_disk=40,
                os_version="CirrOS 0.6 64bit",
            )
        )
    )
    done = wait_for_job(ims_owner, ok.job_id)
    assert done.status == "SUCCESS"
    assert done.job_type == "imsImportImageJob"
    failed = wait_for_job(ims_owner, bad.job_id)
    assert failed.status == "FAIL"
    assert failed.error_code == "IMG.0057"
    assert "empty" in failed.fail_reason
    ims_owner.glance_delete_image(GlanceDeleteImageRequest(image_id=done.entities.image_id))


def test_the_sdk_glance_calls_share_an_image_the_partner_accepts(ims_owner, ims_partner, partner):
    image = ims_owner.glance_create_image_metadata(
        GlanceCreateImageMetadataRequest(
            body=GlanceCreateImageMetadataRequestBody(
                name=f"sdk-glance-{uuid.uuid4().hex[:6]}",
                container_format="bare",
                disk_format="qcow2",
                min_disk=1,
                tags=["purpose=sdk"],
                os_version="Ubuntu 22.04 server 64bit",
            )
        )
    )
    try:
        assert image.status == "queued"
        shown = ims_owner.glance_show_image(GlanceShowImageRequest(image_id=image.id))
        assert shown.id == image.id
        assert shown.imagetype == "private"

        member = ims_owner.glance_add_image_member(
            GlanceAddImageMemberRequest(
                image_id=image.id,
                body=GlanceAddImageMemberRequestBody(member=partner.project_id),
            )
        )
        assert member.status == "pending"
        accepted = ims_partner.glance_update_image_member(
            GlanceUpdateImageMemberRequest(
                image_id=image.id,
                member_id=partner.project_id,
                body=GlanceUpdateImageMemberRequestBody(status="accepted"),
            )
        )
        assert accepted.status == "accepted"
        members = ims_owner.glance_list_image_members(
            GlanceListImageMembersRequest(image_id=image.id)
        ).members
        assert [(m.member_id, m.status) for m in members] == [(partner.project_id, "accepted")]

        shared = ims_partner.glance_list_images(
            GlanceListImagesRequest(
                imagetype="shared", member_status="accepted", visibility="shared"
            )
        ).images
        assert image.id in [i.id for i in shared]
        assert all(i.imagetype == "shared" for i in shared)
    finally:
        ims_owner.glance_delete_image(GlanceDeleteImageRequest(image_id=image.id))


def test_the_sdk_parses_the_error_code_message_and_request_id(cloud, ims_owner, owner):
    with pytest.raises(ClientRequestException) as bad_type:
        ims_owner.list_images(ListImagesRequest(imagetype="nonsense"))
    assert bad_type.value.status_code == 400
    assert bad_type.value.error_code == "IMG.0024"
    assert bad_type.value.error_msg == "The imagetype is invalid."
    assert bad_type.value.request_id
    assert bad_type.value.request_id.startswith("req-")

    with pytest.raises(ClientRequestException) as no_job:
        ims_owner.show_job(ShowJobRequest(job_id=uuid.uuid4().hex))
    assert no_job.value.status_code == 404
    assert no_job.value.error_code == "IMG.0017"
    assert no_job.value.request_id

    wrong_secret = sdk(cloud, (OWNER_KEYS[0], "x" * 40), owner.project_id)
    with pytest.raises(ClientRequestException) as refused:
        wrong_secret.list_images(ListImagesRequest(limit=1))
    assert refused.value.status_code == 401
    assert refused.value.error_code == "APIGW.0301"
    assert "aksk" in refused.value.error_msg.lower() or "signature" in refused.value.error_msg
    assert refused.value.request_id


def test_the_sdk_keeps_only_the_host_of_an_endpoint_with_a_path(cloud, owner):
    # The README's old endpoint had a path; the SDK drops it, so the root must answer.
    client = sdk(cloud, OWNER_KEYS, owner.project_id, endpoint=f"{cloud.url}/image")
    assert client.list_images(ListImagesRequest(limit=1)).images
