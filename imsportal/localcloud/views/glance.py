"""Glance v2 foundations: callers and policy, routing, visibility, the image document.

The endpoints live beside this module: ``glance_images`` (images, tags, actions),
``glance_data`` (upload and download), ``glance_members`` and ``glance_schemas``.
Behaviour follows Glance's code (secure-RBAC policy defaults, single "fs" store);
see /work/shared/reference/glance-keystone.md and real-glance.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from imsportal.localcloud import aksk
from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.models import Image, ImageMember, Token
from imsportal.localcloud.views.errors import gateway_unauthorized, glance_error

GENERIC_401 = (
    "This server could not verify that you are authorized to access the document you requested."
    " Either you supplied the wrong credentials (e.g., bad password), or your browser does not"
    " understand how to supply the credentials required."
)
NO_BODY = "A body is not expected with this request."
STORE_ID = "fs"

Handler = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's project and roles, as Glance's request context has them."""

    token: Token
    project: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def can_read(self) -> bool:
        # Secure-RBAC defaults: reads need `reader`, writes need `member` (or admin).
        # Implied roles are Keystone's business: the token carries what was assigned.
        return self.is_admin or "reader" in self.roles

    @property
    def can_write(self) -> bool:
        return self.is_admin or "member" in self.roles

    def owns(self, image: Image) -> bool:
        return self.is_admin or (image.owner is not None and image.owner == self.project)


def now() -> datetime:
    # Glance keeps second precision; storing it makes created_at=eq:<shown value> match.
    return timezone.now().replace(microsecond=0)


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Authentication, routing, generic answers


def authenticate(request: HttpRequest) -> tuple[Caller | None, str]:
    """The caller from a project-scoped Keystone token or, as on Huawei/OTC's native
    OpenStack API, an AK/SK signature; or None and the reason."""
    token, reason = authenticate_or_reason(request)
    if token is None or token.project_id is None:
        return None, reason
    return Caller(token=token, project=token.project_id, roles=frozenset(token.roles)), ""


def unauthorized(request: HttpRequest, reason: str = "") -> HttpResponse:
    if aksk.is_signed(request) and "X-Auth-Token" not in request.headers:
        # A refused signature is answered by the API gateway, in its flat format.
        return gateway_unauthorized(request, reason)
    return glance_error(
        request,
        401,
        GENERIC_401,
        headers={"WWW-Authenticate": f'Keystone uri="{settings.PUBLIC_URL}/identity"'},
    )


def forbidden_action(request: HttpRequest, action: str) -> HttpResponse:
    return glance_error(request, 403, f"You are not authorized to complete {action} action.")


def has_body(request: HttpRequest) -> bool:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return True
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


def glance_route(body_allowed: tuple[str, ...] = ("POST", "PUT", "PATCH"), **handlers: Handler):
    """One URL of the v2 API: 401 first (as Glance's auth runs before its router), then
    405 with ``Allow`` for a method the URL lacks, then 400 for a body where none belongs.
    Handlers are called as ``handler(request, caller, **url_kwargs)``."""
    allow = ", ".join(sorted(handlers))

    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller, reason = authenticate(request)
        if caller is None:
            return unauthorized(request, reason)
        handler = handlers.get(request.method or "")
        if handler is None:
            return glance_error(
                request,
                405,
                f"The method {request.method} is not allowed for this resource.",
                headers={"Allow": allow},
            )
        if request.method not in body_allowed and has_body(request):
            return glance_error(request, 400, NO_BODY)
        return handler(request, caller, **kwargs)

    view.glance_handlers = handlers  # type: ignore[attr-defined]
    return view


def versions_body() -> dict:
    href = f"{settings.PUBLIC_URL}/image/v2/"
    versions = [("v2.17", "CURRENT")] + [
        (f"v2.{n}", "SUPPORTED") for n in (16, 15, 14, 9, 7, 6, 5, 4, 3, 2, 1, 0)
    ]
    return {
        "versions": [
            {"id": vid, "status": status, "links": [{"rel": "self", "href": href}]}
            for vid, status in versions
        ]
    }


def root(request: HttpRequest) -> HttpResponse:
    """Any path whose first segment is not a version answers with the versions and 300."""
    return JsonResponse(versions_body(), status=300)


def versions(request: HttpRequest) -> HttpResponse:
    return JsonResponse(versions_body())


def not_found(request: HttpRequest) -> HttpResponse:
    caller, reason = authenticate(request)
    if caller is None:
        return unauthorized(request, reason)
    return glance_error(request, 404, "The resource could not be found.")


# ---------------------------------------------------------------------------------------
# Visibility


def member_exists(project: str, statuses: tuple[str, ...] | None = None) -> Exists:
    members = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project)
    if statuses is not None:
        members = members.filter(status__in=statuses)
    return Exists(members)


def shown_q(caller: Caller) -> Q:
    """Images a caller may GET by id: public, community, its own, and shared with it in
    any member status (pending and rejected members can still read)."""
    if caller.is_admin:
        return Q()
    return (
        Q(visibility__in=("public", "community"))
        | Q(owner=caller.project)
        | (Q(visibility="shared") & member_exists(caller.project))
    )


def listed_q(caller: Caller, visibility: str | None, member_status: str) -> Q:
    """The images a list returns before the other filters (reference §1.8)."""
    statuses = None if member_status == "all" else (member_status,)
    if caller.is_admin:
        # Admins see everything; member_status means nothing to them.
        return Q() if visibility in (None, "all") else Q(visibility=visibility)
    mine = Q(owner=caller.project)
    shared_with_me = Q(visibility="shared") & member_exists(caller.project, statuses) & ~mine
    if visibility is None:
        return Q(visibility="public") | mine | shared_with_me
    if visibility == "all":
        return Q(visibility__in=("public", "community")) | mine | shared_with_me
    if visibility == "public":
        return Q(visibility="public")
    if visibility == "community":
        return Q(visibility="community")
    if visibility == "private":
        return mine & Q(visibility="private")
    return (mine & Q(visibility="shared")) | shared_with_me  # "shared"


def live_images() -> QuerySet[Image]:
    return Image.objects.exclude(status="deleted")


def find_image(caller: Caller, image_id: str) -> Image | None:
    """The image if the caller may see it; Glance answers 404 alike for missing and hidden."""
    if len(image_id) > 36:
        return None
    return live_images().filter(shown_q(caller), id=image_id).first()


def image_not_found(request: HttpRequest, image_id: str) -> HttpResponse:
    return glance_error(request, 404, f"No image found with ID {image_id}")


# ---------------------------------------------------------------------------------------
# The image document

BASE_FIELDS = (
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "container_format",
    "disk_format",
    "min_disk",
    "min_ram",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "tags",
    "created_at",
    "updated_at",
)


def base_body(image: Image) -> dict:
    """The image's base fields and links, without stores or properties (IMS starts here)."""
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "tags": list(image.tags),
        "created_at": ts(image.created_at),
        "updated_at": ts(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }


def image_body(image: Image) -> dict:
    body = base_body(image)
    if image.status in ("active", "deactivated") and image.size is not None:
        body["stores"] = STORE_ID  # multi-store with one filesystem store, as observed
    body.update(image.properties)
    return body
