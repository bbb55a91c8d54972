"""Create or update a local-cloud user, its project roles and (optionally) an AK/SK pair.

    python -m imsportal.localcloud localcloud_user alice --project demo \\
        --role member --role reader --password s3cret \\
        [--domain Default] [--project-domain Default] \\
        [--access-key AK --secret-key SK] [--disable]

Domain and project are created when missing; running it again changes only what it names.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from imsportal.localcloud.models import AccessKey, Domain, Project, RoleAssignment, User


class Command(BaseCommand):
    help = "Create or update a local-cloud user with roles on a project and an AK/SK pair."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--domain", default="Default", help="the user's domain (name)")
        parser.add_argument("--project", help="project name; created when missing")
        parser.add_argument(
            "--project-domain", help="the project's domain (name); default: the user's"
        )
        parser.add_argument(
            "--role", action="append", default=[], help="role on the project (repeatable)"
        )
        parser.add_argument("--password", help="set the password (required for a new user)")
        parser.add_argument("--access-key", help="give the user this AK (with --secret-key)")
        parser.add_argument("--secret-key", help="the SK of --access-key")
        parser.add_argument("--disable", action="store_true", help="disable the user")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["role"] and not opts["project"]:
            raise CommandError("--role needs --project")
        if bool(opts["access_key"]) != bool(opts["secret_key"]):
            raise CommandError("--access-key and --secret-key go together")
        with transaction.atomic():
            domain = self._domain(opts["domain"])
            user = User.objects.filter(name=opts["name"], domain=domain).first()
            if user is None:
                if not opts["password"]:
                    raise CommandError("a new user needs --password")
                user = User(name=opts["name"], domain=domain)
            if opts["password"]:
                user.set_password(opts["password"])
            if opts["disable"]:
                user.enabled = False
            user.save()
            project = None
            if opts["project"]:
                project_domain = self._domain(opts["project_domain"] or opts["domain"])
                project, _ = Project.objects.get_or_create(
                    name=opts["project"], domain=project_domain
                )
                for role in opts["role"]:
                    RoleAssignment.objects.get_or_create(user=user, project=project, role=role)
            if opts["access_key"]:
                key = AccessKey.objects.filter(access=opts["access_key"]).first()
                if key is not None and key.user_id != user.id:
                    raise CommandError("that access key belongs to another user")
                AccessKey.objects.update_or_create(
                    access=opts["access_key"], defaults={"secret": opts["secret_key"], "user": user}
                )
        line = f"user {user.name} ({user.id}) in domain {domain.name}"
        if project is not None:
            roles = sorted(
                RoleAssignment.objects.filter(user=user, project=project).values_list(
                    "role", flat=True
                )
            )
            line += f"; project {project.name} ({project.id}) roles {','.join(roles) or '-'}"
        self.stdout.write(line)

    @staticmethod
    def _domain(name: str) -> Domain:
        domain = Domain.objects.filter(name=name).first()
        if domain is None:
            # "Default" keeps Keystone's well-known id, as the seed creates it.
            extra = {"id": "default"} if name == "Default" else {}
            domain = Domain.objects.create(name=name, **extra)
        return domain
