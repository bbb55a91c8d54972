from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from imsportal.audit.models import AuditEntry


class Command(BaseCommand):
    help = "Delete audit entries older than AUDIT_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="default: the setting")

    def handle(self, days, **options):
        days = days if days is not None else settings.AUDIT_RETENTION_DAYS
        if days < 1:
            self.stderr.write("--days must be at least 1")
            return
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} audit entries older than {days} days.")
