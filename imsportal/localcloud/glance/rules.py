"""Glance v2 rules: callers and policy, visibility, the image document.

Routing lives in ``routing``; the endpoints beside it: ``images`` (images, tags, actions),
``data`` (upload and download), ``listing``, ``members``, ``schemas`` and ``metadefs``.
Behaviour follows Glance's code (secure-RBAC policy defaults, single "fs" store) and the
project's Glance reference notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from imsportal.localcloud.models import Image, ImageMember, Token

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
