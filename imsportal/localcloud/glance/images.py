"""Glance v2 images: create, show, update (JSON patch), delete, actions and tags.

The list call, with its filters and paging, is in ``listing``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud import jsonbody
from imsportal.localcloud.errors import glance_error
from imsportal.localcloud.glance import schemas as schema
from imsportal.localcloud.glance.routing import forbidden_action, image_not_found
from imsportal.localcloud.glance.rules import (
    BASE_FIELDS,
    STORE_ID,
    Caller,
    find_image,
    image_body,
    now,
)
from imsportal.localcloud.glance.uploads import remove_partials
from imsportal.localcloud.ims.rules import ims_attributes
from imsportal.localcloud.models import Image

PATCH_V21 = "application/openstack-images-v2.1-json-patch"
PATCH_V20 = "application/openstack-images-v2.0-json-patch"
ACCEPT_PATCH = f"{PATCH_V20}, {PATCH_V21}"


class ImageError(Exception):
    """An answer other than success, raised from deep inside a handler."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json_body(request: HttpRequest) -> Any:
    try:
        return jsonbody.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ImageError(400, "Malformed JSON in request body.") from None


def writable_image(caller: Caller, image_id: str, action: str) -> Image:
    """The image if the caller may change it: 404 when hidden, 403 when only readable."""
    image = find_image(caller, image_id)
    if image is None:
        raise ImageError(404, f"No image found with ID {image_id}")
    if not (caller.can_write and caller.owns(image)):
        raise ImageError(403, f"You are not authorized to complete {action} action.")
    return image


