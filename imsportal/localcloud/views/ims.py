"""IMS v2 extension API on the image host (reference ims.md §1-§4): the request wrapper and
errors, the IMS image document, and ``GET /v2/cloudimages`` (query images with the IMS
filters and ``__`` attributes).

The other IMS endpoints live beside this module: ``ims_update`` (PATCH an image with a list
of ops), ``ims_create`` (POST /v2/cloudimages/action: create an image from a server or an
object-storage file as an asynchronous job) and ``ims_jobs`` (the jobs and GET of a job).

The images are the Glance images (models.glance.Image); IMS attributes the image does not
store (``__imagetype``, ``__os_type``, ``__image_size``...) are derived when answering.
Errors are IMS's ``{"error": {"code": "IMG.xxxx", "message": …}}``; authentication
failures are the API gateway's flat ``APIGW.0301`` body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.models import Image, ImageMember, Token
from imsportal.localcloud.views import ims_jobs
from imsportal.localcloud.views.errors import gateway_unauthorized, ims_error
from imsportal.localcloud.views.glance import base_body, member_exists

Handler = Callable[..., HttpResponse]

# ---------------------------------------------------------------------------------------
# Errors and the request wrapper


def bad_request(code: str, message: str) -> JsonResponse:
    return ims_error(400, code, message)


def ims_route(writes: tuple[str, ...] = (), **handlers: Handler) -> Handler:
    """One IMS URL: 401 before anything else, then 405, then the role check (reads need a
    role in the project, which every scoped caller has; writes need member or admin)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller, reason = authenticate_or_reason(request)
        if caller is None:
            return gateway_unauthorized(request, reason)
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


def json_body(request: HttpRequest, kind: type) -> Any:
    """The request's JSON body if it is a non-empty ``kind`` (list or dict); otherwise the
    IMS 400 to answer with (a JsonResponse)."""
    if not request.body.strip():
        return bad_request("IMG.0007", "The request body is empty.")
    try:
        body = json.loads(request.body)
    except ValueError:
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not isinstance(body, kind):
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not body:
        return bad_request("IMG.0007", "The request body is empty.")
    return body


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
# Glance's base fields the IMS document leaves out.
GLANCE_ONLY = ("os_hidden", "os_hash_algo", "os_hash_value")
SORT_KEYS = {"name", "container_format", "disk_format", "status", "id", "size", "created_at"}


def live() -> QuerySet[Image]:
    # Glance keeps deleted rows and hides os_hidden images from lists; so does IMS.
    return Image.objects.exclude(status="deleted").filter(os_hidden=False)


def _base_q(project: str, visibility: str | None, member_status: str | None) -> Q:
    """The images a project's query starts from, as the Glance list underneath has them:
    public ones, its own, and those shared with it (accepted unless asked otherwise)."""
    statuses = (member_status or "accepted",)
    mine = Q(owner=project)
    shared_with_me = Q(visibility="shared") & member_exists(project, statuses) & ~mine
    if visibility is None:
        return Q(visibility="public") | mine | shared_with_me
    if visibility == "public":
        return Q(visibility="public")
    if visibility == "private":
        return mine & Q(visibility="private")
    return (mine & Q(visibility="shared")) | shared_with_me


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
    glance = base_body(image)
    body: dict[str, Any] = {k: v for k, v in glance.items() if k not in GLANCE_ONLY}
    body |= {
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
# Feature flags that both filter a query and can be set through PATCH.
SUPPORT_FLAGS = (
    "__support_kvm",
    "__support_xen",
    "__support_largememory",
    "__support_diskintensive",
    "__support_highperformance",
    "__support_xen_gpu_type",
    "__support_kvm_gpu_type",
    "__support_xen_hana",
    "__support_kvm_infiniband",
)
# Filters compared with the document's value (IMS attributes, derived or stored).
DOC_FILTERS = (
    "__isregistered",
    "__os_type",
    "__platform",
    "__os_bit",
    "__whole_image",
    "__system__cmkid",
    *SUPPORT_FLAGS,
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

    qs = live().filter(_base_q(project, visibility, member_status))
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
