"""Glance v2 image members: sharing an image from its owner project to another project.

Rules (reference §4 and the observed table in real-glance.md): only ``shared`` images
have members; only the owner adds or removes them; only the member project sets its own
status; the owner sees every member, a member only itself.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud import jsonbody
from imsportal.localcloud.errors import glance_error
from imsportal.localcloud.glance.routing import image_not_found
from imsportal.localcloud.glance.rules import Caller, find_image, now, ts
from imsportal.localcloud.models import Image, ImageMember

MEMBER_QUOTA = 128


def member_body(member: ImageMember) -> dict:
    return {
        "member_id": member.member_id,
        "image_id": member.image_id,
        "status": member.status,
        "created_at": ts(member.created_at),
        "updated_at": ts(member.updated_at),
        "schema": "/v2/schemas/member",
    }


def _json(request: HttpRequest) -> Any:
    try:
        return jsonbody.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _image(request: HttpRequest, caller: Caller, image_id: str) -> Image | HttpResponse:
    image = find_image(caller, image_id) if caller.can_read else None
    return image if image is not None else image_not_found(request, image_id)


def _no_member(request: HttpRequest, image_id: str, member_id: str) -> HttpResponse:
    return glance_error(request, 404, f"{member_id} is not a member of image {image_id}")


def list_members(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    image = _image(request, caller, image_id)
    if isinstance(image, HttpResponse):
        return image
    if image.visibility != "shared":
        return glance_error(request, 403, "Only shared images have members.")
    members = ImageMember.objects.filter(image=image).order_by("created_at", "id")
    if not caller.owns(image):
        members = members.filter(member_id=caller.project)
    return JsonResponse(
        {"members": [member_body(m) for m in members], "schema": "/v2/schemas/members"}
    )


def add_member(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    image = _image(request, caller, image_id)
    if isinstance(image, HttpResponse):
        return image
    if not (caller.can_write and caller.owns(image)):
        return glance_error(request, 403, "You are not authorized to complete add_member action.")
    if image.visibility != "shared":
        return glance_error(request, 403, f"Not allowed to create members for image {image.pk}.")
    body = _json(request)
    member_id = body.get("member") if isinstance(body, dict) else None
    if not isinstance(member_id, str) or not member_id:
        return glance_error(request, 400, "Member to be added not specified")
    if len(member_id) > 255:
        return glance_error(request, 400, f"Member ID {member_id!r} is too long")
    stamp = now()
    try:
        with transaction.atomic():
            if ImageMember.objects.filter(image=image).count() >= MEMBER_QUOTA:
                return glance_error(
                    request,
                    413,
                    "The limit has been exceeded on the number of allowed image members "
                    f"for this image. Attempted: {MEMBER_QUOTA + 1}, Maximum: {MEMBER_QUOTA}",
                )
            member = ImageMember.objects.create(
                image=image, member_id=member_id, created_at=stamp, updated_at=stamp
            )
    except IntegrityError:
        return glance_error(
            request, 409, f"Member {member_id} already associated with image {image.pk}."
        )
    return JsonResponse(member_body(member))


def show_member(
    request: HttpRequest, caller: Caller, image_id: str, member_id: str
) -> HttpResponse:
    image = _image(request, caller, image_id)
    if isinstance(image, HttpResponse):
        return image
    # Glance turns every refusal here (non-shared image, someone else's entry) into 404.
    if image.visibility != "shared" or not (caller.owns(image) or member_id == caller.project):
        return _no_member(request, image_id, member_id)
    member = ImageMember.objects.filter(image=image, member_id=member_id).first()
    if member is None:
        return _no_member(request, image_id, member_id)
    return JsonResponse(member_body(member))


def update_member(
    request: HttpRequest, caller: Caller, image_id: str, member_id: str
) -> HttpResponse:
    body = _json(request)
    status = body.get("status") if isinstance(body, dict) else None
    if status is None:
        return glance_error(request, 400, "Status not specified")
    if status not in ImageMember.STATUSES:
        return glance_error(
            request,
            400,
            f"Provided object does not match schema 'member': {status!r} is not one of "
            f"{list(ImageMember.STATUSES)!r}",
        )
    image = _image(request, caller, image_id)
    if isinstance(image, HttpResponse):
        return image
    if image.visibility != "shared":
        return glance_error(request, 403, "Only shared images have members.")
    member = ImageMember.objects.filter(image=image, member_id=member_id).first()
    if member is None or not (caller.is_admin or caller.owns(image) or member_id == caller.project):
        return _no_member(request, image_id, member_id)
    if not (caller.is_admin or (member_id == caller.project and caller.can_write)):
        # The owner cannot answer an invitation on its partner's behalf.
        return glance_error(
            request, 403, "You are not authorized to complete modify_member action."
        )
    member.status = status
    member.updated_at = now()
    ImageMember.objects.filter(pk=member.pk).update(status=status, updated_at=member.updated_at)
    return JsonResponse(member_body(member))


def remove_member(
    request: HttpRequest, caller: Caller, image_id: str, member_id: str
) -> HttpResponse:
    image = _image(request, caller, image_id)
    if isinstance(image, HttpResponse):
        return image
    is_member = ImageMember.objects.filter(image=image, member_id=member_id)
    if not (caller.can_write and caller.owns(image)):
        if member_id == caller.project and is_member.exists():
            return glance_error(
                request, 403, "You are not authorized to complete delete_member action."
            )
        return _no_member(request, image_id, member_id)
    if not is_member.delete()[0]:
        return _no_member(request, image_id, member_id)
    return HttpResponse(status=204)
