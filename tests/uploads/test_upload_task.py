"""``upload_image_task`` with a real worker process against the local cloud over HTTP:
verified checksums, retried 503s, permanent errors, cancel, and a SIGKILLed worker."""

from __future__ import annotations

import os
import signal

import pytest

from images import staging
from imsportal.audit.models import AuditEntry
from imsportal.cloud import cloudapi_for_project
from jobs.models import Job, StagedUpload
from jobs.tasks import STAMP, upload_connection
from tests.uploads.conftest import md5_sha512, qcow2_file, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ATTRS = {
    "name": "wt11-upload-test",
    "disk_format": "qcow2",
    "container_format": "bare",
    "visibility": "private",
    "protected": False,
    "min_disk": 0,
    "min_ram": 0,
    "os_distro": "cirros",
}


@pytest.fixture
def cloud(owner_project, localcloud):
    conn = cloudapi_for_project(owner_project.pk)
    stamps: list[str] = []
    yield conn, stamps
    localcloud.clear_faults()
    for stamp in stamps:
        for image in conn.image.images(**{STAMP: stamp}):
            conn.image.delete_image(image.id)


def stage(owner_project, make_user, tmp_path, size: int, **attrs) -> tuple[StagedUpload, str]:
    """A complete staged upload, as the tus server leaves it, handed to a worker."""
    user = make_user("uploader", "operator")
    src = qcow2_file(tmp_path / "disk.qcow2", size)
    upload = staging.create(
        owner_project, user, size, {"filename": "disk.qcow2"}, {**ATTRS, **attrs}
    )
    staging.data_path(upload.id).write_bytes(src.read_bytes())
    StagedUpload.objects.filter(pk=upload.pk).update(offset=size)
    upload.refresh_from_db()
    return upload, str(upload.id)


def done(job_pk: int) -> Job | None:
    job = Job.objects.get(pk=job_pk)
    return job if job.is_done else None


def stamped(conn, stamp: str):
    return list(conn.image.images(**{STAMP: stamp}))


def test_an_upload_reaches_done_with_verified_checksums(
    jobs_queue, cloud, owner_project, make_user, tmp_path
):
    conn, stamps = cloud
    upload, stamp = stage(owner_project, make_user, tmp_path, 2 * 1024 * 1024 + 7)
    stamps.append(stamp)
    md5, sha512 = md5_sha512(staging.data_path(upload.id))
    job = staging.finish(upload)
    job = wait_for(lambda: done(job.pk))
    assert job.status == Job.Status.SUCCESS, job.last_error
    assert job.phase == Job.Phase.DONE
    assert (job.checksum_md5, job.checksum_sha512) == (md5, sha512)
    assert job.verified
    phases = [step["phase"] for step in job.timeline]
    assert phases[:4] == ["staged", "creating", "uploading", "verifying"]
    images = stamped(conn, stamp)
    assert [(i.id, i.status, i.checksum) for i in images] == [(job.image_id, "active", md5)]
    assert images[0].properties.get("os_distro") == "cirros"
    # Only after verification the staging file goes.
    assert not staging.data_path(upload.id).exists()
    assert StagedUpload.objects.get(pk=upload.pk).status == StagedUpload.Status.DONE
    entry = AuditEntry.objects.get(action="image.upload")
    assert entry.target_id == job.image_id
    assert entry.outcome == "success"
    assert entry.request_id
    assert AuditEntry.objects.filter(action="job.start", target_id=f"job:{job.pk}").exists()


def test_the_upload_call_gets_a_long_read_timeout(owner_project, settings):
    settings.UPLOAD_CLOUD_READ_TIMEOUT = 1234.0
    conn = upload_connection(owner_project.pk)
    assert conn.http.timeout[1] == 1234.0
    assert (
        cloudapi_for_project(owner_project.pk).http.timeout[1]
        == settings.CLOUD_HTTP["read_timeout"]
    )


def test_an_expired_token_does_not_stop_the_upload(
    jobs_queue, cloud, localcloud, owner_project, make_user, tmp_path
):
    """The task uses the project's stored credentials: it logs in again when the cloud
    revokes the token it holds."""
    conn, stamps = cloud
    upload, stamp = stage(owner_project, make_user, tmp_path, 8 * 1024 * 1024)
    stamps.append(stamp)
    job = staging.finish(upload)
    # Mid-stream: the checksum check after the PUT needs a new token.
    wait_for(lambda: Job.objects.get(pk=job.pk).bytes_done > 0)
    localcloud.set_faults(expire_tokens=True)
    job = wait_for(lambda: done(job.pk))
    assert job.status == Job.Status.SUCCESS, job.last_error
    assert [i.status for i in stamped(conn, stamp)] == ["active"]


