"""The portal's tus 1.0.0 server: core, creation, termination, expiration and checksum.

    POST   /p/<slug>/images/uploads/              create (Upload-Length, Upload-Metadata)
    HEAD   /p/<slug>/images/uploads/<id>          the durable offset (ask before every resume)
    PATCH  /p/<slug>/images/uploads/<id>          append at Upload-Offset
    DELETE /p/<slug>/images/uploads/<id>          terminate
    OPTIONS either                                what this server supports

Uploads belong to the user and project that created them: anyone else gets 404, as for a
URL that does not exist. Writes need the operator role and Django's CSRF header
(``X-CSRFToken``), which the upload page's JS sends with every tus request.
Protocol: https://tus.io/protocols/resumable-upload
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC
from email.utils import format_datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone

from images import staging
from images.upload_forms import ImageUploadForm
from images.views.upload import disk_formats
from imsportal.accounts.roles import OPERATOR
from imsportal.projects.access import project_view
from jobs.models import StagedUpload

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration,checksum"
CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha256", "sha512")


def _response(status: int, text: str = "", **headers: str) -> HttpResponse:
    resp = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    resp["Tus-Resumable"] = TUS_VERSION
    resp["Cache-Control"] = "no-store"
    for name, value in headers.items():
        resp[name.replace("_", "-")] = value
    return resp


def _expires(upload: StagedUpload) -> str:
    return format_datetime(upload.expires_at.astimezone(UTC), usegmt=True)


def _int_header(request: HttpRequest, name: str) -> int | None:
    value = request.headers.get(name, "")
    return int(value) if value.isdigit() else None


def parse_metadata(header: str) -> dict[str, str] | None:
    """``key b64,key b64`` -> dict; ``None`` when malformed."""
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            return None
    return result


def _version_error(request: HttpRequest) -> HttpResponse | None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        return _response(412, "Tus-Resumable 1.0.0 required.", Tus_Version=TUS_VERSION)
    return None


def _options() -> HttpResponse:
    return _response(
        204,
        Tus_Version=TUS_VERSION,
        Tus_Extension=EXTENSIONS,
        Tus_Max_Size=str(settings.UPLOAD_MAX_SIZE),
        Tus_Checksum_Algorithm=",".join(CHECKSUM_ALGORITHMS),
    )


def _form_errors(form: ImageUploadForm) -> str:
    return "\n".join(
        f"{'' if field == '__all__' else field + ': '}{' '.join(errors)}"
        for field, errors in form.errors.items()
    )


@project_view(OPERATOR, methods=("POST", "OPTIONS"))
def tus_create(request: HttpRequest, project) -> HttpResponse:
    if request.method == "OPTIONS":
        return _options()
    if error := _version_error(request):
        return error
    length = _int_header(request, "Upload-Length")
    if length is None:
        return _response(400, "Upload-Length is required (deferred lengths are not supported).")
    if length > settings.UPLOAD_MAX_SIZE:
        return _response(
            413, f"The file is larger than the maximum of {settings.UPLOAD_MAX_SIZE} bytes."
        )
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    if metadata is None:
        return _response(400, "Upload-Metadata is malformed.")
    # The page sends its form fields urlencoded in one "form" entry; other clients may send
    # the fields as metadata keys of their own.
    data = QueryDict(metadata["form"]) if "form" in metadata else metadata
    form = ImageUploadForm(data, disk_formats=disk_formats(request, project))
    if not form.is_valid():
        return _response(400, _form_errors(form))
    try:
        upload = staging.create(project, request.user, length, metadata, form.image_attrs())
    except staging.NoSpaceError as e:
        return _response(507, str(e))
    location = reverse("images:tus_upload", args=[project.slug, upload.id])
    # Relative: correct behind a TLS-terminating proxy whatever the Host it forwards.
    return _response(201, Location=location, Upload_Expires=_expires(upload))


def _own_upload(request: HttpRequest, project, upload_id) -> StagedUpload | None:
    return StagedUpload.objects.filter(pk=upload_id, project=project, user=request.user).first()


def _is_expired(upload: StagedUpload) -> bool:
    return upload.status == StagedUpload.Status.RECEIVING and upload.expires_at < timezone.now()


@project_view(OPERATOR, methods=("HEAD", "PATCH", "DELETE", "OPTIONS"))
def tus_upload(request: HttpRequest, project, upload_id) -> HttpResponse:
    if request.method == "OPTIONS":
        return _options()
    if error := _version_error(request):
        return error
    upload = _own_upload(request, project, upload_id)
    if upload is None:
        return _response(404, "No such upload.")
    if _is_expired(upload):
        return _response(410, "This upload expired; start it again.")
    if request.method == "HEAD":
        return _head(project, upload)
    if request.method == "DELETE":
        return _terminate(upload)
    return _patch(request, project, upload)


def _head(project, upload: StagedUpload) -> HttpResponse:
    resp = _response(
        200,
        Upload_Offset=str(upload.offset),
        Upload_Length=str(upload.length),
        Upload_Expires=_expires(upload),
    )
    if upload.status == StagedUpload.Status.REJECTED:
        resp["Imsportal-Error"] = upload.error
    elif job := upload.jobs.first():
        # A client that lost the last PATCH's response learns where its job is.
        resp["Imsportal-Job"] = reverse("jobs:detail", args=[project.slug, job.pk])
    return resp


def _terminate(upload: StagedUpload) -> HttpResponse:
    if upload.status not in (StagedUpload.Status.RECEIVING, StagedUpload.Status.REJECTED):
        return _response(409, "The upload is complete; cancel its job instead.")
    try:
        with staging.writer_lock(upload.id):
            staging.remove_files(upload.id)
            upload.delete()
    except staging.UploadLockedError as e:
        return _response(423, str(e))
    return _response(204)


def _checksum(request: HttpRequest) -> tuple[str, bytes] | None | HttpResponse:
    header = request.headers.get("Upload-Checksum")
    if not header:
        return None
    algo, _, value = header.partition(" ")
    if algo not in CHECKSUM_ALGORITHMS:
        return _response(400, f"Checksum algorithm {algo} is not supported.")
    try:
        return algo, base64.b64decode(value, validate=True)
    except binascii.Error:
        return _response(400, "Upload-Checksum is malformed.")


def _patch(request: HttpRequest, project, upload: StagedUpload) -> HttpResponse:
    if request.content_type != "application/offset+octet-stream":
        return _response(415, "Content-Type must be application/offset+octet-stream.")
    offset = _int_header(request, "Upload-Offset")
    if offset is None:
        return _response(400, "Upload-Offset is required.")
    checksum = _checksum(request)
    if isinstance(checksum, HttpResponse):
        return checksum
    content_length = _int_header(request, "Content-Length")
    try:
        with staging.writer_lock(upload.id):
            upload.refresh_from_db()  # the offset as of now, under the lock
            if upload.status != StagedUpload.Status.RECEIVING:
                return _response(409, upload.error or "The upload is complete.")
            if offset != upload.offset:
                return _response(
                    409,
                    f"Upload-Offset {offset} is not the stored offset {upload.offset}.",
                    Upload_Offset=str(upload.offset),
                )
            if content_length and offset + content_length > upload.length:
                return _response(413, "The body goes beyond the upload's length.")
            staging.check_space(content_length or 0)
            new_offset = staging.append(upload, request, content_length, checksum)
            job = None
            if new_offset == upload.length:
                job = staging.finish(upload)
    except staging.UploadLockedError as e:
        return _response(423, str(e))
    except staging.NoSpaceError as e:
        return _response(507, str(e))
    except staging.ChecksumError as e:
        return _response(460, str(e))
    resp = _response(204, Upload_Offset=str(new_offset), Upload_Expires=_expires(upload))
    if job is not None:
        resp["Imsportal-Job"] = reverse("jobs:detail", args=[project.slug, job.pk])
    elif upload.status == StagedUpload.Status.REJECTED:
        resp["Imsportal-Error"] = upload.error
    return resp
