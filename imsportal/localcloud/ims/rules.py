"""IMS's rules (reference ims.md §1, §2): the IMS image document and the attributes it
derives, the query behind ``GET /v2/cloudimages`` (also used by Glance's list for the ``__``
filters), and the name, description and RAM checks that update and create share.

The images are the Glance images (models.glance.Image); IMS attributes the image does not
store (``__imagetype``, ``__os_type``, ``__image_size``...) are derived when answering.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet

from imsportal.localcloud.glance.rules import base_body, member_exists
from imsportal.localcloud.models import Image, ImageMember, Token

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


def ims_attributes(images: list[Image], project: str) -> dict[str, dict[str, Any]]:
    """The ``__`` attributes of each image as ``project`` sees them, by image id: what
    IMS's Glance-compatible API adds to Glance's image document (reference ims.md §6.5)."""
    with_members = _images_with_members(images)
    return {
        image.id: {
            k: v
            for k, v in cloudimage_body(image, project, image.id in with_members).items()
            if k.startswith("__")
        }
        for image in images
    }


def matches_ims_filters(attributes: dict[str, Any], filters: dict[str, str]) -> bool:
    """Whether an image's ``__`` attributes match every ``__`` filter (string booleans
    compared without case)."""
    return all(_same(attributes.get(name), wanted) for name, wanted in filters.items())


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


# ---------------------------------------------------------------------------------------
# Validation shared by update and create

NAME_RE = re.compile(r"^[\w\-. ]{1,128}$")


def check_name(name: Any) -> tuple[str, str] | None:
    """The IMS error for a bad image name, or None."""
    if not isinstance(name, str) or not name:
        return "IMG.0013", "The image name is empty."
    if len(name) > 128:
        return "IMG.0002", "The image name contains more than 128 characters."
    if not NAME_RE.fullmatch(name) or name != name.strip():
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
