"""IMS v2 extension API on the image host (reference ims.md §1-§4): query images with the
IMS filters and ``__`` attributes, update them with a list of ops, create them from a server
or an object-storage file as asynchronous jobs, and read those jobs.

The images are the Glance images (models.glance.Image); IMS attributes the image does not
store (``__imagetype``, ``__os_type``, ``__image_size``...) are derived when answering.
Errors are IMS's ``{"error": {"code": "IMG.xxxx", "message": …}}``; authentication
failures are the API gateway's flat ``APIGW.0301`` body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.models import Image, ImageMember, Job, Token
from imsportal.localcloud.views import ims_jobs

Handler = Callable[..., HttpResponse]

# ---------------------------------------------------------------------------------------
# Errors and the request wrapper


def ims_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def bad_request(code: str, message: str) -> JsonResponse:
    return ims_error(400, code, message)


def _unauthorized(request: HttpRequest, reason: str) -> JsonResponse:
    return JsonResponse(
        {
            "error_code": "APIGW.0301",
            "error_msg": f"Incorrect IAM authentication information: {reason}",
            "request_id": getattr(request, "request_id", ""),
        },
        status=401,
    )


def ims_route(writes: tuple[str, ...] = (), **handlers: Handler) -> Handler:
    """One IMS URL: 401 before anything else, then 405, then the role check (reads need a
    role in the project, which every scoped caller has; writes need member or admin)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller, reason = authenticate_or_reason(request)
        if caller is None:
            return _unauthorized(request, reason)
        handler = handlers.get(request.method or "")
        if handler is None:
            resp = ims_error(405, "IMG.0001", f"The method {request.method} is not allowed.")
            resp["Allow"] = ", ".join(sorted(handlers))
            return resp
        if request.method in writes and not {"member", "admin"} & set(caller.roles):
            return ims_error(403, "IMG.0026", "The role of the user is invalid.")
        ims_jobs.ensure_runner()
        return handler(request, caller, **kwargs)

    return view


# ---------------------------------------------------------------------------------------
# Visibility and the IMS image document

PLATFORMS = {
    # Glance os_distro -> (IMS __platform, __os_type)
    "ubuntu": ("Ubuntu", "Linux"),
    "debian": ("Debian", "Linux"),
    "fedora": ("Fedora", "Linux"),
    "centos": ("CentOS", "Linux"),
    "rhel": ("Red Hat", "Linux"),
    "sles": ("SUSE", "Linux"),
    "suse": ("SUSE", "Linux"),
    "opensuse": ("OpenSUSE", "Linux"),
    "oraclelinux": ("Oracle Linux", "Linux"),
    "coreos": ("CoreOS", "Linux"),
    "euleros": ("EulerOS", "Linux"),
    "openeuler": ("openEuler", "Linux"),
    "windows": ("Windows", "Windows"),
    "freebsd": ("Other", "Other"),
}
LINUX_DISTROS = {"rocky", "alma", "almalinux", "alpine", "cirros", "arch", "gentoo", "systemrescue"}
# Glance fields and IMS attributes nobody may set through PATCH or as custom properties.
RESERVED = {
    "id",
    "status",
    "visibility",
    "owner",
    "protected",
    "size",
    "virtual_size",
    "checksum",
    "container_format",
    "disk_format",
    "min_disk",
    "created_at",
    "updated_at",
    "tags",
    "file",
    "self",
    "schema",
    "locations",
    "direct_url",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
    "stores",
    "deleted",
    "deleted_at",
    "active_at",
    "virtual_env_type",
}
SORT_KEYS = {"name", "container_format", "disk_format", "status", "id", "size", "created_at"}


def _member_exists(project: str, statuses: tuple[str, ...] | None = None) -> Exists:
    members = ImageMember.objects.filter(image=OuterRef("pk"), member_id=project)
    if statuses is not None:
        members = members.filter(status__in=statuses)
    return Exists(members)


def _live():
    # Glance keeps deleted rows and hides os_hidden images from lists; so does IMS.
    return Image.objects.exclude(status="deleted").filter(os_hidden=False)


