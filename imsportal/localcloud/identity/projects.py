"""Keystone v3 projects: ``GET /v3/projects`` (with ``name``, ``domain_id``, ``enabled``
filters), ``GET /v3/projects/{id}`` and ``GET /v3/users/{id}/projects``.

Policy is Keystone's secure-RBAC default (2023.1 onwards), for project-scoped tokens:
- listing projects is for admins only; anyone else gets 403 (OSC then uses the raw id);
- a project can be read by an admin or with a token scoped to that project;
- a user's projects can be read by an admin or by that user.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from imsportal.localcloud.auth import valid_token
from imsportal.localcloud.identity.rules import TRUE_STRINGS, error, forbidden, links
from imsportal.localcloud.identity.views import GENERIC_401
from imsportal.localcloud.models import Project, Token


def project_ref(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.enabled,
        "parent_id": project.domain_id,
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": {"self": f"{settings.PUBLIC_URL}/identity/v3/projects/{project.id}"},
    }


def _caller(request: HttpRequest) -> Token | JsonResponse:
    if request.method != "GET":
        return error(405, "The method is not allowed for the requested URL.")
    caller = valid_token(request.headers.get("X-Auth-Token"))
    if caller is None:
        return error(401, GENERIC_401)
    return caller


def _is_admin(caller: Token) -> bool:
    return caller.project_id is not None and "admin" in caller.roles


def list_projects(request: HttpRequest) -> JsonResponse:
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    if not _is_admin(caller):
        return forbidden("identity:list_projects")
    projects = Project.objects.order_by("name")
    q = request.GET
    if "name" in q:
        projects = projects.filter(name=q["name"])
    if "domain_id" in q:
        projects = projects.filter(domain_id=q["domain_id"])
    if "enabled" in q:
        projects = projects.filter(enabled=q["enabled"].strip().lower() in TRUE_STRINGS)
    return JsonResponse(
        {"projects": [project_ref(p) for p in projects], "links": links("projects")}
    )


def show_project(request: HttpRequest, project_id: str) -> JsonResponse:
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    # Keystone checks the policy before looking the project up, so a non-admin cannot
    # tell a missing project from someone else's.
    if not (_is_admin(caller) or caller.project_id == project_id):
        return forbidden("identity:get_project")
    project = Project.objects.filter(id=project_id).first()
    if project is None:
        return error(404, f"Could not find project: {project_id}.")
    return JsonResponse({"project": project_ref(project)})


def list_user_projects(request: HttpRequest, user_id: str) -> JsonResponse:
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    if not (_is_admin(caller) or caller.user_id == user_id):
        return forbidden("identity:list_user_projects")
    projects = Project.objects.filter(assignments__user_id=user_id).distinct().order_by("name")
    if "enabled" in request.GET:
        wanted = request.GET["enabled"].strip().lower() in TRUE_STRINGS
        projects = projects.filter(enabled=wanted)
    return JsonResponse(
        {
            "projects": [project_ref(p) for p in projects],
            "links": links(f"users/{user_id}/projects"),
        }
    )
