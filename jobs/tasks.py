"""Celery tasks: stream a staged upload to the cloud, follow an IMS create job.

Each task takes a Job's primary key, reloads the row, claims it with a conditional UPDATE
(two workers never work on one job), writes state before each remote call and records the
outcome with ``.update()``. A claim is a lease renewed with every progress report; a worker
that dies (even by SIGKILL) lets it lapse, and ``recover_jobs`` (run when a worker starts, and
by ``manage.py cleanup_uploads``) hands the job to another worker.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from imsportal.audit.record import audited, record
from imsportal.cloud import cloudapi_for_project
from imsportal.cloudapi import ApiError, Connection
from imsportal.cloudapi import exceptions as exc
from jobs.models import Job, StagedUpload

log = logging.getLogger(__name__)

STAMP = "imsportal_upload_id"  # the image property that makes an upload findable on retry
READ_SIZE = 1024 * 1024
UPLOAD_TIME_LIMIT = 48 * 3600


@shared_task(name="jobs.ping", ignore_result=False)
def ping_task() -> str:
    """A round trip through the broker and a worker (used by tests and diagnostics)."""
    return "pong"


# --- helpers ---------------------------------------------------------------------------------
class CancelledError(Exception):
    """The user cancelled the job while it ran."""


class LostClaimError(Exception):
    """Another worker holds the job now (our lease lapsed): stop without touching it."""


def _stamp_now() -> str:
    return timezone.now().isoformat()


def _enqueue(task, job_id: int, **options: Any) -> None:
    """Send after the transaction commits; a broker outage leaves the job queued for
    ``recover_jobs`` instead of failing the request."""

    def send() -> None:
        try:
            task.apply_async((job_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE, **options)
        except Exception:  # noqa: BLE001 - any broker error; recover_jobs sends it later
            log.exception("could not enqueue job %s", job_id)

    transaction.on_commit(send)


def claim(job_id: int, token: str) -> bool:
    """Take the job: queued (and not waiting out a retry's backoff), or running under a
    lease that lapsed. One winner."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(
        Job.objects.filter(pk=job_id)
        .filter(free, status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
        .update(
            status=Job.Status.RUNNING,
            worker=token,
            lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
        )
    )


def _set_phase(job: Job, phase: str, token: str, **fields: Any) -> None:
    job.timeline = [*job.timeline, {"phase": phase, "at": _stamp_now()}]
    job.phase = phase
    updated = Job.objects.filter(pk=job.pk, worker=token).update(
        phase=phase,
        timeline=job.timeline,
        lease_until=timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        **fields,
    )
    if not updated:
        raise LostClaimError


def _end(job: Job, token: str | None, status: str, **fields: Any) -> bool:
    """Record the outcome, only while we still hold the job."""
    qs = Job.objects.filter(pk=job.pk)
    qs = qs.filter(worker=token) if token else qs.exclude(status__in=Job.DONE)
    done_phase = [{"phase": status, "at": _stamp_now()}]
    return bool(
        qs.update(
            status=status,
            finished_at=timezone.now(),
            lease_until=None,
            worker="",
            timeline=job.timeline + done_phase,
            **fields,
        )
    )


def upload_connection(project_id: int) -> Connection:
    """The project's client with a read timeout for bodies that take minutes (the cached
    page client keeps its 60 s); same auth (token cache) and connection pool."""
    base = cloudapi_for_project(project_id)
    return Connection(
        base.auth,
        session=base.http.session,
        connect_timeout=base.http.timeout[0],
        read_timeout=settings.UPLOAD_CLOUD_READ_TIMEOUT,
        retries=base.http.retries,
    )


def _file_hashes(path) -> tuple[str, str]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    with open(path, "rb") as f:
        while chunk := f.read(READ_SIZE):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def _throttled(path, rate: int) -> Iterator[bytes]:
    """The file's chunks at most ``rate`` bytes/s (UPLOAD_CLOUD_MAX_RATE; 0 = unlimited)."""
    start, sent = time.monotonic(), 0
    with open(path, "rb") as f:
        while chunk := f.read(READ_SIZE):
            yield chunk
            sent += len(chunk)
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)