def _base_q(project: str, visibility: str | None, member_status: str | None) -> Q:
    """The images a project's query starts from, as the Glance list underneath has them:
    public ones, its own, and those shared with it (accepted unless asked otherwise)."""
    statuses = (member_status or "accepted",)
    mine = Q(owner=project)
    shared_with_me = Q(visibility="shared") & _member_exists(project, statuses) & ~mine
    if visibility is None:
        return Q(visibility="public") | mine | shared_with_me
    if visibility == "public":
        return Q(visibility="public")
    if visibility == "private":
        return mine & Q(visibility="private")
    return (mine & Q(visibility="shared")) | shared_with_me


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _os_attributes(image: Image) -> dict[str, str]:
    props = image.properties
    distro = str(props.get("os_distro", "")).lower()
    platform, os_type = PLATFORMS.get(distro, ("Other", "Linux" if distro in LINUX_DISTROS else ""))
    if not os_type:
        os_type = {"windows": "Windows", "linux": "Linux"}.get(
            str(props.get("os_type", "")).lower(), "Other"
        )
    bits = "32" if str(props.get("architecture", "")) in ("i386", "i686") else "64"
    name = platform if platform != "Other" else (distro.capitalize() or "Other")
    version = " ".join(p for p in (name, str(props.get("os_version", "")), f"{bits}bit") if p)
    return {"__os_type": os_type, "__platform": platform, "__os_version": version, "__os_bit": bits}


def image_type(image: Image, project: str, has_members: bool) -> str:
    if image.visibility == "public":
        return "gold"
    if image.owner == project:
        # Images shared out report "shared", like those shared in (tell them by owner).
        return "shared" if has_members else "private"
    return "shared"


def cloudimage_body(image: Image, project: str, has_members: bool) -> dict[str, Any]:
    """An image as ``GET /v2/cloudimages`` lists it (reference ims.md §1.4)."""
    body: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "owner": image.owner,
        "protected": image.protected,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "tags": list(image.tags),
        "created_at": _ts(image.created_at),
        "updated_at": _ts(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
        "virtual_env_type": "IsoImage" if image.disk_format == "iso" else "FusionCompute",
        "__isregistered": "true",
        "__image_source_type": "uds",
        "__image_size": str(image.size or 0),
        "__originalimagename": "",
        **_os_attributes(image),
    }
    if image.status == "active":
        body["active_at"] = body["updated_at"]
    body.update(image.properties)  # stored IMS attributes win over derived ones
    body["__imagetype"] = image_type(image, project, has_members)
    return body


def _images_with_members(images: list[Image]) -> set[str]:
    ids = [i.id for i in images]
    return set(ImageMember.objects.filter(image_id__in=ids).values_list("image_id", flat=True))


# ---------------------------------------------------------------------------------------
# GET /v2/cloudimages

IMAGE_TYPES = {"gold", "private", "shared", "market"}
TIME_OPS = {"gt", "gte", "lt", "lte", "eq", "neq"}
# Filters compared with the document's value (IMS attributes, derived or stored).
DOC_FILTERS = (
    "__isregistered",
    "__os_type",
    "__platform",
    "__os_bit",
    "__whole_image",
    "__system__cmkid",
    "__support_kvm",
    "__support_xen",
    "__support_largememory",
    "__support_diskintensive",
    "__support_highperformance",
    "__support_xen_gpu_type",
    "__support_kvm_gpu_type",
    "__support_xen_hana",
    "__support_kvm_infiniband",
    "virtual_env_type",
)


class QueryError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _int_param(q: Any, name: str, minimum: int = 0) -> int | None:
    if name not in q:
        return None
    try:
        value = int(q[name])
    except ValueError:
        raise QueryError("IMG.0001", f"The value of {name} is invalid.") from None
    if value < minimum:
        raise QueryError("IMG.0001", f"The value of {name} is invalid.")
    return value


def _time_filter(raw: str, name: str) -> Callable[[datetime], bool]:
    op, _, when = raw.partition(":")
    parsed = None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(when, fmt).replace(tzinfo=UTC)
            break
        except ValueError:
            continue
    if op not in TIME_OPS or parsed is None:
        raise QueryError("IMG.0001", f"The value of {name} is invalid.")
    value = parsed
    return {
        "gt": lambda t: t > value,
        "gte": lambda t: t >= value,
        "lt": lambda t: t < value,
        "lte": lambda t: t <= value,
        "eq": lambda t: t == value,
        "neq": lambda t: t != value,
    }[op]


def _same(actual: Any, wanted: str) -> bool:
    if actual is None:
        return False
    text = str(actual).lower() if isinstance(actual, bool) else str(actual)
    # String booleans come as "true", "True"...; compare those without case.
    if text.lower() in ("true", "false"):
        return text.lower() == wanted.lower()
    return text == wanted


