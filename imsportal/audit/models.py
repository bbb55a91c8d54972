"""The audit trail: one row for every change made through the portal, and every login.

Rows are written once and never changed from the portal; ``prune_audit`` deletes those
older than ``AUDIT_RETENTION_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the entry outlives a deleted user or project, and a failed login
    # names a user who may not exist.
    username = models.CharField(max_length=150, blank=True)
    client_addr = models.GenericIPAddressField(null=True, blank=True)
    project = models.ForeignKey(
        "projects.CloudProject",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    project_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_id = models.CharField(max_length=255, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    error = models.TextField(blank=True)
    request_id = models.CharField("cloud request id", max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action} {self.outcome}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit entries are written once and never changed")
        super().save(*args, **kwargs)