# --- upload ----------------------------------------------------------------------------------
def start_upload_job(upload: StagedUpload) -> Job:
    """A complete, format-checked staged upload becomes a queued Job (inside a transaction)."""
    job = Job.objects.create(
        project=upload.project,
        kind=Job.Kind.UPLOAD,
        title=upload.attrs.get("name", upload.filename)[:255],
        created_by=upload.user,
        upload=upload,
        params=upload.attrs,
        bytes_total=upload.length,
        phase=Job.Phase.STAGED,
        timeline=[{"phase": Job.Phase.STAGED, "at": _stamp_now()}],
    )
    record(
        "job.start",
        user=upload.user,
        project=upload.project,
        target_id=job.reference,
        target_name=job.title,
        params={"kind": job.kind, "file": upload.filename, "size": upload.length},
    )
    _enqueue(upload_image_task, job.pk)
    return job


class _Heartbeat:
    """Renews the job's lease every third of its length while the task runs, also through
    long silent calls (a cloud that takes minutes to store the last bytes), so only a dead
    worker's job is ever taken over."""

    def __init__(self, job_id: int, token: str):
        self.job_id, self.token = job_id, token
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = settings.JOB_LEASE_SECONDS / 3
        try:
            while not self.stop.wait(interval):
                lease = timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)
                if not Job.objects.filter(pk=self.job_id, worker=self.token).update(
                    lease_until=lease
                ):
                    return  # the job ended or is someone else's: nothing to keep alive
        finally:
            connection.close()  # this thread's own database connection

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop.set()
        self.thread.join()


class _Progress:
    """The ``progress`` callback: at most one DB write a second, which also renews the lease
    and notices a cancel or a lost claim (raising stops the stream; the client then deletes
    the queued image)."""

    def __init__(self, job: Job, token: str):
        self.job, self.token = job, token
        self.started = time.monotonic()
        self.last = 0.0
        self.uploading = self.verifying = False

    def __call__(self, sent: int) -> None:
        now = time.monotonic()
        total = self.job.bytes_total
        if not self.uploading:  # the image exists now: its data is on the way
            self.uploading = True
            _set_phase(self.job, Job.Phase.UPLOADING, self.token)
        if sent >= total and not self.verifying:
            self.verifying = True
            _set_phase(self.job, Job.Phase.VERIFYING, self.token, bytes_done=sent, eta_seconds=0)
            return
        if now - self.last < 1.0:
            return
        self.last = now
        rate = sent / max(now - self.started, 1e-6)
        updated = Job.objects.filter(pk=self.job.pk, worker=self.token).update(
            bytes_done=sent,
            rate=rate,
            eta_seconds=int((total - sent) / rate) if rate else None,
            lease_until=timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        )
        if not updated:
            raise LostClaimError
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise CancelledError


def _remove_stamped(conn: Connection, stamp: str, keep: str | None = None) -> None:
    for image in list(conn.image.images(**{STAMP: stamp})):
        if image.id != keep:
            conn.image.delete_image(image.id)


def _adopt_existing(conn: Connection, job: Job, stamp: str, path) -> Any:
    """After a crash: an active image with our stamp and our bytes is the result; anything
    else with our stamp is a leftover of an interrupted attempt and goes."""
    found = list(conn.image.images(**{STAMP: stamp}))
    if not found:
        return None
    md5, sha = _file_hashes(path)
    keep = next(
        (
            i
            for i in found
            if i.status == "active" and i.checksum == md5 and (i.os_hash_value or sha) == sha
        ),
        None,
    )
    for image in found:
        if keep is None or image.id != keep.id:
            log.info("job %s: deleting leftover image %s (%s)", job.pk, image.id, image.status)
            conn.image.delete_image(image.id)
    return keep


