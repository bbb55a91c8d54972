"""IMS asynchronous jobs: create an image from a server's system disk or from an object in a
bucket (reference ims.md §3.1, §3.3, §4), and ``GET /v1/{project_id}/jobs/{job_id}``.

A job is INIT for the first third of LOCALCLOUD_IMS_JOB_SECONDS, then RUNNING with a
growing ``process_percent``; once its time is up the work is done exactly once (under a
write transaction) and SUCCESS or FAIL is stored. The state comes from the wall time
since ``begin_time``, so a job survives a server restart. A daemon thread completes due
jobs in the background; reading a job completes it too, so nothing waits on the thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from imsportal.localcloud.ims.disks import SNIFF_HEAD, SNIFF_TAIL, sniff
from imsportal.localcloud.models import Bucket, Image, Job, Server

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024  # copy in the pieces uploads are read in

BY_INSTANCE = "imsCreateImageByInstance"
BY_FILE = "imsImportImageJob"
VIRTUAL_ENV = {
    "ECS": "FusionCompute",
    "FusionCompute": "FusionCompute",
    "BMS": "Ironic",
    "Ironic": "Ironic",
    "IsoImage": "IsoImage",
}


class JobFailure(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class JobState:
    status: str
    percent: float


def submit(project_id: str, user_id: str, job_type: str, params: dict[str, Any]) -> Job:
    total = settings.IMS_JOB_SECONDS
    return Job.objects.create(
        project_id=project_id,
        user_id=user_id,
        job_type=job_type,
        params=params,
        image_id=str(Image._meta.get_field("id").get_default()),
        begin_time=timezone.now(),
        init_seconds=total / 3,
        run_seconds=total - total / 3,
    )


def _due_at(job: Job) -> datetime:
    return job.begin_time + timedelta(seconds=job.init_seconds + job.run_seconds)


def state(job: Job, now: datetime | None = None) -> JobState:
    """Where the job is; a ``DUE`` status means its time is up but the work is not done."""
    if job.status:
        return JobState(job.status, 100.0 if job.status == "SUCCESS" else 0.0)
    elapsed = ((now or timezone.now()) - job.begin_time).total_seconds()
    if elapsed >= job.init_seconds + job.run_seconds:
        return JobState("DUE", 100.0)
    if elapsed < job.init_seconds:
        return JobState("INIT", 0.0)
    done = (elapsed - job.init_seconds) / job.run_seconds if job.run_seconds else 1.0
    return JobState("RUNNING", round(min(done * 100, 99.0), 1))


def complete(job_id: str) -> Job:
    """Do a due job's work and store its outcome once; returns the job as it stands.

    The bytes are copied before the write transaction, so a large source does not hold
    SQLite's write lock for the whole copy; inside it, the first thread to arrive (the
    runner or a GET of the job) stores the image and the outcome, a later one drops its
    copy."""
    job = Job.objects.get(pk=job_id)
    if job.status or state(job).status != "DUE":
        return job
    temp: Path | None = None
    failure: JobFailure | None = None
    try:
        try:
            temp, image = _prepare_image(job)
        except JobFailure as e:
            failure = e
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.status:
                return job
            if failure is None and temp is not None:
                os.replace(temp, settings.IMAGES_DIR / job.image_id)
                temp = None
                Image.objects.update_or_create(id=job.image_id, defaults=image)
                job.status = "SUCCESS"
            elif failure is not None:
                job.status, job.error_code, job.fail_reason = "FAIL", failure.code, failure.reason
            job.end_time = _due_at(job)
            job.save(update_fields=["status", "error_code", "fail_reason", "end_time"])
            return job
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def refresh(job: Job) -> Job:
    return complete(job.pk) if not job.status and state(job).status == "DUE" else job


# ---------------------------------------------------------------------------------------
# The work


def _source(job: Job) -> tuple[Path, dict[str, Any], JobFailure]:
    """The file the image is made of, the IMS attributes the source gives it, and the
    failure to report if the file cannot be read."""
    params = job.params
    if job.job_type == BY_INSTANCE:
        server = Server.objects.filter(id=params["instance_id"], project=job.project).first()
        if server is None:
            raise JobFailure("IMG.0005", "The ECS does not exist.")
        props = {
            "__os_type": server.os_type,
            "__platform": server.platform,
            "__os_version": server.os_version,
            "__os_bit": server.os_bit,
            "__data_origin": f"instance,{server.id}",
            "virtual_env_type": "FusionCompute",
            "_min_disk": server.disk_gb,
        }
        return (
            server.disk_path,
            props,
            JobFailure("IMG.0137", "Failed to read the ECS system disk."),
        )
    bucket_name, _, object_name = params["image_url"].partition(":")
    bucket = Bucket.objects.filter(name=bucket_name, project=job.project).first()
    missing = JobFailure("IMG.0057", f"The image file {params['image_url']} does not exist in OBS.")
    # A bucket of another project is as invisible as a missing one.
    if bucket is None or not (bucket.path / object_name).is_file():
        raise missing
    return (
        bucket.path / object_name,
        {"__root_origin": "file", "_min_disk": params["min_disk"]},
        missing,
    )


def _inspect(path: Path) -> tuple[bytes, bytes, int]:
    """The first and last bytes of ``path`` that sniff() needs, and its size."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(SNIFF_HEAD)
        f.seek(max(size - SNIFF_TAIL, 0))
        tail = f.read(SNIFF_TAIL)
    return head, tail, size


