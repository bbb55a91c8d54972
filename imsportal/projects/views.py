"""Cloud projects: the home redirect, the no-project page, and the superusers' pages that
manage projects, test their connection and grant roles in them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imsportal.audit.record import record
from imsportal.cloudapi import ApiError, Connection, PasswordAuth
from imsportal.projects.access import projects_for
from imsportal.projects.forms import ProjectForm, RoleForm
from imsportal.projects.models import CloudProject, ProjectRole


def _require_superuser(request: HttpRequest) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Only portal administrators manage cloud projects")


def _get_project_for_superuser(request: HttpRequest, slug: str) -> CloudProject:
    if not request.user.is_superuser:
        raise Http404("No such project")  # the slug of a project must not leak
    return get_object_or_404(CloudProject, slug=slug)


@require_GET
def home(request):
    """The last project the user worked in, else their first; or the no-project page."""
    projects = list(projects_for(request.user))
    if not projects:
        admins = get_user_model().objects.filter(is_superuser=True, is_active=True)
        names = sorted(admins.values_list("username", flat=True)[:5])
        return render(request, "projects/no_project.html", {"admins": names})
    last = request.session.get("last_project")
    chosen = next((p for p in projects if p.slug == last), projects[0])
    return redirect("images:list", project_slug=chosen.slug)


@require_http_methods(["GET", "POST"])
def logout_view(request):
    """GET asks (a link or a bookmark must not log anyone out); POST logs out."""
    if request.method == "POST":
        logout(request)
        return redirect("login")
    return render(request, "registration/logout_confirm.html")


@require_GET
def project_list(request):
    _require_superuser(request)
    projects = CloudProject.objects.all()
    return render(request, "projects/project_list.html", {"projects": projects})


@require_http_methods(["GET", "POST"])
def project_create(request):
    _require_superuser(request)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = form.save()
        record(
            "project.create",
            request=request,
            project=project,
            target_id=project.slug,
            target_name=project.name,
            params={"fields": form.changed_fields()},
        )
        messages.success(request, f"Project {project.name} created. Test its connection below.")
        return redirect("projects:detail", slug=project.slug)
    return render(request, "projects/project_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def project_detail(request, slug: str):
    """The project's settings form, its roles and the Test connection action."""
    project = _get_project_for_superuser(request, slug)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        changed = form.changed_fields()
        project = form.save()
        record(
            "project.update",
            request=request,
            project=project,
            target_id=project.slug,
            target_name=project.name,
            params={"fields": changed},
        )
        messages.success(request, f"Project {project.name} saved.")
        return redirect("projects:detail", slug=project.slug)
    context = {
        "form": form,
        "managed": project,
        "roles": project.roles.select_related("user"),
        "role_form": RoleForm(),
    }
    return render(request, "projects/project_detail.html", context)


@require_POST
def project_test(request, slug: str):
    """Authenticate with the stored credentials and show what the cloud says."""
    project = _get_project_for_superuser(request, slug)
    context: dict = {"managed": project}
    try:
        context["result"] = check_connection(project)
    except ApiError as e:
        context["error"] = str(e)
    if request.htmx:
        return render(request, "projects/project_detail.html#connection-result", context)
    if "error" in context:
        messages.error(request, f"Connection failed: {context['error']}")
    else:
        messages.success(request, f"Connected to project {context['result']['project']}.")
    return redirect("projects:detail", slug=project.slug)


def check_connection(project: CloudProject) -> dict:
    """A fresh, uncached connection: authenticate, list one image, report what was found."""
    conn = Connection.from_config(project.cloud_config())
    if isinstance(conn.auth, PasswordAuth):
        info = conn.auth.token_info
        scope = info.get("project", {})
        result = {
            "project": f"{scope.get('name', '')} ({scope.get('id', '')})",
            "user": info.get("user", {}).get("name", ""),
            "endpoints": [
                {
                    "type": service.get("type", ""),
                    "interface": ep.get("interface", ""),
                    "region": ep.get("region_id") or ep.get("region") or "",
                    "url": ep.get("url", ""),
                }
                for service in info.get("catalog", [])
                for ep in service.get("endpoints", [])
            ],
        }
    else:
        result = {
            "project": conn.auth.project_id or "(not set)",
            "user": project.access_key or "static token",
            "endpoints": [
                {"type": kind, "interface": "configured", "region": "", "url": url}
                for kind, url in conn.auth.endpoints.items()
            ],
        }
    images = conn.image.list_page(limit=1)
    result["image_service"] = "answers" + (" (has images)" if images.items else " (no images)")
    return result


@require_POST
def role_grant(request, slug: str):
    project = _get_project_for_superuser(request, slug)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a user and a role.")
        return redirect("projects:detail", slug=project.slug)
    user, role = form.cleaned_data["user"], form.cleaned_data["role"]
    with transaction.atomic():
        _, created = ProjectRole.objects.get_or_create(user=user, project=project, role=role)
        if created:
            record(
                "role.grant",
                request=request,
                project=project,
                target_id=user.get_username(),
                target_name=user.get_username(),
                params={"role": role},
            )
    messages.success(
        request,
        f"{user.get_username()} is {role} in {project.name}" + ("." if created else " already."),
    )
    return redirect("projects:detail", slug=project.slug)


@require_POST
def role_revoke(request, slug: str, pk: int) -> HttpResponse:
    project = _get_project_for_superuser(request, slug)
    role = ProjectRole.objects.filter(project=project, pk=pk).select_related("user").first()
    if role is None:
        messages.info(request, "That role was revoked already.")
        return redirect("projects:detail", slug=project.slug)
    username = role.user.get_username()
    with transaction.atomic():
        role.delete()
        record(
            "role.revoke",
            request=request,
            project=project,
            target_id=username,
            target_name=username,
            params={"role": role.role},
        )
    messages.success(request, f"{username} is no longer {role.role} in {project.name}.")
    return redirect("projects:detail", slug=project.slug)
