"""Who may act in which cloud project. Every project-scoped view calls
``get_project_for_user`` first: the project comes from the URL, never from the session, so
two tabs on two projects never act on each other's project."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseNotAllowed

from imsportal.accounts.roles import VIEWER
from imsportal.projects.models import CloudProject, ProjectRole


def roles_in(user, project: CloudProject) -> frozenset[str]:
    """The user's roles in the project, read as every page reads them."""
    if not user.is_authenticated:
        return frozenset()
    return frozenset(p.role for p in _project_with_roles(project.slug, user.pk))


def projects_for(user) -> QuerySet[CloudProject]:
    """The projects the user holds any role in, by name; their secrets are left unread."""
    if not user.is_authenticated:
        return CloudProject.objects.none()
    return (
        CloudProject.objects.filter(roles__user=user)
        .distinct()
        .order_by("name")
        .defer(*CloudProject.SECRET_FIELDS)
    )


def projects_and_roles(user) -> list[tuple[CloudProject, frozenset[str]]]:
    """The user's projects by name, each with the roles held there.

    One query, made once per request however many parts of a page ask (the header's project
    switcher, the owner names of a list): the answer is kept on the request's user object.
    """
    if not user.is_authenticated:
        return []
    kept = getattr(user, "_projects_and_roles", None)
    if kept is None:
        projects: dict[int, CloudProject] = {}
        held: dict[int, set[str]] = {}
        rows = (
            ProjectRole.objects.filter(user=user)
            .select_related("project")
            .defer(*(f"project__{name}" for name in CloudProject.SECRET_FIELDS))
            .order_by("project__name", "role")
        )
        for row in rows:
            projects.setdefault(row.project_id, row.project)
            held.setdefault(row.project_id, set()).add(row.role)
        kept = [(p, frozenset(held[pk])) for pk, p in projects.items()]
        user._projects_and_roles = kept
    return kept


@functools.cache
def _project_with_roles_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(
        f"p.{qn(f.column)}"
        for f in CloudProject._meta.concrete_fields
        if f.name not in CloudProject.SECRET_FIELDS
    )
    projects, roles = qn(CloudProject._meta.db_table), qn(ProjectRole._meta.db_table)
    # Identifiers from the models only; the slug and the user are parameters.
    return (
        f"SELECT {columns}, r.{qn('role')} FROM {projects} p JOIN {roles} r"  # noqa: S608
        f" ON r.{qn('project_id')} = p.{qn('id')}"
        f" WHERE p.{qn('slug')} = %s AND r.{qn('user_id')} = %s"
    )


def _project_with_roles(slug: str, user_id: int) -> list[CloudProject]:
    """The project, once per role the user holds there (``.role``); none: no role there.

    Every project page and every status poll asks this, so it is one plain SQL query: the
    ORM took about 0.9 ms to build the same join, a fifth of a poll. The secrets are left
    out (deferred): they are read, and decrypted, only when a cloud client is built.
    """
    return list(CloudProject.objects.raw(_project_with_roles_sql(), [slug, user_id]))


def get_project_for_user(request: HttpRequest, slug: str, role: str = VIEWER) -> CloudProject:
    """The project named in the URL, if the user holds ``role`` there (any role for viewer).

    Raises ``Http404`` when the user has no role in the project, so that its name does not
    leak; ``PermissionDenied`` when they have a role but not this one. Leaves the project and
    the user's roles on the request for ``cloudapi_for`` and the templates.
    """
    held = _project_with_roles(slug, request.user.pk) if request.user.is_authenticated else []
    if not held:
        raise Http404("No such project")
    project = held[0]
    roles = frozenset(p.role for p in held)
    request.project = project
    request.project_roles = roles
    if request.session.get("last_project") != project.slug:
        request.session["last_project"] = project.slug  # where "/" takes the user next time
    if role != VIEWER and role not in roles:
        raise PermissionDenied(f"Needs the {role} role in this project")
    return project


def project_view(role: str = VIEWER, methods: Iterable[str] = ("GET",)) -> Callable:
    """Decorate a view of ``/p/<project_slug>/…``: resolve the project and check ``role``
    first (404 / 403), then the method (405), then call ``view(request, project, …)``.

    The role check comes before the method check so that a user with no role in a project
    learns nothing about it, not even which methods its URLs take.
    """
    allowed = [m.upper() for m in methods]

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, project_slug: str, *args, **kwargs):
            project = get_project_for_user(request, project_slug, role)
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, project, *args, **kwargs)

        wrapper.required_role = role  # read by the project switcher
        return wrapper

    return decorate