def _copy(source: Path, target: Path) -> tuple[int, str, str]:
    """Copy ``source`` to ``target`` in chunks; (size, md5, sha512) of what was copied."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha512()
    size = 0
    with open(source, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, md5.hexdigest(), sha.hexdigest()


def _prepare_image(job: Job) -> tuple[Path, dict[str, Any]]:
    """Copy the source's bytes to a temporary file beside the images; that file and the
    image's fields. Raises JobFailure, leaving no file behind."""
    params = job.params
    source, props, unreadable = _source(job)
    min_disk = props.pop("_min_disk")
    try:
        head, tail, size = _inspect(source)
    except OSError:
        raise unreadable from None
    if size == 0 and job.job_type == BY_FILE:
        raise JobFailure("IMG.0057", f"The image file {params['image_url']} is empty.")
    disk_format, virtual_size = sniff(head, tail, size)
    if job.job_type == BY_FILE:
        if virtual_size > min_disk * 1024**3:
            raise JobFailure(
                "IMG.0055",
                f"min_disk ({min_disk} GB) is smaller than the disk in the image file.",
            )
        if params.get("type") == "IsoImage":
            disk_format = "iso"
        props.update(params["os_attributes"])
        props["virtual_env_type"] = VIRTUAL_ENV[params.get("type") or "ECS"]
    props.update(params.get("extra_properties", {}))

    settings.IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    # A name of its own: the runner and a GET of the job may both be copying.
    temp = settings.IMAGES_DIR / f".{job.image_id}.{uuid.uuid4().hex}.partial"
    try:
        size, md5, sha = _copy(source, temp)
    except OSError:
        temp.unlink(missing_ok=True)
        raise unreadable from None
    now = timezone.now().replace(microsecond=0)
    return temp, {
        "name": params["name"],
        "status": "active",
        "visibility": "private",
        "owner": job.project_id,
        "container_format": "bare",
        "disk_format": disk_format,
        "min_disk": min_disk,
        "min_ram": params.get("min_ram") or 0,
        "size": size,
        "virtual_size": virtual_size,
        "checksum": md5,
        "os_hash_algo": "sha512",
        "os_hash_value": sha,
        "tags": params.get("tags", []),
        "properties": props,
        "created_at": now,
        "updated_at": now,
    }


# ---------------------------------------------------------------------------------------
# Background completion

_runner_lock = threading.Lock()
_runner: threading.Thread | None = None


def _run_forever() -> None:
    while True:
        time.sleep(min(0.5, max(settings.IMS_JOB_SECONDS / 6, 0.05)))
        try:
            close_old_connections()
            for job in Job.objects.filter(status=""):
                if state(job).status == "DUE":
                    complete(job.pk)
        except Exception:  # keep the runner alive; the next poll completes the job
            log.exception("IMS job runner")


def ensure_runner() -> None:
    """Start the background thread once per process (first IMS request)."""
    global _runner
    if _runner is not None and _runner.is_alive():
        return
    with _runner_lock:
        if _runner is None or not _runner.is_alive():
            _runner = threading.Thread(target=_run_forever, name="ims-jobs", daemon=True)
            _runner.start()
