"""Fixtures and helpers for the local cloud's IMS tests: a project with a server and a
bucket of its own, and images made for updates."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud

SETUP = """
from pathlib import Path
from django.conf import settings
from django.utils import timezone
from imsportal.localcloud.models import Bucket, Project, Server
from imsportal.localcloud.ims.disks import make_qcow2, make_raw
project = Project.objects.get(name="ims-project")
server, _ = Server.objects.get_or_create(
    id="11111111-2222-3333-4444-555555555555",
    defaults=dict(project=project, name="ims-ecs", os_type="Linux", platform="Ubuntu",
                  os_version="Ubuntu 22.04 server 64bit", disk_gb=20, created_at=timezone.now()))
server.disk_path.parent.mkdir(parents=True, exist_ok=True)
server.disk_path.write_bytes(make_raw("ims-ecs-disk"))
bucket, _ = Bucket.objects.get_or_create(name="ims-bucket", defaults=dict(project=project))
bucket.path.mkdir(parents=True, exist_ok=True)
(bucket.path / "dir").mkdir(exist_ok=True)
(bucket.path / "dir" / "tiny.qcow2").write_bytes(make_qcow2("ims-tiny"))
(bucket.path / "empty.raw").write_bytes(b"")
"""
SERVER_ID = "11111111-2222-3333-4444-555555555555"
SEEDED = {
    "cirros-0.6.2",
    "ubuntu-24.04-server",
    "ubuntu-22.04-server",
    "debian-12-generic",
    "debian-13-generic",
    "fedora-41-cloud",
    "rocky-9-generic",
    "alpine-3.20-virt",
    "windows-2022-eval",
    "opensuse-15.6",
    "freebsd-14.1",
    "rescue-iso",
}


def cloudimages(api: Api, **params: str) -> list[dict]:
    resp = api.get("/v2/cloudimages", params=params)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"images"}  # no next/first/schema links
    return resp.json()["images"]


def assert_ims_error(resp: requests.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


def wait_jobs(api: Api, job_ids: list[str], timeout: float = 30) -> dict[str, list[dict]]:
    """Poll every job until it ends; the bodies seen for each, in order."""
    seen: dict[str, list[dict]] = {job_id: [] for job_id in job_ids}
    deadline = time.monotonic() + timeout
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            resp = api.get(f"/v1/{api.project_id}/jobs/{job_id}")
            assert resp.status_code == 200, resp.text
            seen[job_id].append(resp.json())
            if resp.json()["status"] in ("SUCCESS", "FAIL"):
                pending.discard(job_id)
        time.sleep(0.1)
    assert not pending, f"jobs still running: {pending}"
    return seen


def create(api: Api, **body) -> str:
    resp = api.post("/v2/cloudimages/action", json=body)
    assert resp.status_code == 200, resp.text
    assert list(resp.json()) == ["job_id"]
    job_id = resp.json()["job_id"]
    assert len(job_id) == 32
    assert int(job_id, 16) >= 0
    return job_id


@pytest.fixture(scope="module")
def ims(cloud: LocalCloud) -> Api:
    cloud.manage(
        "localcloud_user",
        "ims-user",
        "--project",
        "ims-project",
        "--role",
        "member",
        "--role",
        "reader",
        "--password",
        "ims-user-pw",
    )
    cloud.manage(
        "localcloud_user",
        "ims-reader",
        "--project",
        "ims-project",
        "--role",
        "reader",
        "--password",
        "ims-reader-pw",
    )
    cloud.manage("shell", "-c", SETUP)
    return Api(cloud, "ims-user", "ims-project", "ims-user-pw")


@pytest.fixture(scope="module")
def ims_reader(ims: Api) -> Api:
    return Api(ims.cloud, "ims-reader", "ims-project", "ims-reader-pw")


@pytest.fixture(scope="module")
def made(ims: Api) -> dict[str, dict]:
    """One image made from the server and one from a bucket object (jobs run together)."""
    jobs = {
        "server": create(
            ims,
            name="from server",
            instance_id=SERVER_ID,
            description="web tier",
            max_ram=4096,
            min_ram=1024,
            tags=["team.web"],
        ),
        "file": create(
            ims,
            name="from-file",
            image_url="ims-bucket:dir/tiny.qcow2",
            min_disk=2,
            os_version="Debian GNU/Linux 12 64bit",
            image_tags=[{"key": "team", "value": "db"}],
        ),
    }
    seen = wait_jobs(ims, list(jobs.values()))
    return {kind: {"job_id": job_id, "seen": seen[job_id]} for kind, job_id in jobs.items()}


def assert_downloads(api: Api, image_id: str, expected: bytes) -> None:
    image = api.image(image_id)
    assert image["status"] == "active"
    assert image["size"] == len(expected)
    assert image["checksum"] == hashlib.md5(expected).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(expected).hexdigest()
    resp = api.get(f"/v2/images/{image_id}/file")
    assert resp.status_code == 200
    assert resp.content == expected
    assert resp.headers["Content-MD5"] == image["checksum"]
