"""Claims, leases and recovery: one worker per job, backoff respected, dead workers' jobs
re-sent, one chain of IMS polls per job."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from jobs import tasks
from jobs.models import Job, StagedUpload

pytestmark = pytest.mark.django_db


def make(owner_project, **fields) -> Job:
    return Job.objects.create(project=owner_project, title="j", **fields)


def test_only_one_claim_wins(owner_project):
    job = make(owner_project, kind=Job.Kind.UPLOAD)
    assert tasks.claim(job.pk, "a")
    assert not tasks.claim(job.pk, "b")
    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts) == (Job.Status.RUNNING, "a", 1)


def test_a_lapsed_lease_can_be_taken_over(owner_project):
    past = timezone.now() - timedelta(seconds=1)
    job = make(
        owner_project,
        kind=Job.Kind.UPLOAD,
        status=Job.Status.RUNNING,
        worker="dead",
        lease_until=past,
        attempts=1,
    )
    assert tasks.claim(job.pk, "rescuer")
    job.refresh_from_db()
    assert (job.worker, job.attempts) == ("rescuer", 2)


def test_a_job_waiting_out_its_backoff_is_not_claimed(owner_project):
    soon = timezone.now() + timedelta(seconds=30)
    job = make(owner_project, kind=Job.Kind.UPLOAD, lease_until=soon)
    assert not tasks.claim(job.pk, "eager")
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert tasks.claim(job.pk, "later")


def test_recover_resends_what_no_worker_holds(owner_project):
    now = timezone.now()
    old = now - timedelta(minutes=10)
    dead = make(
        owner_project,
        kind=Job.Kind.UPLOAD,
        status=Job.Status.RUNNING,
        lease_until=now - timedelta(seconds=5),
    )
    alive = make(
        owner_project,
        kind=Job.Kind.UPLOAD,
        status=Job.Status.RUNNING,
        lease_until=now + timedelta(seconds=20),
    )
    lost = make(owner_project, kind=Job.Kind.UPLOAD)
    Job.objects.filter(pk=lost.pk).update(created_at=old)
    fresh = make(owner_project, kind=Job.Kind.UPLOAD)
    backing_off = make(owner_project, kind=Job.Kind.UPLOAD, lease_until=now + timedelta(minutes=5))
    orphan_poll = make(
        owner_project, kind=Job.Kind.CREATE, status=Job.Status.RUNNING, lease_until=old
    )
    polling = make(owner_project, kind=Job.Kind.CREATE, status=Job.Status.RUNNING, lease_until=now)
    finished = make(owner_project, kind=Job.Kind.UPLOAD, status=Job.Status.SUCCESS)
    with mock.patch("celery.app.task.Task.apply_async") as send:
        tasks.recover_jobs()
    sent = {c.args[0][0]: c.kwargs["countdown"] for c in send.call_args_list}
    assert set(sent) == {dead.pk, alive.pk, lost.pk, orphan_poll.pk}
    assert sent[dead.pk] == 0
    assert 19 < sent[alive.pk] <= 21  # when its lease lapses; harmless if it is renewed
    for job in (fresh, backing_off, polling, finished):
        assert job.pk not in sent


def test_a_second_chain_of_polls_ends_itself(owner_project):
    job = make(
        owner_project,
        kind=Job.Kind.CREATE,
        status=Job.Status.RUNNING,
        cloud_job_id="x",
        lease_until=timezone.now() + timedelta(seconds=3),
    )
    with mock.patch("jobs.tasks.cloudapi_for_project") as cloud:
        assert tasks.poll_ims_job_task.apply(args=(job.pk,)).get() == "polled elsewhere"
    cloud.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_the_lease_through_a_silent_call(owner_project, settings):
    import time

    settings.JOB_LEASE_SECONDS = 0.6
    job = make(owner_project, kind=Job.Kind.UPLOAD)
    assert tasks.claim(job.pk, "me")
    with tasks._Heartbeat(job.pk, "me"):
        time.sleep(1.5)  # longer than the lease: only the heartbeat keeps it
        job.refresh_from_db()
        assert job.lease_until > timezone.now()
        assert not tasks.claim(job.pk, "thief")


def test_the_sweep_cleans_up_and_resends(owner_project, settings, tmp_path, make_user):
    from images import staging

    settings.UPLOAD_STAGING_DIR = tmp_path
    upload = staging.create(owner_project, make_user("sweeper", "operator"), 10, {}, {})
    StagedUpload.objects.filter(pk=upload.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    (tmp_path / "stray.part").write_bytes(b"x")
    dead = make(
        owner_project,
        kind=Job.Kind.UPLOAD,
        status=Job.Status.RUNNING,
        lease_until=timezone.now() - timedelta(seconds=5),
    )
    with mock.patch("celery.app.task.Task.apply_async") as send:
        assert tasks.sweep() == (1, 1, 1)
    assert send.call_args.args[0] == (dead.pk,)
    assert not StagedUpload.objects.exists()
    assert not list(tmp_path.glob("*.part"))


def test_the_sweep_removes_the_file_of_a_long_failed_job(
    owner_project, settings, tmp_path, make_user
):
    from images import staging

    settings.UPLOAD_STAGING_DIR = tmp_path
    user = make_user("failer", "operator")
    upload = staging.create(owner_project, user, 10, {}, {})
    recent = staging.create(owner_project, user, 10, {}, {})
    StagedUpload.objects.update(status=StagedUpload.Status.SUBMITTED)
    long_ago = timezone.now() - timedelta(seconds=settings.UPLOAD_EXPIRY_SECONDS + 5)
    for u, finished in ((upload, long_ago), (recent, timezone.now())):
        make(
            owner_project,
            kind=Job.Kind.UPLOAD,
            status=Job.Status.FAILED,
            upload=u,
            finished_at=finished,
        )
    with mock.patch("celery.app.task.Task.apply_async"):
        tasks.sweep()
    assert not staging.data_path(upload.id).exists()
    assert staging.data_path(recent.id).exists()
    assert StagedUpload.objects.get(pk=upload.pk).status == StagedUpload.Status.DONE