def _finish_cancel(job: Job, token: str | None) -> None:
    from images import staging

    if job.upload_id:
        try:
            _remove_stamped(upload_connection(job.project_id), str(job.upload_id))
        except ApiError as e:
            log.warning("job %s: could not delete its image on cancel: %s", job.pk, e)
        staging.remove_files(job.upload_id)
        StagedUpload.objects.filter(pk=job.upload_id).update(status=StagedUpload.Status.DONE)
    _end(job, token, Job.Status.CANCELLED, phase="", eta_seconds=None)
    record(
        "job.cancel",
        user=job.created_by,
        project=job.project,
        target_id=job.reference,
        target_name=job.title,
        params={"kind": job.kind, "outcome": "stopped"},
    )


def _record_end(job: Job, outcome: str, error: str = "") -> None:
    record(
        "job.finish",
        user=job.created_by,
        project=job.project,
        target_id=job.image_id or job.reference,
        target_name=job.title,
        params={"job": job.pk, "kind": job.kind, "outcome": outcome},
        outcome=outcome,
        error=error,
    )


def _backoff(attempt: int) -> float:
    base = settings.UPLOAD_RETRY_BACKOFF * 2 ** max(attempt - 1, 0)
    return min(base, 600) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


@shared_task(
    bind=True,
    name="jobs.upload_image",
    max_retries=None,
    acks_late=True,
    # Tens of GB take longer than the default hour; the lease, not a time limit, finds a dead
    # worker.
    soft_time_limit=UPLOAD_TIME_LIMIT - 60,
    time_limit=UPLOAD_TIME_LIMIT,
)
def upload_image_task(self, job_id: int) -> str:
    """Stream a staged upload to the cloud with ``upload_image``, exactly once."""
    job = Job.objects.filter(pk=job_id).select_related("project", "created_by").first()
    if job is None or job.kind != Job.Kind.UPLOAD:
        log.warning("upload job %s: no such upload job", job_id)
        return "missing"
    if job.is_done:
        return "done already"
    token = f"{uuid.uuid4().hex[:12]}@{self.request.hostname or 'local'}"[:64]
    if not claim(job_id, token):
        return "claimed elsewhere"
    job.refresh_from_db()
    if job.cancel_requested:
        _finish_cancel(job, token)
        return "cancelled"
    try:
        with _Heartbeat(job.pk, token):
            return _upload(job, token)
    except LostClaimError:
        return "lost claim"
    except CancelledError:
        _finish_cancel(job, token)
        return "cancelled"
    except exc.TransientError as e:
        if job.attempts > settings.UPLOAD_TASK_MAX_RETRIES:
            _fail(job, token, e)
            return "failed"
        # Give the job back, then come again later; the next run re-claims it. Until just
        # before then nobody else may take it (recover_jobs would skip the backoff).
        countdown = _backoff(job.attempts)
        Job.objects.filter(pk=job.pk, worker=token).update(
            status=Job.Status.QUEUED,
            worker="",
            lease_until=timezone.now() + timedelta(seconds=countdown * 0.9),
            last_error=f"Retrying: {e}",
        )
        raise self.retry(countdown=countdown, exc=e) from e
    except (ApiError, OSError) as e:
        _fail(job, token, e)
        return "failed"


def _fail(job: Job, token: str, e: Exception) -> None:
    """A permanent error: the message and request id on the job; the staging file stays so
    the user can retry."""
    if not isinstance(e, ApiError):  # cloud errors were recorded by ``audited`` already
        _record_end(job, "failure", str(e))
    _end(
        job,
        token,
        Job.Status.FAILED,
        last_error=str(e),
        request_id=getattr(e, "request_id", None) or "",
        error_code=getattr(e, "code", None) or "",
        eta_seconds=None,
    )


