from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "imsportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from imsportal.accounts import lockout  # noqa: F401 - connects its signal receiver
        from imsportal.accounts.roles import ensure_roles

        post_migrate.connect(lambda **kwargs: ensure_roles(), sender=self, weak=False)
