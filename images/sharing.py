"""Sharing helpers for the members, inbox, outbox and bulk-share pages (no views here).

- ``project_directory``: the portal projects a user may see, by their cloud project id, so
  pages show a member or an owner by name where the portal knows it.
- ``scan_offers``: the images offered to a project in one member status, *without* the
  project's own shared images, counted exactly within a bound (see its docstring).
- ``pending_count``: the same for ``pending``, cached briefly, for the navigation badge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.cache import cache

from imsportal.cloud import connection_for
from imsportal.cloudapi import ApiError, Connection, Image
from imsportal.projects.access import projects_and_roles
from imsportal.projects.models import CloudProject

MEMBER_STATUSES = ("pending", "accepted", "rejected")
# Glance's api_limit_max is 1000 by default (the local cloud's too): one call lists up to
# 1000 images. The scan stops after SCAN_MAX_PAGES calls per status and says so.
SCAN_PAGE = 1000
SCAN_MAX_PAGES = 5
BADGE_SECONDS = 60
# Keystone ids are 32 hex digits; other clouds use other strings, so allow what an id can
# reasonably be, and nothing that could be markup or a path.
PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

T = TypeVar("T")
R = TypeVar("R")


def cloud_project_id(project: CloudProject) -> str:
    """The cloud's id of a portal project: its ``project_id``, else the id its connection's
    token is scoped to (resolved once per credentials version and cached). "" if unknown."""
    if project.project_id:
        return project.project_id
    stamp = project.updated_at.timestamp() if project.updated_at else 0
    key = f"cloud-project-id:{project.pk}:{project.credentials_version}:{stamp}"
    found = cache.get(key)
    if found is None:
        try:
            found = connection_for(project).auth.project_id or ""
        except (ApiError, KeyError, AttributeError):
            found = ""
        # A cloud that is down now is asked again in a minute, not on every page.
        cache.set(key, found, 24 * 3600 if found else 60)
    return found


@dataclass
class ProjectDirectory:
    """Portal projects (those the user holds a role in) by cloud project id."""

    by_id: dict[str, CloudProject] = field(default_factory=dict)

    def name(self, cloud_id: str | None) -> str:
        project = self.by_id.get(cloud_id or "")
        return project.name if project else ""

    def choices(self, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
        skip = set(exclude)
        return [(pid, p.name) for pid, p in self.by_id.items() if pid not in skip]


def project_directory(user, near: CloudProject | None = None) -> ProjectDirectory:
    """Only the user's projects: a project's name is not shown to users without a role in
    it (the same rule as its URLs, which answer 404). With ``near``, only projects on the
    same cloud host: others cannot be members here, and resolving their ids would wait on
    clouds this page does not use."""
    directory = ProjectDirectory()
    for project, _roles in projects_and_roles(user):
        if near is not None and project.cloud_host != near.cloud_host:
            continue
        pid = cloud_project_id(project)
        if pid:
            directory.by_id[pid] = project
    return directory


def parse_project_ids(text: str) -> list[str]:
    """Ids pasted comma, space or line separated, in order, without duplicates."""
    return list(dict.fromkeys(p for p in re.split(r"[\s,;]+", text or "") if p))


@dataclass
class Offers:
    """The images offered to a project in one member status (its own images left out)."""

    status: str
    images: list[Image]
    complete: bool  # False when SCAN_MAX_PAGES stopped the scan: ``count`` is a lower bound
    calls: int

    @property
    def count(self) -> int:
        return len(self.images)


def scan_offers(conn: Connection, status: str, max_pages: int = SCAN_MAX_PAGES) -> Offers:
    """List ``visibility=shared&member_status=<status>`` page by page and drop the images
    the project owns.

    Glance answers that query with the images shared *with* the project in that status
    **plus every shared image the project owns** (member_status does not filter those), and
    its ``owner`` filter only takes one exact id, so the own images cannot be excluded by
    the query. Paging through everything at the largest page size and counting is exact;
    it is bounded at ``max_pages`` calls (5,000 images per status by default).
    """
    mine = conn.auth.project_id
    if not mine:
        # A static token configured without its project id: own images cannot be told apart.
        raise ApiError("This project's cloud id is unknown: set it in the project's settings.")
    images: list[Image] = []
    marker, calls = None, 0
    while calls < max_pages:
        page = conn.image.list_page(
            limit=SCAN_PAGE, marker=marker, visibility="shared", member_status=status
        )
        calls += 1
        images.extend(i for i in page.items if i.owner != mine)
        marker = page.next_marker
        if not marker:
            break
    return Offers(status, images, complete=marker is None, calls=calls)


def _badge_key(project: CloudProject) -> str:
    return f"inbox-pending:{project.pk}"


def remember_pending(project: CloudProject, offers: Offers) -> None:
    cache.set(_badge_key(project), (offers.count, offers.complete), BADGE_SECONDS)


def forget_pending(project: CloudProject) -> None:
    cache.delete(_badge_key(project))


def forget_pending_of(cloud_id: str) -> None:
    """A share made through the portal to a project the portal knows: its badge is stale."""
    for project in CloudProject.objects.all():
        if cloud_project_id(project) == cloud_id:
            forget_pending(project)


def pending_count(project: CloudProject) -> tuple[int, bool] | None:
    """(count, exact) of pending offers, cached for BADGE_SECONDS; None if the cloud fails."""
    cached = cache.get(_badge_key(project))
    if cached is not None:
        return cached
    try:
        offers = scan_offers(connection_for(project), "pending")
    except ApiError:
        return None
    remember_pending(project, offers)
    return offers.count, offers.complete


def in_parallel(fn: Callable[[T], R], items: list[T], workers: int = 6) -> list[R]:
    """``[fn(i) for i in items]`` on a few threads: reads only (the audit trail records the
    calls of the thread that makes them, so changes stay on the request's thread)."""
    if len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def safe(fn: Callable[..., R], *args: Any) -> R | ApiError:
    """Call ``fn``; return the ApiError instead of raising it (one failed row of many)."""
    try:
        return fn(*args)
    except ApiError as e:
        return e