def _upload(job: Job, token: str) -> str:
    from images import staging

    path = staging.data_path(job.upload_id)
    if not path.exists():
        raise OSError(f"The staged file of this upload is gone ({path.name}); upload it again.")
    conn = upload_connection(job.project_id)
    stamp = str(job.upload_id)
    attrs = dict(job.params)
    _set_phase(job, Job.Phase.CREATING, token, last_error="")
    with audited(
        "image.upload",
        conn,
        user=job.created_by,
        project=job.project,
        target_name=attrs.get("name", ""),
        params={"job": job.pk, "size": job.bytes_total, "disk_format": attrs.get("disk_format")},
    ) as target:
        image = _adopt_existing(conn, job, stamp, path)
        if image is None:
            progress = _Progress(job, token)
            rate = settings.UPLOAD_CLOUD_MAX_RATE
            data: Any = _throttled(path, rate) if rate else path
            image = conn.image.upload_image(
                container_format=attrs.pop("container_format"),
                disk_format=attrs.pop("disk_format"),
                data=data,
                size=job.bytes_total,
                progress=progress,
                **{STAMP: stamp},
                **attrs,
            )
        target.target_id = image.id
        if image.status != "active":
            raise exc.ApiError(f"The image {image.id} is {image.status} after the upload.")
    _end(
        job,
        token,
        Job.Status.SUCCESS,
        phase=Job.Phase.DONE,
        image_id=image.id,
        checksum_md5=image.checksum or "",
        checksum_sha512=image.os_hash_value or "",
        bytes_done=job.bytes_total,
        eta_seconds=0,
        progress=100,
        last_error="",
    )
    # Only now, with the cloud's checksums matching the bytes sent, the staging file goes.
    staging.remove_files(job.upload_id)
    StagedUpload.objects.filter(pk=job.upload_id).update(status=StagedUpload.Status.DONE)
    return "success"


# --- IMS create ------------------------------------------------------------------------------
def start_create_job(project, user, body: dict, cloud_job_id: str) -> Job:
    now = timezone.now()
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.CREATE,
        status=Job.Status.RUNNING,
        title=body.get("name", "")[:255],
        created_by=user,
        params=body,
        cloud_job_id=cloud_job_id,
        phase=Job.Phase.SUBMITTED,
        started_at=now,
        deadline=now + timedelta(seconds=settings.IMS_JOB_DEADLINE_SECONDS),
        timeline=[{"phase": Job.Phase.SUBMITTED, "at": _stamp_now()}],
    )
    _enqueue(poll_ims_job_task, job.pk, countdown=settings.IMS_JOB_POLL_SECONDS)
    return job


@shared_task(bind=True, name="jobs.poll_ims_job", max_retries=None, acks_late=True)
def poll_ims_job_task(self, job_id: int) -> str:
    """One look at the IMS job per run; while it runs, come back later (no sleeping)."""
    job = Job.objects.filter(pk=job_id).select_related("project", "created_by").first()
    if job is None or job.kind != Job.Kind.CREATE:
        return "missing"
    if job.is_done:
        return "done already"
    if job.deadline and timezone.now() > job.deadline:
        reason = "IMS did not finish before the deadline."
        if _end(job, None, Job.Status.TIMED_OUT, last_error=reason):
            _record_end(job, "failure", reason)
        return "timed out"
    # One chain of polls per job: a run takes the job until just before its next run is due,
    # so a duplicate message (recover_jobs, a redelivery) ends its chain here.
    now, interval = timezone.now(), settings.IMS_JOB_POLL_SECONDS
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not Job.objects.filter(free, pk=job.pk, status=Job.Status.RUNNING).update(
        lease_until=now + timedelta(seconds=interval * 0.9)
    ):
        return "polled elsewhere"
    conn = cloudapi_for_project(job.project_id)
    try:
        cloud_job = conn.ims.get_job(job.cloud_job_id)
    except exc.TransientError as e:
        Job.objects.filter(pk=job.pk).update(last_error=f"Retrying: {e}")
        raise self.retry(countdown=settings.IMS_JOB_POLL_SECONDS, exc=e) from e
    except ApiError as e:
        _end(job, None, Job.Status.FAILED, last_error=str(e), request_id=e.request_id or "")
        return "failed"
    if not cloud_job.is_done:
        fields: dict[str, Any] = {"last_error": ""}
        if cloud_job.progress is not None:
            fields["progress"] = int(cloud_job.progress)
        if job.phase != Job.Phase.CLOUD_RUNNING and cloud_job.status.upper() == "RUNNING":
            job.timeline.append({"phase": Job.Phase.CLOUD_RUNNING, "at": _stamp_now()})
            fields.update(phase=Job.Phase.CLOUD_RUNNING, timeline=job.timeline)
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)
        raise self.retry(countdown=settings.IMS_JOB_POLL_SECONDS)
    if cloud_job.is_success:
        _end(
            job,
            None,
            Job.Status.SUCCESS,
            phase=Job.Phase.DONE,
            image_id=cloud_job.image_id or "",
            progress=100,
        )
        outcome = {"outcome": "success"}
    else:
        reason = cloud_job.fail_reason or "IMS reported FAIL without a reason."
        _end(job, None, Job.Status.FAILED, error_code=cloud_job.error_code or "", last_error=reason)
        outcome = {"outcome": "failure", "error_code": cloud_job.error_code or ""}
    record(
        "job.finish",
        user=job.created_by,
        project=job.project,
        target_id=cloud_job.image_id or job.reference,
        target_name=job.title,
        params={"job": job.pk, "cloud_job_id": job.cloud_job_id, **outcome},
        outcome="success" if cloud_job.is_success else "failure",
        error="" if cloud_job.is_success else f"{cloud_job.error_code}: {cloud_job.fail_reason}",
    )
    return "success" if cloud_job.is_success else "failed"