def errors_as_responses(handler):
    """Turn an ImageError raised by the handler into Glance's error body."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return handler(request, *args, **kwargs)
        except ImageError as e:
            return glance_error(request, e.status, e.message)
        except schema.SchemaError as e:
            return glance_error(request, 400, str(e))

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


# ---------------------------------------------------------------------------------------
# Create and show


@errors_as_responses
def create_image(request: HttpRequest, caller: Caller) -> HttpResponse:
    if not caller.can_write:
        return forbidden_action(request, "add_image")
    body = _json_body(request)
    if not isinstance(body, dict):
        raise ImageError(400, "Request body must be a JSON object.")
    for key in body:
        denied = schema.check_key(key)
        if denied:
            raise ImageError(*denied)
    for key, value in body.items():
        schema.validate(key, value)
    owner = body.get("owner")
    if owner is not None and owner != caller.project and not caller.is_admin:
        raise ImageError(403, f"You are not permitted to create images owned by '{owner}'.")
    if body.get("visibility") == "public" and not caller.is_admin:
        raise ImageError(403, "You are not authorized to complete publicize_image action.")
    base = {key: body[key] for key in schema.BASE_SETTABLE | {"id"} if key in body}
    base["tags"] = schema.unique_tags(base.get("tags", []))
    if base.get("owner") is None:
        # An explicit null would make an image no project owns, which no one but an
        # admin could ever change or delete: it gets the caller's project, as an absent one.
        base["owner"] = caller.project
    properties = {k: v for k, v in body.items() if k not in base and k not in BASE_FIELDS}
    too_many = schema.quota_error(base["tags"], properties)
    if too_many:
        raise ImageError(413, too_many)
    stamp = now()
    try:
        # A savepoint-free create: the row either lands or the id is taken.
        with transaction.atomic():
            image = Image.objects.create(
                **base, properties=properties, created_at=stamp, updated_at=stamp
            )
    except IntegrityError:
        raise ImageError(409, f"Image with identifier {base.get('id')} already exists!") from None
    resp = JsonResponse(image_body(image), status=201)
    # webob makes the Location absolute against the host, dropping any path prefix.
    resp["Location"] = request.build_absolute_uri(f"/v2/images/{image.id}")
    resp["OpenStack-image-store-ids"] = STORE_ID
    return resp


def show_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    image = find_image(caller, image_id) if caller.can_read else None
    if image is None:
        return image_not_found(request, image_id)
    # As on IMS's Glance-compatible API, the image carries its IMS attributes.
    return JsonResponse(image_body(image) | ims_attributes([image], caller.project)[image.id])


# ---------------------------------------------------------------------------------------
# Update: RFC 6902 subset on one-segment paths


def _parse_pointer(path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ImageError(400, f"Invalid JSON pointer for this resource: '{path}'")
    segments = path[1:].split("/")
    if segments[0] == "locations":
        return "locations"
    if len(segments) != 1 or not segments[0]:
        raise ImageError(400, f"Invalid JSON pointer for this resource: '{path}'")
    return segments[0].replace("~1", "/").replace("~0", "~")


def _parse_ops(body: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(body, list):
        raise ImageError(400, "Request body must be a JSON array of operation objects.")
    ops = []
    for item in body:
        if not isinstance(item, dict):
            raise ImageError(400, "Operations must be JSON objects.")
        op = item.get("op")
        if op not in ("add", "remove", "replace"):
            raise ImageError(
                400,
                'Operation objects must contain exactly one member named "add", "remove", '
                'or "replace".',
            )
        if "path" not in item:
            raise ImageError(400, f'Unable to find "path" in JSON Schema change for "{op}".')
        key = _parse_pointer(item["path"])
        if op != "remove" and "value" not in item:
            raise ImageError(400, f'Operation "{op}" requires a member named "value".')
        ops.append((op, key, item.get("value")))
    return ops


def _apply(
    caller: Caller, image: Image, op: str, key: str, value: Any, media: str, props: dict
) -> None:
    if key == "locations":
        verb = {"add": "add", "remove": "remove", "replace": "update"}[op]
        raise ImageError(403, f"It's not allowed to {verb} locations if locations are invisible.")
    if key in schema.READ_ONLY or key == "id":
        raise ImageError(403, f"Attribute '{key}' is read-only.")
    if schema.is_reserved(key):
        raise ImageError(403, f"Attribute '{key}' is reserved.")
    if key in schema.BASE_SETTABLE:
        if op == "remove":
            raise ImageError(403, f"Property {key} may not be removed.")
        schema.validate(key, value)
        if key in ("disk_format", "container_format") and image.status != "queued":
            raise ImageError(403, f"Attribute {key} can be only replaced for a queued image.")
        if key == "owner" and value != image.owner and not caller.is_admin:
            raise ImageError(403, "You are not permitted to modify 'owner' on this image.")
        if key == "visibility" and value == "public" and not caller.is_admin:
            raise ImageError(403, "You are not authorized to complete publicize_image action.")
        setattr(image, key, schema.unique_tags(value) if key == "tags" else value)
        return
    exists = key in props
    if op == "remove" or (op == "replace" and not exists):
        if not exists:
            raise ImageError(409, f"Property {key} does not exist.")
        del props[key]
        return
    if op == "add" and exists and media == PATCH_V20:
        raise ImageError(409, f"Property {key} already present.")
    schema.validate(key, value)
    props[key] = value


@errors_as_responses
def update_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    media = request.content_type
    if media not in (PATCH_V21, PATCH_V20):
        return glance_error(
            request,
            415,
            f"The request media type {media or 'None'} is not supported by this server.",
            headers={"Accept-Patch": ACCEPT_PATCH},
        )
    ops = _parse_ops(_json_body(request))
    # The whole array is applied to a fresh copy and saved once, inside one short write
    # transaction, so concurrent PATCHes and tag calls never lose each other's changes.
    with transaction.atomic():
        image = writable_image(caller, image_id, "modify_image")
        props = dict(image.properties)
        for op, key, value in ops:
            _apply(caller, image, op, key, value, media, props)
        too_many = schema.quota_error(image.tags, props)
        if too_many:
            raise ImageError(413, too_many)
        image.properties = props
        image.updated_at = now()
        image.save()
    return JsonResponse(image_body(image))


# ---------------------------------------------------------------------------------------
# Delete and the deactivate/reactivate actions


@errors_as_responses
def delete_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    with transaction.atomic():
        image = writable_image(caller, image_id, "delete_image")
        if image.protected:
            raise ImageError(403, f"Image {image_id} is protected and cannot be deleted.")
        Image.objects.filter(pk=image.pk).update(status="deleted", updated_at=now())
    # An upload still streaming into this image notices at its end (410); one whose
    # writer died left a partial file that nobody else would remove.
    (settings.IMAGES_DIR / image.id).unlink(missing_ok=True)
    remove_partials(image.id)
    return HttpResponse(status=204)


def _transition(
    request: HttpRequest, caller: Caller, image_id: str, action: str, source: str, target: str
) -> HttpResponse:
    image = writable_image(caller, image_id, f"{action}_image")
    if image.status == target:
        return HttpResponse(status=204)  # a no-op, as in Glance
    moved = Image.objects.filter(pk=image.pk, status=source).update(status=target, updated_at=now())
    if not moved:
        current = Image.objects.filter(pk=image.pk).values_list("status", flat=True).first()
        if current != target:
            raise ImageError(403, f"Not allowed to {action} image in status '{current}'")
    return HttpResponse(status=204)


@errors_as_responses
def deactivate_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    return _transition(request, caller, image_id, "deactivate", "active", "deactivated")


@errors_as_responses
def reactivate_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    return _transition(request, caller, image_id, "reactivate", "deactivated", "active")


# ---------------------------------------------------------------------------------------
# Tags


@errors_as_responses
def add_tag(request: HttpRequest, caller: Caller, image_id: str, tag: str) -> HttpResponse:
    schema.validate("tags", [tag])
    with transaction.atomic():
        image = writable_image(caller, image_id, "modify_image")
        if tag not in image.tags:
            tags = [*image.tags, tag]
            too_many = schema.quota_error(tags, {})
            if too_many:
                raise ImageError(413, too_many)
            Image.objects.filter(pk=image.pk).update(tags=tags, updated_at=now())
    return HttpResponse(status=204)


@errors_as_responses
def delete_tag(request: HttpRequest, caller: Caller, image_id: str, tag: str) -> HttpResponse:
    with transaction.atomic():
        image = writable_image(caller, image_id, "modify_image")
        if tag not in image.tags:
            raise ImageError(404, f"Tag {tag} not found")
        tags = [t for t in image.tags if t != tag]
        Image.objects.filter(pk=image.pk).update(tags=tags, updated_at=now())
    return HttpResponse(status=204)
