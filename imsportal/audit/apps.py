from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "imsportal.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from imsportal.audit import signals  # noqa: F401 - connects the login receivers
