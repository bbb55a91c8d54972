"""The IMS create page: ``create_cloudimage`` from a server or an object-storage file; the
returned IMS job becomes a portal Job that a worker polls (jobs/tasks.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from images.upload_forms import CloudImageCreateForm
from imsportal.accounts.roles import OPERATOR
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError
from imsportal.projects.access import project_view
from jobs.tasks import start_create_job


def _field(server: Any, name: str) -> str:
    value = server.get(name) if isinstance(server, dict) else getattr(server, name, None)
    return str(value or "")


def server_choices(conn) -> list[tuple[str, str]] | None:
    """The project's servers for the picker, or ``None`` when the client or the cloud has no
    compute API (the page then asks for the server id as text). The one place that knows."""
    servers = getattr(getattr(conn, "compute", None), "servers", None)
    if servers is None:
        return None
    try:
        return [
            (_field(s, "id"), f"{_field(s, 'name')} ({_field(s, 'status').lower()})")
            for s in servers()
        ]
    except ApiError:
        return None


@project_view(OPERATOR, methods=("GET", "POST"))
def create_page(request: HttpRequest, project) -> HttpResponse:
    conn = cloudapi_for(request)
    servers = server_choices(conn)
    form = CloudImageCreateForm(request.POST or None, servers=servers)
    if request.method == "POST" and form.is_valid():
        body = form.request_body()
        try:
            with audited(
                "cloudimage.create", conn, request=request, target_name=body["name"], params=body
            ):
                cloud_job = conn.ims.create_cloudimage(**body)
        except ApiError as e:
            form.add_error(None, str(e))
        else:
            job = start_create_job(project, request.user, body, cloud_job.job_id)
            messages.success(request, f"IMS is creating {body['name']}; this page follows it.")
            return redirect("jobs:detail", project.slug, job.pk)
    return render(request, "images/create.html", {"form": form, "servers": servers})
