"""Where the portal gets its cloud clients: one ``cloudapi.Connection`` per cloud project.

Views call ``cloudapi_for(request)`` after ``get_project_for_user`` has put the request's
project on it; tasks call ``cloudapi_for_project(project_id)``. Connections are cached per
project and credentials version, shared by the threads of a process, and keep their token
until it nears expiry; saving a project bumps its version, so a changed credential takes
effect at the next call without a restart.
"""

from __future__ import annotations

import threading

import requests
from django.core.signals import setting_changed
from django.http import HttpRequest

from imsportal.cloudapi import Connection
from imsportal.cloudapi.http import new_session
from imsportal.projects.models import CloudProject

_lock = threading.Lock()
_cache: dict[int, tuple[tuple, Connection]] = {}
_session: requests.Session | None = None


def connection_for(project: CloudProject) -> Connection:
    """The cached connection for this version of the project's credentials."""
    global _session
    # updated_at too: a pk can come back after a rolled-back transaction.
    version = (project.credentials_version, project.updated_at)
    with _lock:
        cached = _cache.get(project.pk)
        if cached and cached[0] == version:
            return cached[1]
    # A new client: read the secrets (get_project_for_user leaves them out) outside the lock.
    if project.get_deferred_fields():
        project.refresh_from_db(fields=list(project.get_deferred_fields()))
    config = project.cloud_config()
    with _lock:
        cached = _cache.get(project.pk)
        if cached and cached[0] == version:
            return cached[1]  # another thread built it meanwhile
        if _session is None:
            _session = new_session()  # one connection pool per process, for every project
        conn = Connection.from_config(config, session=_session)
        _cache[project.pk] = (version, conn)
        return conn


def cloudapi_for(request: HttpRequest) -> Connection:
    """The client for the request's project (set by ``get_project_for_user``)."""
    project = getattr(request, "project", None)
    if project is None:
        raise RuntimeError("cloudapi_for needs get_project_for_user to have run first")
    return connection_for(project)


def cloudapi_for_project(project_id: int) -> Connection:
    """The client for a task: the project's stored credentials, never a user's token."""
    return connection_for(CloudProject.objects.get(pk=project_id))


def health_targets() -> list[tuple[str, Connection]]:
    """Every configured project's client, for /healthz."""
    return [(p.slug, connection_for(p)) for p in CloudProject.objects.all()]


def reset() -> None:
    """Forget every cached connection (tests)."""
    with _lock:
        _cache.clear()


# Tests change the timeouts with override_settings; every cached client has the old ones.
setting_changed.connect(
    lambda setting, **kw: reset() if setting == "CLOUD_HTTP" else None, weak=False
)