# --- recovery ----------------------------------------------------------------------------------
def recover_jobs() -> int:
    """Send again the jobs no worker is working on: running with a lapsed lease (the worker
    died), or queued for a while (a lost message). A job whose lease is still running gets a
    delayed message for when it lapses; the claim makes every extra message harmless."""
    now = timezone.now()
    sent = 0
    stale = now - timedelta(seconds=max(settings.JOB_LEASE_SECONDS, 30))
    poll_stale = now - timedelta(seconds=max(3 * settings.IMS_JOB_POLL_SECONDS, 30))
    for job in Job.objects.filter(
        Q(status=Job.Status.RUNNING, kind=Job.Kind.UPLOAD)
        | Q(status=Job.Status.QUEUED, lease_until__isnull=True, created_at__lt=stale)
        | Q(status=Job.Status.QUEUED, lease_until__lt=stale)
        | Q(
            status=Job.Status.RUNNING,
            kind=Job.Kind.CREATE,
            lease_until__isnull=True,
            created_at__lt=poll_stale,
        )
        | Q(status=Job.Status.RUNNING, kind=Job.Kind.CREATE, lease_until__lt=poll_stale)
    ):
        task = upload_image_task if job.kind == Job.Kind.UPLOAD else poll_ims_job_task
        countdown = 0.0
        if job.kind == Job.Kind.UPLOAD and job.lease_until and job.lease_until > now:
            countdown = (job.lease_until - now).total_seconds() + 1
        try:
            task.apply_async(
                (job.pk,), countdown=countdown, queue=settings.CELERY_TASK_DEFAULT_QUEUE
            )
            sent += 1
        except Exception:  # noqa: BLE001 - the broker is down; the next sweep tries again
            log.exception("could not re-send job %s", job.pk)
    return sent


def sweep() -> tuple[int, int, int]:
    """Expired uploads and orphan staging files removed, and jobs re-sent: what
    ``manage.py cleanup_uploads`` does, and every worker every JOBS_SWEEP_SECONDS."""
    from images import staging

    uploads, orphans = staging.cleanup()
    return uploads, orphans, recover_jobs()


def _sweep_forever(stop: threading.Event) -> None:
    # No Celery beat: each worker sweeps now and then; claims make overlapping sweeps safe.
    while not stop.wait(settings.JOBS_SWEEP_SECONDS):
        try:
            sweep()
        except Exception:  # noqa: BLE001 - keep sweeping; the next round may succeed
            log.exception("job sweep failed")
        finally:
            connection.close()


@worker_ready.connect
def _recover_on_start(**kwargs: Any) -> None:
    try:
        count = recover_jobs()
    except Exception:  # noqa: BLE001 - never stop a worker from starting
        log.exception("recover_jobs failed")
    else:
        if count:
            log.info("re-sent %s unfinished jobs", count)
    finally:
        connection.close()
    if settings.JOBS_SWEEP_SECONDS:
        threading.Thread(
            target=_sweep_forever, args=(threading.Event(),), daemon=True, name="jobs-sweep"
        ).start()
