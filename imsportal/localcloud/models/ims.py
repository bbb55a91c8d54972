"""IMS data: the servers (ECS) and object-storage buckets images are created from, and the
asynchronous jobs that create them. Bytes live on disk: a server's system disk under
DATA_DIR/servers/, an object under OBJECTS_DIR/<bucket>/<object>."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from imsportal.localcloud.models.identity import Project


def new_server_id() -> str:
    return str(uuid.uuid4())


def new_job_id() -> str:
    # IMS job ids are 32 hex digits.
    return uuid.uuid4().hex


class Server(models.Model):
    """An ECS in a project, with a system disk made of real bytes."""

    id = models.CharField(primary_key=True, max_length=36, default=new_server_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="servers")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, default="SHUTOFF")  # ACTIVE or SHUTOFF
    # What the system disk holds; it becomes the image's __os_* attributes.
    os_type = models.CharField(max_length=16, default="Linux")
    platform = models.CharField(max_length=32, default="Other")
    os_version = models.CharField(max_length=128, default="")
    os_bit = models.CharField(max_length=2, default="64")
    disk_gb = models.PositiveIntegerField(default=40)
    created_at = models.DateTimeField()

    @property
    def disk_path(self) -> Path:
        return Path(settings.DATA_DIR) / "servers" / f"{self.id}.disk"


class Bucket(models.Model):
    """An object-storage bucket; its objects are the files under OBJECTS_DIR/<name>/."""

    name = models.CharField(primary_key=True, max_length=63)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="buckets")

    @property
    def path(self) -> Path:
        return Path(settings.OBJECTS_DIR) / self.name


class Job(models.Model):
    """An IMS asynchronous job. INIT and RUNNING are computed from the wall time since
    ``begin_time`` (so a restart loses nothing); the terminal status is stored once the
    work is done."""

    id = models.CharField(primary_key=True, max_length=32, default=new_job_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ims_jobs")
    user_id = models.CharField(max_length=64)
    job_type = models.CharField(max_length=64)
    # The validated create request, replayed when the job completes.
    params = models.JSONField(default=dict)
    # Chosen up front so that completing twice (two threads, a restart) makes one image.
    image_id = models.CharField(max_length=36)
    begin_time = models.DateTimeField()
    init_seconds = models.FloatField()
    run_seconds = models.FloatField()
    status = models.CharField(max_length=8, default="", blank=True)  # SUCCESS/FAIL when done
    end_time = models.DateTimeField(null=True)
    error_code = models.CharField(max_length=16, null=True)
    fail_reason = models.TextField(null=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="ims_job_status")]