def test_transient_503s_are_retried_by_the_task(
    jobs_queue, cloud, localcloud, owner_project, make_user, tmp_path
):
    conn, stamps = cloud
    upload, stamp = stage(owner_project, make_user, tmp_path, 1024 * 1024)
    stamps.append(stamp)
    # More 503s than the client's own retries of a GET: the task has to come back later.
    localcloud.set_faults(error_status=503, error_count=5, path_prefix="/image/v2/images")
    job = staging.finish(upload)
    job = wait_for(lambda: done(job.pk), timeout=90)
    assert job.status == Job.Status.SUCCESS, job.last_error
    assert job.attempts >= 2
    assert len(stamped(conn, stamp)) == 1


def test_a_permanent_error_fails_the_job_and_keeps_the_staging_file(
    jobs_queue, cloud, owner_project, make_user, tmp_path
):
    conn, stamps = cloud
    # A project may not publish images: Glance answers 403, which no retry cures.
    upload, stamp = stage(owner_project, make_user, tmp_path, 1024 * 1024, visibility="public")
    stamps.append(stamp)
    job = staging.finish(upload)
    job = wait_for(lambda: done(job.pk))
    assert job.status == Job.Status.FAILED
    assert "HTTP 403" in job.last_error
    assert job.request_id
    assert job.request_id in job.last_error
    assert job.attempts == 1
    assert staging.data_path(upload.id).exists()
    assert stamped(conn, stamp) == []
    failure = AuditEntry.objects.get(action="image.upload")
    assert failure.outcome == "failure"


def test_cancel_stops_the_stream_deletes_the_queued_image_and_the_staging_file(
    jobs_queue, cloud, owner_project, make_user, tmp_path, client
):
    conn, stamps = cloud
    upload, stamp = stage(owner_project, make_user, tmp_path, 24 * 1024 * 1024)
    stamps.append(stamp)
    job = staging.finish(upload)
    wait_for(lambda: Job.objects.get(pk=job.pk).bytes_done > 0)
    assert [i.status for i in stamped(conn, stamp)] in (["queued"], ["saving"])
    client.force_login(upload.user)
    resp = client.post(f"/p/owner/jobs/{job.pk}/cancel", {"confirm": "yes"})
    assert resp.status_code == 302
    job = wait_for(lambda: done(job.pk), timeout=30)
    assert job.status == Job.Status.CANCELLED
    assert job.bytes_done < job.bytes_total
    assert stamped(conn, stamp) == []
    assert not staging.data_path(upload.id).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert "job.cancel" in actions


def test_a_sigkilled_worker_ends_with_exactly_one_image(
    jobs_worker_factory, cloud, owner_project, make_user, tmp_path, settings
):
    conn, stamps = cloud
    queue = f"jobs-kill-{os.getpid()}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    first = jobs_worker_factory(queue, "doomed")
    upload, stamp = stage(owner_project, make_user, tmp_path, 20 * 1024 * 1024)
    stamps.append(stamp)
    job = staging.finish(upload)
    wait_for(lambda: Job.objects.get(pk=job.pk).bytes_done >= 4 * 1024 * 1024)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
    leftovers = stamped(conn, stamp)
    assert len(leftovers) == 1
    assert leftovers[0].status != "active"

    jobs_worker_factory(queue, "rescuer")  # takes the job over once the lease lapses
    job = wait_for(lambda: done(job.pk), timeout=120)
    assert job.status == Job.Status.SUCCESS, job.last_error
    assert job.attempts == 2
    images = stamped(conn, stamp)
    assert [(i.id, i.status) for i in images] == [(job.image_id, "active")]
    assert images[0].id != leftovers[0].id
    assert images[0].checksum == md5_sha512(tmp_path / "disk.qcow2")[0]


def test_a_rerun_adopts_the_image_a_dead_worker_finished(cloud, owner_project, make_user, tmp_path):
    """Killed after the cloud verified the data but before the job was marked done: the
    next run finds the stamped active image with the same bytes and creates no second one."""
    from datetime import timedelta

    from django.utils import timezone

    from jobs.tasks import upload_image_task

    conn, stamps = cloud
    upload, stamp = stage(owner_project, make_user, tmp_path, 1024 * 1024)
    stamps.append(stamp)
    path = staging.data_path(upload.id)
    first = conn.image.upload_image(
        "bare", "qcow2", data=path, name="wt11-adopted", **{STAMP: stamp}
    )
    job = Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="wt11-adopted",
        upload=upload,
        params=dict(ATTRS),
        bytes_total=upload.length,
        status=Job.Status.RUNNING,
        worker="dead-worker",
        lease_until=timezone.now() - timedelta(seconds=1),
        attempts=1,
    )
    assert upload_image_task.apply(args=(job.pk,)).get() == "success"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCESS
    assert job.image_id == first.id
    assert job.checksum_md5 == first.checksum
    assert [i.id for i in stamped(conn, stamp)] == [first.id]
    assert not path.exists()
