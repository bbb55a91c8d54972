"""IMS ``POST /v2/cloudimages/action`` (reference ims.md §3.1, §3.3): validate a request to
create an image from a server (``instance_id``) or from an object-storage file
(``image_url``), then submit it as an asynchronous job (``engine``) and answer its id."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.ims import engine
from imsportal.localcloud.ims.routing import bad_request, json_body
from imsportal.localcloud.ims.rules import PLATFORMS, check_description, check_name, ram_value
from imsportal.localcloud.models import Token

OS_TYPES = {"Linux", "Windows", "Other"}
FILE_TYPES = set(engine.VIRTUAL_ENV)
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _os_from_version(os_version: str, os_type: str | None) -> dict[str, str]:
    """IMS attributes of an imported file, from the os_version the request names."""
    lower = os_version.lower()
    platform = next(
        (plat for plat, _ in PLATFORMS.values() if plat != "Other" and plat.lower() in lower),
        "Other",
    )
    kind = os_type or ("Windows" if "windows" in lower else "Linux")
    bits = "32" if "32" in lower.replace("x86_64", "") and "64" not in lower else "64"
    return {"__os_version": os_version, "__os_type": kind, "__platform": platform, "__os_bit": bits}


def _tags(body: dict[str, Any]) -> list[str] | tuple[str, str]:
    if "tags" in body and "image_tags" in body:
        return "IMG.0115", "tags and image_tags cannot be used together."
    tags: list[str] = []
    for tag in body.get("tags") or []:
        if not isinstance(tag, str) or not tag or len(tag) > 255:
            return "IMG.0115", "The tag is invalid."
        tags.append(tag)
    for tag in body.get("image_tags") or []:
        if not isinstance(tag, dict) or not isinstance(tag.get("key"), str) or not tag["key"]:
            return "IMG.0115", "The tag is invalid."
        tags.append(f"{tag['key']}={tag.get('value', '')}")
    if len(tags) > 10:
        return "IMG.0116", "An image can have at most 10 tags."
    return tags


def _validate_create(body: dict[str, Any]) -> dict[str, Any] | tuple[str, str]:
    """The job parameters of a valid request, or the (code, message) of the first error."""
    sources = [k for k in ("instance_id", "image_url", "volume_id", "data_images") if body.get(k)]
    if not sources:
        return "IMG.0001", "Specify instance_id or image_url to create an image."
    if sources[0] in ("volume_id", "data_images"):
        return "IMG.0001", f"Creating images from {sources[0]} is not supported here."
    if len(sources) > 1:
        return "IMG.0001", f"Specify only one of {', '.join(sources)}."
    problem = check_name(body.get("name"))
    if problem:
        return problem
    params: dict[str, Any] = {"name": body["name"]}
    extra: dict[str, str] = {}
    if "description" in body:
        problem = check_description(body["description"])
        if problem:
            return problem
        extra["__description"] = body["description"]
    for field in ("min_ram", "max_ram"):
        if body.get(field) is not None:
            if ram_value(body[field]) is None:
                return "IMG.0055", f"The value of {field} is invalid."
            params[field] = ram_value(body[field])
    if "max_ram" in params:
        extra["max_ram"] = str(params["max_ram"])
    tags = _tags(body)
    if isinstance(tags, tuple):
        return tags
    params["tags"] = tags
    ep = body.get("enterprise_project_id")
    if ep is not None:
        if not isinstance(ep, str) or not ep or len(ep) > 255:
            return "IMG.0001", "The value of enterprise_project_id is invalid."
        extra["enterprise_project_id"] = ep
    if body.get("cmk_id"):
        return "IMG.0095", "The KMS key does not exist (this cloud has no KMS)."
    if "instance_id" in body:
        if not isinstance(body["instance_id"], str):
            return "IMG.0012", "The ECS ID is invalid."
        params["instance_id"] = body["instance_id"]
        params["extra_properties"] = extra
        return params
    return _validate_file(body, params, extra)


def _validate_file(
    body: dict[str, Any], params: dict[str, Any], extra: dict[str, str]
) -> dict[str, Any] | tuple[str, str]:
    url = body["image_url"]
    bucket, sep, obj = url.partition(":") if isinstance(url, str) else ("", "", "")
    parts = obj.split("/")
    if not sep or not BUCKET_RE.fullmatch(bucket) or not obj or ".." in parts or "" in parts:
        return "IMG.0001", "The value of image_url is invalid; use bucket:object."
    params["image_url"] = url
    min_disk = body.get("min_disk")
    if isinstance(min_disk, bool) or not isinstance(min_disk, int | str):
        return "IMG.0055", "min_disk is required and must be 1 to 1024 (GB)."
    try:
        params["min_disk"] = int(min_disk)
    except ValueError:
        return "IMG.0055", "min_disk is required and must be 1 to 1024 (GB)."
    if not 1 <= params["min_disk"] <= 1024:
        return "IMG.0055", "min_disk is required and must be 1 to 1024 (GB)."
    kind = body.get("type") or "ECS"
    if kind not in FILE_TYPES:
        return "IMG.0001", "The value of type is invalid."
    params["type"] = kind
    os_version = body.get("os_version")
    if kind == "IsoImage" and not os_version:
        return "IMG.0166", "os_version is required for an ISO image."
    if os_version is not None and (not isinstance(os_version, str) or len(os_version) > 255):
        return "IMG.0056", "The OS version is invalid."
    os_type = body.get("os_type")
    if os_type is not None and os_type not in OS_TYPES:
        return "IMG.0001", "The value of os_type is invalid."
    arch = body.get("architecture", "x86")
    if arch not in ("x86", "arm"):
        return "IMG.0212", "The value of architecture is invalid."
    firmware = body.get("hw_firmware_type", "uefi" if arch == "arm" else "bios")
    if firmware not in ("bios", "uefi") or (arch == "arm" and firmware != "uefi"):
        return "IMG.0141", "The value of hw_firmware_type is invalid."
    if arch == "arm":
        extra["__support_arm"] = "true"
    if "hw_firmware_type" in body or arch == "arm":
        extra["hw_firmware_type"] = firmware
    if body.get("is_config") not in (None, True, False):
        return "IMG.0001", "The value of is_config is invalid."
    params["os_attributes"] = _os_from_version(os_version or "Other Linux(64 bit)", os_type)
    params["extra_properties"] = extra
    return params


def create_cloudimage(request: HttpRequest, caller: Token) -> HttpResponse:
    body = json_body(request, dict)
    if isinstance(body, JsonResponse):
        return body
    params = _validate_create(body)
    if isinstance(params, tuple):
        return bad_request(*params)
    job_type = engine.BY_INSTANCE if "instance_id" in params else engine.BY_FILE
    job = engine.submit(caller.project_id, caller.user_id, job_type, params)
    return JsonResponse({"job_id": job.id})
