"""IMS ``PATCH /v2/cloudimages/{image_id}`` (reference ims.md §2): update an image's name,
RAM limits, IMS ``__`` attributes and custom properties with a list of add/replace/remove
ops, all or nothing. The name, description and RAM checks live in ``rules``."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from imsportal.localcloud.errors import ims_error
from imsportal.localcloud.glance.rules import member_exists
from imsportal.localcloud.ims.routing import bad_request, json_body
from imsportal.localcloud.ims.rules import (
    RESERVED,
    SUPPORT_FLAGS,
    check_description,
    check_name,
    cloudimage_body,
    live,
    ram_value,
)
from imsportal.localcloud.models import Image, ImageMember, Token

UPDATABLE = {
    "name",
    "__description",
    *SUPPORT_FLAGS,
    "__is_config_init",
    "enterprise_project_id",
    "min_ram",
    "max_ram",
    "hw_vif_multiqueue_enabled",
    "hw_firmware_type",
    "__support_fc_inject",
    "__support_amd",
    "__support_kvm_hi1822_hisriov",
    "__support_kvm_hi1822_hivirtionet",
}
CUSTOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,254}$")


# Glance's limits, which the IMS attributes share with every other property.
MAX_VALUE_LEN = 255
PROPERTY_QUOTA = 128


def _check_value(attr: str, value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and len(value) > MAX_VALUE_LEN and attr != "__description":
        return "IMG.0001", f"The value of {attr} is longer than {MAX_VALUE_LEN} characters."
    if attr == "name":
        return check_name(value)
    if attr == "__description":
        return check_description(value)
    if attr in ("min_ram", "max_ram") and ram_value(value) is None:
        return "IMG.0055", f"The value of {attr} is invalid."
    if attr == "hw_firmware_type" and value not in ("bios", "uefi"):
        return "IMG.0141", "The value of hw_firmware_type is invalid."
    if attr.startswith("__support_") and attr.endswith(("_gpu_type",)):
        return None if isinstance(value, str) else ("IMG.0001", f"The value of {attr} is invalid.")
    if (
        attr.startswith("__support_") or attr in ("hw_vif_multiqueue_enabled", "__is_config_init")
    ) and str(value).lower() not in ("true", "false"):
        return "IMG.0001", f"The value of {attr} is invalid."
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return "IMG.0001", f"The value of {attr} is invalid."
    return None


def _apply(image: Image, ops: list[Any]) -> tuple[str, str] | None:
    """Apply every op to ``image`` in memory; the first error stops (nothing is saved)."""
    props = image.properties
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
            return "IMG.0001", "The request message format is invalid."
        path = op.get("path")
        if not isinstance(path, str) or not path.startswith("/") or len(path) < 2:
            return "IMG.0001", "The request message format is invalid."
        attr = path[1:]
        if attr != attr.lower():
            return "IMG.0001", "Extension attribute names must be lower-case."
        custom = not attr.startswith("__") and attr not in RESERVED and attr not in UPDATABLE
        if attr not in UPDATABLE and not (custom and CUSTOM_NAME.fullmatch(attr)):
            return "IMG.0001", f"The attribute {attr} cannot be modified."
        present = attr in props or attr in ("name", "min_ram")
        if op["op"] == "remove":
            if attr in ("name", "min_ram"):
                return "IMG.0001", f"The attribute {attr} cannot be removed."
            if not present:
                return "IMG.0035", f"The image does not have the attribute {attr}."
            del props[attr]
            continue
        if "value" not in op:
            return "IMG.0001", "The request message format is invalid."
        if op["op"] == "replace" and not present:
            # IMS refuses to replace what the image lacks; clients retry with "add".
            return "IMG.0035", f"Attribute conflict: the image has no {attr} to replace."
        value = op["value"]
        problem = _check_value(attr, value)
        if problem:
            return problem
        if attr == "name":
            image.name = value
        elif attr == "min_ram":
            image.min_ram = ram_value(value) or 0
        elif attr == "max_ram":
            props[attr] = str(ram_value(value))  # IMS keeps max_ram as a string
        elif isinstance(value, bool):
            props[attr] = "true" if value else "false"
        else:
            props[attr] = str(value) if not isinstance(value, str) else value
        if len(props) > PROPERTY_QUOTA:
            return (
                "IMG.0001",
                f"An image can have at most {PROPERTY_QUOTA} properties.",
            )
    return None


def _find_shown(caller: Token, image_id: str) -> Image | None:
    project = caller.project_id
    shown = (
        Q(visibility="public")
        | Q(owner=project)
        | (Q(visibility="shared") & member_exists(project))
    )
    return live().filter(shown, id=image_id).first() if len(image_id) <= 36 else None


def update_cloudimage(request: HttpRequest, caller: Token, image_id: str) -> HttpResponse:
    ops = json_body(request, list)
    if isinstance(ops, JsonResponse):
        return ops
    # Read, change and save in one short write transaction, as Glance's PATCH does, so a
    # concurrent Glance PATCH or tag call is not overwritten with the properties read here.
    with transaction.atomic():
        image = _find_shown(caller, image_id)
        if image is None:
            return ims_error(404, "IMG.0027", f"The image {image_id} does not exist.")
        if image.owner != caller.project_id or image.visibility == "public":
            return bad_request("IMG.0047", "Only the owner of a private image can modify it.")
        if image.status != "active":
            return bad_request("IMG.0046", "The image is not available for this operation.")
        image.properties = dict(image.properties)
        problem = _apply(image, ops)
        if problem:
            return bad_request(*problem)
        image.updated_at = timezone.now().replace(microsecond=0)
        image.save(update_fields=["name", "min_ram", "properties", "updated_at"])
    has_members = ImageMember.objects.filter(image=image).exists()
    return JsonResponse(cloudimage_body(image, caller.project_id, has_members))
