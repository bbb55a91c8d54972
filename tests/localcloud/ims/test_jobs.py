"""IMS jobs over real HTTP (reference ims.md §4): failures, projects, restarts."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.localcloud.conftest import Api
from tests.localcloud.ims.conftest import (
    assert_downloads,
    assert_ims_error,
    cloudimages,
    create,
    wait_jobs,
)
from tests.localcloud_server import start_localcloud


def test_jobs_that_fail(ims: Api, cloud):
    partner_server_id = cloud.manage(
        "shell",
        "-c",
        "from imsportal.localcloud.models import Server;"
        "print(Server.objects.get(name='ecs-app-01').id)",
    ).split()[-1]
    jobs = {
        create(ims, name="no-such-ecs", instance_id="not-a-server"): "IMG.0005",
        create(ims, name="their-ecs", instance_id=partner_server_id): "IMG.0005",
        create(ims, name="no-object", image_url="ims-bucket:missing.qcow2", min_disk=1): "IMG.0057",
        create(ims, name="empty-object", image_url="ims-bucket:empty.raw", min_disk=1): "IMG.0057",
        create(
            ims, name="their-bucket", image_url="partner-images:centos-mini.qcow2", min_disk=1
        ): "IMG.0057",
        create(ims, name="no-bucket", image_url="nobody-bucket:x.qcow2", min_disk=1): "IMG.0057",
    }
    seen = wait_jobs(ims, list(jobs))
    before = {i["id"] for i in cloudimages(ims)}
    for job_id, code in jobs.items():
        statuses = [b["status"] for b in seen[job_id]]
        assert statuses[0] == "INIT", statuses
        assert statuses[-1] == "FAIL", statuses
        done = seen[job_id][-1]
        assert done["error_code"] == code
        assert done["fail_reason"]
        assert "image_id" not in done["entities"]
        assert done["end_time"] is not None
    assert not [i for i in cloudimages(ims) if i["name"] in {"no-such-ecs", "their-ecs"}]
    assert {i["id"] for i in cloudimages(ims)} == before


def test_jobs_belong_to_their_project(ims: Api, partner: Api, made):
    job_id = made["server"]["job_id"]
    assert_ims_error(partner.get(f"/v1/{ims.project_id}/jobs/{job_id}"), 403, "IMG.0026")
    assert_ims_error(partner.get(f"/v1/{partner.project_id}/jobs/{job_id}"), 404, "IMG.0017")
    assert_ims_error(ims.get(f"/v1/{ims.project_id}/jobs/{'f' * 32}"), 404, "IMG.0017")
    resp = requests.get(f"{ims.cloud.image_url}/v1/{ims.project_id}/jobs/{job_id}", timeout=30)
    assert resp.status_code == 401


def test_a_job_survives_a_restart(tmp_path: Path):
    first = start_localcloud(tmp_path / "lc")
    try:
        owner = Api(first, "owner", "owner-project", "owner-demo-password")
        server_id = first.manage(
            "shell",
            "-c",
            "from imsportal.localcloud.models import Server;"
            "print(Server.objects.get(name='ecs-web-01').id)",
        ).split()[-1]
        job_id = create(owner, name="across-restart", instance_id=server_id)
        assert owner.get(f"/v1/{owner.project_id}/jobs/{job_id}").json()["status"] == "INIT"
    finally:
        first.stop()
    second = start_localcloud(tmp_path / "lc")
    try:
        # Tokens live in the database, so the old one still works.
        owner.cloud = second
        seen = wait_jobs(owner, [job_id])[job_id]
        assert seen[-1]["status"] == "SUCCESS", seen[-1]["fail_reason"]
        image_id = seen[-1]["entities"]["image_id"]
        disk = (tmp_path / "lc" / "servers" / f"{server_id}.disk").read_bytes()
        assert_downloads(owner, image_id, disk)
        assert [i["name"] for i in cloudimages(owner, id=image_id)] == ["across-restart"]
    finally:
        second.stop()
