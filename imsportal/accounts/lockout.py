"""Login throttling with django-axes: the client address it counts, and the place where a
lockout is reported (settings: AXES_*, LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES).

Superusers unlock with ``manage.py axes_reset_username NAME`` (or ``axes_reset_ip ADDR``,
``axes_reset``), or by deleting the access attempts in the Django admin.
"""

from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` reverse
    proxies the ``X-Forwarded-For`` entry the outermost of them added (entries further
    left come from the client and are not trusted)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


@receiver(user_locked_out, dispatch_uid="imsportal.accounts.lockout.record_lockout")
def record_lockout(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """A login was locked out (per account or per client address): log it and audit it.
    (Each refused attempt is also audited as a failed login, by imsportal/audit/signals.py.)"""
    from imsportal.audit.models import AuditEntry
    from imsportal.audit.record import record

    log.warning("login locked out: user %r from %s", username, ip_address)
    record(
        "login.lockout",
        request=request,
        username=str(username or ""),
        outcome=AuditEntry.Outcome.FAILURE,
        error="Logins paused after repeated failures",
    )
