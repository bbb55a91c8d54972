"""The upload page: the image form, the tus widget (static/js/upload.js) and the registry of
the user's unfinished uploads in this project (so the same file picked again continues)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from images import staging
from images.upload_forms import ImageUploadForm, cloud_disk_formats, max_size_text
from imsportal.accounts.roles import OPERATOR
from imsportal.cloud import cloudapi_for
from imsportal.projects.access import project_view
from jobs.models import StagedUpload


def disk_formats(request: HttpRequest, project) -> list[str]:
    key = (project.pk, project.credentials_version, project.updated_at)
    return cloud_disk_formats(cloudapi_for(request), key)


def _unfinished(request: HttpRequest, project):
    """The user's own unfinished, unexpired uploads here: nobody else's, ever."""
    return StagedUpload.objects.filter(
        project=project,
        user=request.user,
        status=StagedUpload.Status.RECEIVING,
        expires_at__gt=timezone.now(),
    )


@project_view(OPERATOR)
def upload_page(request: HttpRequest, project) -> HttpResponse:
    context = {
        "form": ImageUploadForm(disk_formats=disk_formats(request, project)),
        "unfinished": _unfinished(request, project),
        "max_size": settings.UPLOAD_MAX_SIZE,
        "max_size_text": max_size_text(),
        "chunk_size": settings.UPLOAD_CHUNK_SIZE,
    }
    return render(request, "images/upload.html", context)


@project_view(OPERATOR)
def unfinished_uploads(request: HttpRequest, project) -> JsonResponse:
    """Unfinished uploads matching a picked file: same size, and the same fingerprint of its
    first and last MiB (or, where the browser cannot hash, the same name)."""
    uploads = _unfinished(request, project)
    size = request.GET.get("size", "")
    if size.isdigit():
        uploads = uploads.filter(length=int(size))
        fingerprint = request.GET.get("fingerprint", "")
        if fingerprint:
            uploads = uploads.filter(fingerprint=fingerprint)
        else:
            uploads = uploads.filter(filename=request.GET.get("filename", ""))
    items = [
        {
            "url": reverse("images:tus_upload", args=[project.slug, u.id]),
            "filename": u.filename,
            "length": u.length,
            "offset": u.offset,
            "percent": u.percent,
            "name": u.attrs.get("name", ""),
            "disk_format": u.attrs.get("disk_format", ""),
            "started": u.created_at.isoformat(),
        }
        for u in uploads[:20]
    ]
    return JsonResponse({"uploads": items})


@project_view(OPERATOR, methods=("POST",))
def discard_upload(request: HttpRequest, project, upload_id) -> HttpResponse:
    """Throw away an unfinished upload (the no-JS way to tus termination)."""
    upload = _unfinished(request, project).filter(pk=upload_id).first()
    if upload is None or request.POST.get("confirm") != "yes":
        messages.warning(request, "Nothing discarded: confirm, or the upload is gone already.")
        return redirect("images:upload", project.slug)
    try:
        with staging.writer_lock(upload.id):
            staging.remove_files(upload.id)
            upload.delete()
    except staging.UploadLockedError:
        messages.warning(request, "The upload is receiving data right now; pause it first.")
    else:
        messages.success(request, f"Discarded the unfinished upload of {upload.filename}.")
    return redirect("images:upload", project.slug)
