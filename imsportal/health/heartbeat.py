"""A Celery worker bootstep that records the worker's heartbeat in the portal's database,
so ``/healthz`` learns that a worker is alive from one query instead of a ping round trip
through the broker."""

from __future__ import annotations

import logging

from celery import bootsteps

log = logging.getLogger(__name__)


class HeartbeatStep(bootsteps.StartStopStep):
    """Writes ``WorkerHeartbeat(hostname, seen_at=now)`` at start and every
    ``WORKER_HEARTBEAT_SECONDS`` on the worker's timer; deletes the row at a clean stop."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker) -> None:
        from django.conf import settings

        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        self._write(worker, delete=True)

    def beat(self, worker) -> None:
        self._write(worker)

    @staticmethod
    def _write(worker, delete: bool = False) -> None:
        # Imported here: the Celery app (and this step) load before Django's apps are ready.
        from django.db import DatabaseError, close_old_connections
        from django.utils import timezone

        from imsportal.health.models import WorkerHeartbeat

        close_old_connections()
        try:
            rows = WorkerHeartbeat.objects.filter(hostname=worker.hostname)
            if delete:
                rows.delete()
            else:
                WorkerHeartbeat.objects.update_or_create(
                    hostname=worker.hostname, defaults={"seen_at": timezone.now()}
                )
        except DatabaseError as e:
            # A missed beat is reported by /healthz in time; the worker keeps working.
            log.warning("could not record the worker heartbeat: %s", e)
