"""Logins and failed logins go to the audit trail. The attempted password never does."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from imsportal.audit.models import AuditEntry
from imsportal.audit.record import record


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    record("login", request=request, user=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    record(
        "login",
        request=request,
        username=str(credentials.get("username", "")),
        outcome=AuditEntry.Outcome.FAILURE,
        error="Wrong user name or password",
    )
