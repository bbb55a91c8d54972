"""Upload bookkeeping outside the views: where an upload's partial file lives, how an image
goes back to ``queued``, and the recovery of uploads whose writer died (a SIGKILL of the
server or of its worker), which would otherwise stay ``saving`` forever with a partial
file on disk.

A partial file is ``IMAGES_DIR/.<image id>.<writer pid>.<random>.part``, so the process
writing it can be told from its name. IMS jobs copy into ``.<image id>.<random>.partial``.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connections

from imsportal.localcloud.glance.rules import now
from imsportal.localcloud.models import Image

log = logging.getLogger(__name__)


def partial_path(image_id: str) -> Path:
    """A new partial file for an upload into ``image_id`` by this process."""
    return Path(settings.IMAGES_DIR) / f".{image_id}.{os.getpid()}.{uuid.uuid4().hex}.part"


def _parse(path: Path) -> tuple[str, int | None]:
    """(image id, writer pid) from a partial file's name; pid None for an unknown layout."""
    parts = path.name[1:].removesuffix(".part").split(".")
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return parts[0], None


def remove_partials(image_id: str) -> None:
    """Remove every partial file of an image (a live writer notices when it finishes)."""
    for path in Path(settings.IMAGES_DIR).glob(f".{image_id}.*.part"):
        path.unlink(missing_ok=True)


def reset_to_queued(image_ids: list[str] | None = None) -> int:
    """Put ``saving`` images (all of them for None) back to ``queued`` with no data."""
    images = Image.objects.filter(status="saving")
    if image_ids is not None:
        images = images.filter(pk__in=image_ids)
    return images.update(
        status="queued",
        size=None,
        virtual_size=None,
        checksum=None,
        os_hash_algo=None,
        os_hash_value=None,
        updated_at=now(),
    )


def recover_uploads(dead_pid: int | None = None) -> int:
    """Uploads whose writer is gone go back to ``queued`` and lose their partial files.

    Args:
        dead_pid: the worker that died; None when no writer can be alive (at start, or
            when the last worker died), which recovers every ``saving`` image and removes
            every partial file, the IMS jobs' copies included (a job redoes its copy).

    Returns:
        int: how many images went back to ``queued``.
    """
    images_dir = Path(settings.IMAGES_DIR)
    if not images_dir.is_dir():
        return 0
    stranded = []
    for path in images_dir.glob(".*.part"):
        image_id, pid = _parse(path)
        if dead_pid is None or pid == dead_pid:
            stranded.append(image_id)
            path.unlink(missing_ok=True)
    if dead_pid is None:
        for path in images_dir.glob(".*.partial"):
            path.unlink(missing_ok=True)
    try:
        count = reset_to_queued(None if dead_pid is None else stranded)
    finally:
        # This runs in gunicorn's master too: no database connection may cross a fork.
        connections.close_all()
    if count:
        log.warning("recovered %d upload(s) left in saving by a dead writer", count)
    return count
