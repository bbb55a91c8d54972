"""Staging files of tus uploads: where they live, who may write, how bytes are appended.

Rules (each the fix of a bug other tus servers shipped):
- the offset stored (and reported by HEAD) counts bytes that were fsynced, never bytes merely
  received; a PATCH first truncates the file to that offset, so bytes written after the last
  fsync by a crashed process never count twice;
- one writer per upload: an exclusive ``flock`` on a lock file beside the data, taken without
  waiting (a second tab's PATCH gets 423, tus-js-client retries it);
- memory stays constant: the body is read and written in 1 MiB pieces;
- never a byte beyond the declared length; disk space checked before accepting bytes, and a
  full disk truncates back to the durable offset (a consistent state) and says so.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import Job, StagedUpload

log = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
# fsync (and record the durable offset) at least this often while a PATCH streams.
SYNC_SECONDS = 1.0
SYNC_BYTES = 64 * 1024 * 1024


class UploadLockedError(Exception):
    """Another request is writing to this upload."""


class NoSpaceError(Exception):
    """The staging volume cannot take the bytes."""


class ChecksumError(Exception):
    """The PATCH body does not match its Upload-Checksum."""


def staging_dir() -> Path:
    path = Path(settings.UPLOAD_STAGING_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_path(upload_id) -> Path:
    return staging_dir() / f"{upload_id}.part"


def lock_path(upload_id) -> Path:
    return staging_dir() / f"{upload_id}.lock"


def new_expiry():
    return timezone.now() + timedelta(seconds=settings.UPLOAD_EXPIRY_SECONDS)


def check_space(needed: int) -> None:
    """Refuse when ``needed`` more bytes would leave less than the configured reserve."""
    free = shutil.disk_usage(staging_dir()).free
    if free - needed < settings.UPLOAD_MIN_FREE_SPACE:
        raise NoSpaceError(
            f"The staging disk has {free // 2**20} MiB free; this upload needs "
            f"{needed // 2**20} MiB more. Ask an administrator to free space."
        )


def reserved_bytes() -> int:
    """Bytes promised to unfinished uploads but not yet received."""
    total = 0
    for length, offset in StagedUpload.objects.filter(
        status=StagedUpload.Status.RECEIVING
    ).values_list("length", "offset"):
        total += max(length - offset, 0)
    return total


def create(project, user, length: int, metadata: dict, attrs: dict) -> StagedUpload:
    check_space(length + reserved_bytes())
    upload = StagedUpload.objects.create(
        project=project,
        user=user,
        filename=metadata.get("filename", "")[:255],
        fingerprint=metadata.get("fingerprint", "")[:128],
        length=length,
        metadata=metadata,
        attrs=attrs,
        expires_at=new_expiry(),
    )
    data_path(upload.id).touch()
    return upload


@contextmanager
def writer_lock(upload_id) -> Iterator[None]:
    """Hold the upload's write lock, or raise ``UploadLockedError`` at once."""
    fd = os.open(lock_path(upload_id), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadLockedError("Another request is writing to this upload.") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process dies


def writer_lock_held(upload_id) -> bool:
    """Whether some request is writing to the upload right now."""
    try:
        with writer_lock(upload_id):
            return False
    except UploadLockedError:
        return True


def _durable(upload: StagedUpload, f: IO[bytes], offset: int) -> None:
    f.flush()
    os.fsync(f.fileno())
    StagedUpload.objects.filter(pk=upload.pk).update(
        offset=offset, expires_at=new_expiry(), updated_at=timezone.now()
    )
    upload.offset = offset


def append(
    upload: StagedUpload,
    body: IO[bytes],
    content_length: int | None,
    checksum: tuple[str, bytes] | None = None,
) -> int:
    """Append the request body at ``upload.offset`` (call inside ``writer_lock``).

    Returns the new durable offset. Stops at the upload's length. With a checksum the offset
    only moves once the whole body matched (else ``ChecksumError`` and nothing counts).
    """
    start = upload.offset
    limit = upload.length - start
    if content_length is not None:
        limit = min(limit, content_length)
    digest = hashlib.new(checksum[0]) if checksum else None
    written = 0
    path = data_path(upload.id)
    with open(path, "r+b") as f:
        f.truncate(start)  # bytes past the durable offset were never confirmed
        f.seek(start)
        last_sync, unsynced = time.monotonic(), 0
        try:
            while written < limit:
                chunk = body.read(min(READ_SIZE, limit - written))
                if not chunk:
                    break  # the client stopped sending (dropped connection or short body)
                f.write(chunk)
                if digest:
                    digest.update(chunk)
                written += len(chunk)
                unsynced += len(chunk)
                now = time.monotonic()
                if not digest and (unsynced >= SYNC_BYTES or now - last_sync >= SYNC_SECONDS):
                    _durable(upload, f, start + written)
                    last_sync, unsynced = now, 0
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                # A read error is the client going away: keep what is durable.
                log.info("upload %s: body read stopped: %s", upload.id, e)
            else:
                f.truncate(upload.offset)
                os.fsync(f.fileno())
                raise NoSpaceError(
                    "The staging disk is full; the upload keeps the bytes stored before."
                ) from e
        if digest is not None and checksum is not None and digest.digest() != checksum[1]:
            f.truncate(start)
            os.fsync(f.fileno())
            raise ChecksumError("The chunk does not match its Upload-Checksum.")
        _durable(upload, f, start + written)
    return upload.offset


def remove_files(upload_id) -> None:
    for path in (data_path(upload_id), lock_path(upload_id)):
        path.unlink(missing_ok=True)


def finish(upload: StagedUpload) -> Job | None:
    """The upload is complete: check the real format, then hand it to a worker.

    Returns the new Job, or ``None`` when the file is not what the form said (the upload is
    marked rejected with the reason, and its file removed: nothing went to the cloud).
    """
    from images.sniff import mismatch_message, sniff_file
    from jobs.tasks import start_upload_job

    declared = upload.attrs.get("disk_format", "")
    found = sniff_file(data_path(upload.id))
    problem = mismatch_message(declared, found)
    if problem:
        StagedUpload.objects.filter(pk=upload.pk).update(
            status=StagedUpload.Status.REJECTED, error=problem
        )
        upload.status, upload.error = StagedUpload.Status.REJECTED, problem
        remove_files(upload.id)
        return None
    with transaction.atomic():
        claimed = StagedUpload.objects.filter(
            pk=upload.pk, status=StagedUpload.Status.RECEIVING
        ).update(status=StagedUpload.Status.SUBMITTED)
        if not claimed:  # another request finished it first
            return upload.jobs.first()
        upload.status = StagedUpload.Status.SUBMITTED
        return start_upload_job(upload)


def expired_uploads():
    return StagedUpload.objects.filter(
        status__in=(StagedUpload.Status.RECEIVING, StagedUpload.Status.REJECTED),
        expires_at__lt=timezone.now(),
    )


def cleanup() -> tuple[int, int]:
    """Remove expired unfinished uploads and staging files nothing refers to.

    Returns (uploads removed, orphan files removed).
    """
    removed = 0
    for upload in expired_uploads():
        try:
            with writer_lock(upload.id):
                remove_files(upload.id)
                upload.delete()
                removed += 1
        except UploadLockedError:
            continue  # a PATCH is writing right now: not abandoned
    # A failed job keeps its file for a retry, but not forever.
    cutoff = timezone.now() - timedelta(seconds=settings.UPLOAD_EXPIRY_SECONDS)
    abandoned = StagedUpload.objects.filter(
        status=StagedUpload.Status.SUBMITTED,
        jobs__status__in=(Job.Status.FAILED, Job.Status.TIMED_OUT),
        jobs__finished_at__lt=cutoff,
    )
    for upload in abandoned:
        remove_files(upload.id)
        StagedUpload.objects.filter(pk=upload.pk).update(
            status=StagedUpload.Status.DONE, error="Removed: its job failed and was not retried."
        )
        removed += 1
    known = {str(u) for u in StagedUpload.objects.values_list("id", flat=True)}
    orphans = 0
    for path in staging_dir().glob("*.part"):
        if path.stem not in known:
            path.unlink(missing_ok=True)
            lock_path(path.stem).unlink(missing_ok=True)
            orphans += 1
    return removed, orphans
