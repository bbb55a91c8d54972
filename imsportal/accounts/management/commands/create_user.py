import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from imsportal.accounts.roles import ROLES, ensure_roles


class Command(BaseCommand):
    help = "Create a portal user with a role; prints a generated password unless one is given."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), required=True)
        parser.add_argument("--password", help="default: generate one and print it once")
        parser.add_argument("--superuser", action="store_true", help="also grant Django admin")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing if the user exists already"
        )

    def handle(self, username, role, password, superuser, if_missing, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            if if_missing:
                self.stdout.write(f"User {username!r} exists already; left unchanged.")
                return
            raise CommandError(f"User {username!r} exists already.")
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        ensure_roles()
        user = User.objects.create_user(
            username, password=password, is_staff=superuser, is_superuser=superuser
        )
        user.groups.add(Group.objects.get(name=role))
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username!r}."))
        if generated:
            self.stdout.write(f"  user name: {username}\n  password:  {password}")
            self.stdout.write("  (shown once; change it in the admin or with changepassword)")
