from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "imsportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from imsportal.accounts import lockout  # noqa: F401 - connects its signal receiver
