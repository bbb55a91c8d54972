"""Fault injection for tests: one row, read by the middleware on every request."""

from __future__ import annotations

from django.db import models


class FaultConfig(models.Model):
    """Faults the local cloud injects until they are cleared (all off by default)."""

    # Added before every request is handled, in milliseconds.
    latency_ms = models.PositiveIntegerField(default=0)
    # A share (0..1) of requests answered with error_status ...
    error_rate = models.FloatField(default=0.0)
    # ... and/or the next N requests answered with it (counts down).
    error_count = models.PositiveIntegerField(default=0)
    error_status = models.PositiveSmallIntegerField(default=503)
    retry_after = models.PositiveIntegerField(null=True)
    # Limits the latency and the errors to paths starting with this ("" means all).
    path_prefix = models.CharField(max_length=255, default="", blank=True)
    # Uploads read this many bytes of the body, then the connection is dropped.
    drop_upload_after_bytes = models.BigIntegerField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls) -> FaultConfig:
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.error_rate
            or self.error_count
            or self.drop_upload_after_bytes is not None
        )
