from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "imsportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
