"""The workers' heartbeat: one row per Celery worker, refreshed every few seconds."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkerHeartbeatQuerySet(models.QuerySet):
    def alive(self) -> WorkerHeartbeatQuerySet:
        """Workers that beat within the last three heartbeat periods."""
        return self.filter(seen_at__gte=timezone.now() - max_heartbeat_age())


def max_heartbeat_age() -> timedelta:
    return timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)


class WorkerHeartbeat(models.Model):
    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    objects = WorkerHeartbeatQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
