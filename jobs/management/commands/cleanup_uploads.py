"""Remove abandoned uploads, and hand jobs whose worker died to another worker.

Run it from cron (or a systemd timer) every few minutes; no Celery beat is needed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from images import staging
from jobs.tasks import sweep


class Command(BaseCommand):
    help = (
        "Delete unfinished uploads older than UPLOAD_EXPIRY_SECONDS and staging files "
        "nothing refers to; re-send jobs whose worker stopped reporting."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-recover", action="store_true", help="only clean up the staging directory"
        )

    def handle(self, *args, **options):
        if options["no_recover"]:
            uploads, orphans = staging.cleanup()
            self.stdout.write(f"removed {uploads} expired uploads and {orphans} orphan files")
            return
        uploads, orphans, jobs = sweep()
        self.stdout.write(
            f"removed {uploads} expired uploads and {orphans} orphan files; "
            f"re-sent {jobs} unfinished jobs"
        )
