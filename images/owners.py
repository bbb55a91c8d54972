"""Which portal project a cloud project id belongs to, for owner columns and badges.

Only the user's own portal projects are named (a project the user has no role in keeps its
name to itself). A project configured by name learns its id from its token, at most once per
process and credentials version; a failing project is simply not named.
"""

from __future__ import annotations

import threading
import time

from imsportal.cloud import connection_for
from imsportal.cloudapi import ApiError
from imsportal.projects.access import projects_and_roles
from imsportal.projects.models import CloudProject

_lock = threading.Lock()
_ids: dict[tuple, str] = {}
# A project whose token cannot be had is asked again only after this many seconds, so a
# misconfigured project does not slow every page that names owners.
RETRY_AFTER = 300
_failed: dict[tuple, float] = {}


def project_id_of(project: CloudProject, resolve: bool = True) -> str:
    """The cloud id of a portal project: its configured id, or the one its token names."""
    if project.project_id:
        return project.project_id
    # updated_at too: a pk can come back after a rolled-back transaction (as in cloud.py).
    key = (project.pk, project.credentials_version, project.updated_at)
    with _lock:
        if key in _ids:
            return _ids[key]
        failed_recently = key in _failed and time.monotonic() - _failed[key] < RETRY_AFTER
        if not resolve or failed_recently:
            return ""
    try:
        found = connection_for(project).auth.project_id
    except (ApiError, KeyError, ValueError):
        with _lock:
            _failed[key] = time.monotonic()
        return ""
    with _lock:
        _ids[key] = found
    return found


def known_owners(user, current: CloudProject | None = None, resolve: bool = True) -> dict:
    """``{cloud project id: CloudProject}`` for the user's projects.

    ``resolve=False`` names only projects whose id is known without a call (list pages keep
    to one API call per render; the current project's id comes with its token anyway).
    """
    owners = {}
    for project, _roles in projects_and_roles(user):
        pid = project_id_of(project, resolve=resolve or project == current)
        if pid:
            owners[pid] = project
    return owners
