"""Create or update the cloud project(s) the environment describes (idempotent).

With ``CLOUD_AUTH_URL`` (or ``CLOUD_IMAGE_ENDPOINT``) set: one project from the ``CLOUD_*``
variables, under ``CLOUD_PROJECT_SLUG``. Otherwise, on the embedded defaults: the local
cloud's two demo projects, ``owner`` and ``partner``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from imsportal.audit.record import record
from imsportal.projects.models import CloudProject


def sync(spec: dict) -> tuple[CloudProject, bool]:
    """Create or update one project from a spec; save only when something changed."""
    spec = {k: v for k, v in spec.items() if v is not None}
    slug = spec.pop("slug")
    spec["name"] = spec.get("name") or spec.get("project_name") or spec.get("project_id") or slug
    project = CloudProject.objects.filter(slug=slug).first()
    created = project is None
    project = project or CloudProject(slug=slug)
    changed = [k for k, v in spec.items() if getattr(project, k) != v]
    for key, value in spec.items():
        setattr(project, key, value)
    if created or changed:
        try:
            project.full_clean()
        except ValidationError as e:
            raise CommandError(f"Project {slug}: {e.message_dict}") from None
        project.save()
        secret = set(CloudProject.SECRET_FIELDS)
        record(
            "project.create" if created else "project.update",
            username="(environment)",
            project=project,
            target_id=slug,
            target_name=project.name,
            params={
                "fields": [k for k in changed if k not in secret] + sorted(secret & set(changed))
            },
        )
    return project, bool(created or changed)


class Command(BaseCommand):
    help = "Create or update the cloud project(s) described by the CLOUD_* settings."

    def handle(self, **options):
        if settings.CLOUD_PROJECT_FROM_ENV:
            specs = [dict(settings.CLOUD)]
        else:
            specs = [dict(p) for p in settings.LOCALCLOUD_DEMO_PROJECTS]
        for spec in specs:
            project, changed = sync(spec)
            what = "saved" if changed else "unchanged"
            self.stdout.write(f"Cloud project {project.slug!r} ({project.name}): {what}.")
