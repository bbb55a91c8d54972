import secrets
from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from imsportal.accounts.roles import ROLES, ensure_roles


class Command(BaseCommand):
    help = "Create a portal user with a role; prints a generated password unless one is given."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), required=True)
        given = parser.add_mutually_exclusive_group()
        given.add_argument("--password", help="default: generate one and print it once")
        given.add_argument(
            "--password-file",
            type=Path,
            help="read the password from this file (kept out of the shell history and ps)",
        )
        parser.add_argument("--superuser", action="store_true", help="also grant Django admin")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing if the user exists already"
        )

    def handle(self, username, role, password, superuser, if_missing, password_file, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            if if_missing:
                self.stdout.write(f"User {username!r} exists already; left unchanged.")
                return
            raise CommandError(f"User {username!r} exists already.")
        if password_file is not None:
            password = _read_password(password_file)
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        try:
            # The same rules (AUTH_PASSWORD_VALIDATORS) as every password form of the portal.
            password_validation.validate_password(password, user=User(username=username))
        except ValidationError as e:
            raise CommandError("The password is refused: " + " ".join(e.messages)) from None
        ensure_roles()
        user = User.objects.create_user(
            username, password=password, is_staff=superuser, is_superuser=superuser
        )
        user.groups.add(Group.objects.get(name=role))
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username!r}."))
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
