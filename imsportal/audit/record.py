"""Writing the audit trail: ``record`` for one entry, ``audited`` around a cloud change.

    with audited("image.delete", conn, request=request, image=image):
        conn.image.delete_image(image)

``audited`` collects the cloud's request ids of the calls made in its block (the changing
calls' ids, else the last call's), records success or the error, and re-raises errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from imsportal.audit.models import AuditEntry
from imsportal.cloudapi import ApiError, Connection

log = logging.getLogger(__name__)

# Parameter names whose values are never stored: passwords, tokens, secret keys.
_SECRET_NAME = re.compile(r"pass|secret|token|credential|^sk$|_sk$|private", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(params: Any) -> Any:
    """A JSON-safe copy of ``params`` with the values of secret-looking keys replaced."""
    if isinstance(params, dict):
        return {
            str(k): (REDACTED if v and _SECRET_NAME.search(str(k)) else redact(v))
            for k, v in params.items()
        }
    if isinstance(params, list | tuple | set | frozenset):
        return [redact(v) for v in params]
    if params is None or isinstance(params, bool | int | float | str):
        return params
    return str(params)


def client_addr(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only: a forwarded header is whatever the client says unless a trusted
    # proxy sets it, and the proxy's own access log has the rest.
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user=None,
    username: str = "",
    project=None,
    target_id: str = "",
    target_name: str = "",
    params: dict | None = None,
    outcome: str = AuditEntry.Outcome.SUCCESS,
    error: str = "",
    request_id: str = "",
) -> AuditEntry:
    """Write one entry. ``user`` and ``project`` default to the request's."""
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    if project is None and request is not None:
        project = getattr(request, "project", None)
    return AuditEntry.objects.create(
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        client_addr=client_addr(request),
        project=project,
        project_name=project.name if project is not None else "",
        action=action,
        target_id=str(target_id or "")[:255],
        target_name=str(target_name or "")[:255],
        params=redact(params or {}),
        outcome=outcome,
        error=error,
        request_id=(request_id or "")[:255],
    )


@dataclass
class AuditTarget:
    """What ``audited`` yields: fill in the target once the block knows it (an upload's new
    image id, for example)."""

    target_id: str = ""
    target_name: str = ""
    params: dict = field(default_factory=dict)


@contextmanager
def audited(
    action: str,
    conn: Connection,
    *,
    request: HttpRequest | None = None,
    user=None,
    project=None,
    image=None,
    target_id: str = "",
    target_name: str = "",
    params: dict | None = None,
) -> Iterator[AuditTarget]:
    if image is not None:  # a change to one image: it is the target
        target_id, target_name = image.id, image.name or ""
    target = AuditTarget(str(target_id or ""), target_name or "", dict(params or {}))
    common = {"request": request, "user": user, "project": project}
    with conn.http.recording() as calls:
        try:
            yield target
        except ApiError as e:
            rid = e.request_id or _request_id(calls)
            record(
                action,
                **common,
                target_id=target.target_id,
                target_name=target.target_name,
                params=target.params,
                outcome=AuditEntry.Outcome.FAILURE,
                error=str(e),
                request_id=rid or "",
            )
            raise
    record(
        action,
        **common,
        target_id=target.target_id,
        target_name=target.target_name,
        params=target.params,
        request_id=_request_id(calls),
    )


def _request_id(calls) -> str:
    """The request ids of the calls that changed something; else of the last call."""
    changes = [c.request_id for c in calls if c.method != "GET" and c.request_id]
    if changes:
        return " ".join(dict.fromkeys(changes))
    return next((c.request_id for c in reversed(calls) if c.request_id), "")
