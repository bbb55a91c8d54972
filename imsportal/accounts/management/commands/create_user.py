import secrets
from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from imsportal.accounts.roles import ROLES
from imsportal.projects.models import CloudProject, ProjectRole


class Command(BaseCommand):
    help = (
        "Create a portal user, optionally with roles in cloud projects; prints a generated "
        "password unless one is given. With --if-missing an existing user only gains the roles."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            help="slug of a cloud project to grant the roles in (repeatable)",
        )
        parser.add_argument(
            "--role", action="append", default=[], choices=ROLES, help="role to grant (repeatable)"
        )
        given = parser.add_mutually_exclusive_group()
        given.add_argument("--password", help="default: generate one and print it once")
        given.add_argument(
            "--password-file",
            type=Path,
            help="read the password from this file (kept out of the shell history and ps)",
        )
        parser.add_argument("--superuser", action="store_true", help="also grant Django admin")
        parser.add_argument(
            "--if-missing", action="store_true", help="do not fail if the user exists already"
        )

    def handle(
        self, username, project, role, password, password_file, superuser, if_missing, **options
    ):
        if bool(project) != bool(role):
            raise CommandError("--project and --role go together")
        projects = []
        for slug in project:
            found = CloudProject.objects.filter(slug=slug).first()
            if found is None:
                raise CommandError(f"No cloud project {slug!r} (see manage.py sync_cloud_project)")
            projects.append(found)
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None and not if_missing:
            raise CommandError(f"User {username!r} exists already.")
        if password_file is not None:
            password = _read_password(password_file)
        generated = user is None and password is None
        if user is None:
            password = password or secrets.token_urlsafe(12)
            try:
                # The same rules (AUTH_PASSWORD_VALIDATORS) as every password form of the portal.
                password_validation.validate_password(password, user=User(username=username))
            except ValidationError as e:
                raise CommandError("The password is refused: " + " ".join(e.messages)) from None
            user = User.objects.create_user(
                username, password=password, is_staff=superuser, is_superuser=superuser
            )
            self.stdout.write(self.style.SUCCESS(f"Created {username!r}."))
        else:
            self.stdout.write(f"User {username!r} exists already; its password is unchanged.")
        for p in projects:
            for r in role:
                _, created = ProjectRole.objects.get_or_create(user=user, project=p, role=r)
                if created:
                    self.stdout.write(f"  {username} is now {r} in {p.slug}.")
        if generated:
            self.stdout.write(f"  user name: {username}\n  password:  {password}")
            self.stdout.write("  (shown once; change it in the admin or with changepassword)")


def _read_password(path: Path) -> str:
    try:
        # One trailing newline is the file's, not the password's.
        password = path.read_text().removesuffix("\n").removesuffix("\r")
    except OSError as e:
        raise CommandError(f"--password-file: cannot read {path}: {e.strerror}") from None
    if not password:
        raise CommandError(f"--password-file: {path} is empty")
    return password