def _tag_matches(tags: list[str], wanted: str) -> bool:
    # key=value tags; a legacy "key.value" tag is queried as tag=key=value.
    key, sep, value = wanted.partition("=")
    return wanted in tags or bool(sep and f"{key}.{value}" in tags)


def query_images(caller: Token, q: Any) -> list[dict[str, Any]]:
    project = caller.project_id
    visibility = q.get("visibility")
    if visibility is not None and visibility not in ("public", "private", "shared"):
        raise QueryError("IMG.0001", "The value of visibility is invalid.")
    member_status = q.get("member_status")
    if member_status is not None:
        if member_status not in ("accepted", "rejected", "pending"):
            raise QueryError("IMG.0001", "The value of member_status is invalid.")
        if visibility != "shared":
            raise QueryError("IMG.0001", "member_status can be used only with visibility=shared.")
    imagetype = q.get("__imagetype")
    if imagetype is not None and imagetype not in IMAGE_TYPES:
        raise QueryError("IMG.0024", "The imagetype is invalid.")
    sort_key = q.get("sort_key", "created_at")
    sort_dir = q.get("sort_dir", "desc")
    if sort_key not in SORT_KEYS:
        raise QueryError("IMG.0001", "The value of sort_key is invalid.")
    if sort_dir not in ("asc", "desc"):
        raise QueryError("IMG.0001", "The value of sort_dir is invalid.")
    limit = _int_param(q, "limit", minimum=1)
    limit = 500 if limit is None else limit

    qs = _live().filter(_base_q(project, visibility, member_status))
    for field in ("id", "name", "status", "owner", "container_format", "disk_format"):
        if field in q:
            qs = qs.filter(**{field: q[field]})
    for field in ("min_disk", "min_ram"):
        value = _int_param(q, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    if "protected" in q:
        if q["protected"].lower() not in ("true", "false"):
            raise QueryError("IMG.0001", "The value of protected is invalid.")
        qs = qs.filter(protected=q["protected"].lower() == "true")
    time_filters = [(f, _time_filter(q[f], f)) for f in ("created_at", "updated_at") if f in q]

    images = list(qs)
    with_members = _images_with_members(images)
    docs = []
    for image in images:
        if not all(test(getattr(image, f).replace(microsecond=0)) for f, test in time_filters):
            continue
        doc = cloudimage_body(image, project, image.id in with_members)
        if imagetype is not None and doc["__imagetype"] != imagetype:
            continue
        if any(name in q and not _same(doc.get(name), q[name]) for name in DOC_FILTERS):
            continue
        if "tag" in q and not _tag_matches(doc["tags"], q["tag"]):
            continue
        ep = q.get("enterprise_project_id")
        if ep not in (None, "all_granted_eps") and doc.get("enterprise_project_id", "0") != ep:
            continue
        arch = q.get("architecture")
        if arch is not None and _architecture(doc) != arch:
            continue
        docs.append(doc)

    def order(doc: dict[str, Any]) -> tuple[bool, Any, str]:
        value = doc.get(sort_key)
        return (value is not None, value if value is not None else "", doc["id"])

    docs.sort(key=order, reverse=sort_dir == "desc")
    marker = q.get("marker")
    if marker:
        position = next((n for n, doc in enumerate(docs) if doc["id"] == marker), None)
        if position is None:
            raise QueryError("IMG.0027", f"The marker image {marker} does not exist.")
        docs = docs[position + 1 :]
    return docs[:limit]


def _architecture(doc: dict[str, Any]) -> str:
    arch = str(doc.get("architecture", "")).lower()
    return "arm" if arch in ("arm", "aarch64", "arm64") or doc.get("__support_arm") else "x86"


def list_cloudimages(request: HttpRequest, caller: Token) -> HttpResponse:
    try:
        docs = query_images(caller, request.GET)
    except QueryError as e:
        return bad_request(e.code, str(e))
    # Only the images: no next/first/schema links, the client pages with marker.
    return JsonResponse({"images": docs})


cloudimages = ims_route(GET=list_cloudimages)


# ---------------------------------------------------------------------------------------
# PATCH /v2/cloudimages/{image_id}

UPDATABLE = {
    "name",
    "__description",
    "__support_kvm",
    "__support_xen",
    "__support_largememory",
    "__support_diskintensive",
    "__support_highperformance",
    "__support_xen_gpu_type",
    "__support_kvm_gpu_type",
    "__support_xen_hana",
    "__support_kvm_infiniband",
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
NAME_RE = re.compile(r"^[\w\-. ]{1,128}$")


def check_name(name: Any) -> tuple[str, str] | None:
    """The IMS error for a bad image name, or None."""
    if not isinstance(name, str) or not name:
        return "IMG.0013", "The image name is empty."
    if len(name) > 128:
        return "IMG.0002", "The image name contains more than 128 characters."
    if not NAME_RE.match(name) or name != name.strip():
        return "IMG.0003", "The image name format is invalid."
    return None


def check_description(text: Any) -> tuple[str, str] | None:
    if not isinstance(text, str):
        return "IMG.0054", "The description format is invalid."
    if len(text) > 1024:
        return "IMG.0004", "The description contains more than 1024 characters."
    if any(c in text for c in "\r\n<>"):
        return "IMG.0054", "The description format is invalid."
    return None


def ram_value(value: Any) -> int | None:
    """A RAM size in MB as sent (int or numeric string); None if invalid."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 1024 * 1024 else None


def _check_value(attr: str, value: Any) -> tuple[str, str] | None:
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
        if attr not in UPDATABLE and not (custom and CUSTOM_NAME.match(attr)):
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
    return None


def _find_shown(caller: Token, image_id: str) -> Image | None:
    project = caller.project_id
    shown = (
        Q(visibility="public")
        | Q(owner=project)
        | (Q(visibility="shared") & _member_exists(project))
    )
    return _live().filter(shown, id=image_id).first() if len(image_id) <= 36 else None


def update_cloudimage(request: HttpRequest, caller: Token, image_id: str) -> HttpResponse:
    if not request.body.strip():
        return bad_request("IMG.0007", "The request body is empty.")
    try:
        ops = json.loads(request.body)
    except ValueError:
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not isinstance(ops, list):
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not ops:
        return bad_request("IMG.0007", "The request body is empty.")
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


cloudimage = ims_route(writes=("PATCH",), PATCH=update_cloudimage)


# ---------------------------------------------------------------------------------------
# POST /v2/cloudimages/action

OS_TYPES = {"Linux", "Windows", "Other"}
FILE_TYPES = set(ims_jobs.VIRTUAL_ENV)
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
        if not isinstance(ep, str) or not ep:
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
    if not sep or not BUCKET_RE.match(bucket) or not obj or ".." in parts or "" in parts:
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
    if not request.body.strip():
        return bad_request("IMG.0007", "The request body is empty.")
    try:
        body = json.loads(request.body)
    except ValueError:
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not isinstance(body, dict):
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not body:
        return bad_request("IMG.0007", "The request body is empty.")
    params = _validate_create(body)
    if isinstance(params, tuple):
        return bad_request(*params)
    job_type = ims_jobs.BY_INSTANCE if "instance_id" in params else ims_jobs.BY_FILE
    job = ims_jobs.submit(caller.project_id, caller.user_id, job_type, params)
    return JsonResponse({"job_id": job.id})


cloudimage_action = ims_route(writes=("POST",), POST=create_cloudimage)


# ---------------------------------------------------------------------------------------
# GET /v1/{project_id}/jobs/{job_id}


def _job_ts(value: datetime | None) -> str | None:
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        if value
        else None
    )


def job_body(job: Job) -> dict[str, Any]:
    current = ims_jobs.state(job)
    entities: dict[str, Any] = {"image_name": job.params.get("name", "")}
    if current.status == "SUCCESS":
        entities["image_id"] = job.image_id
    if current.status != "FAIL":
        entities["process_percent"] = current.percent
    return {
        "job_id": job.id,
        "job_type": job.job_type,
        "status": current.status,
        "begin_time": _job_ts(job.begin_time),
        "end_time": _job_ts(job.end_time),
        "error_code": job.error_code,
        "fail_reason": job.fail_reason,
        "entities": entities,
    }


def show_job(request: HttpRequest, caller: Token, project_id: str, job_id: str) -> HttpResponse:
    if project_id != caller.project_id:
        return ims_error(
            403, "IMG.0026", "The project in the URL is not the project of the credentials."
        )
    job = Job.objects.filter(id=job_id, project_id=project_id).first()
    if job is None:
        return ims_error(404, "IMG.0017", f"The job {job_id} does not exist.")
    return JsonResponse(job_body(ims_jobs.refresh(job)))


job = ims_route(GET=show_job)
