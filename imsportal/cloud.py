"""Where the portal gets its cloud client. Views and tasks call ``cloudapi_for``; tests may
patch it. The connection (and its cached token) is shared by the threads of a process."""

import threading

from django.conf import settings
from django.core.signals import setting_changed

from imsportal.cloudapi import Connection

_lock = threading.Lock()
_connection: Connection | None = None


def connection() -> Connection:
    global _connection
    with _lock:
        if _connection is None:
            # A page's calls end within the budget whatever the retries (cloud projects that
            # run uploads will want a connection with a longer one).
            _connection = Connection.from_config(
                settings.CLOUD, total_timeout=settings.CLOUD_REQUEST_BUDGET
            )
        return _connection


def cloudapi_for(request=None) -> Connection:
    """The client for the request's cloud project (one configured project for now)."""
    return connection()


def health_targets() -> list[tuple[str, Connection]]:
    """(name, client) of every cloud project ``/healthz`` checks; one configured project now.

    The names may be shown to logged-in staff only: anonymous callers get a count.
    """
    return [("default", connection())]


def reset(**kwargs) -> None:
    global _connection
    with _lock:
        _connection = None


setting_changed.connect(
    lambda setting, **kw: reset() if setting in ("CLOUD", "CLOUD_REQUEST_BUDGET") else None,
    weak=False,
)
