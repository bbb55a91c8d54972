"""Glance v2 schemas: attribute validation (create and PATCH), the /v2/schemas/* documents
and the /v2/info/* discovery calls."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.glance.rules import BASE_FIELDS, STORE_ID, Caller

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "community", "shared", "private")
UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)
_UUID_RE = re.compile(UUID_PATTERN)

# The server computes or owns these; a client sending them gets 403 "read-only".
READ_ONLY = frozenset(
    {
        "checksum",
        "created_at",
        "direct_url",
        "file",
        "os_hash_algo",
        "os_hash_value",
        "schema",
        "self",
        "size",
        "status",
        "stores",
        "updated_at",
        "virtual_size",
    }
)
RESERVED = frozenset({"location", "locations", "deleted", "deleted_at"})
# Base attributes that always appear in the image document (PATCH cannot remove them):
# name, visibility, protected, os_hidden, owner, the formats, min_disk, min_ram and tags.
BASE_SETTABLE = frozenset(BASE_FIELDS) - READ_ONLY - {"id"}
TAG_QUOTA = 128
PROPERTY_QUOTA = 128
MAX_LEN = 255


class SchemaError(ValueError):
    """A value the image schema rejects: 400 with jsonschema's wording."""


def is_reserved(key: str) -> bool:
    return key in RESERVED or key.startswith("os_glance")


def check_key(key: str) -> tuple[int, str] | None:
    """403 for a read-only or reserved attribute name, as the image factory says it."""
    if key in READ_ONLY:
        return 403, f"Attribute '{key}' is read-only."
    if is_reserved(key):
        return 403, f"Attribute '{key}' is reserved."
    return None


def _fail(detail: str) -> SchemaError:
    return SchemaError(f"Provided object does not match schema 'image': {detail}")


def _check_str(value: Any, nullable: bool) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise _fail(f"{value!r} is not of type 'string'" + (", 'null'" if nullable else ""))
    if len(value) > MAX_LEN:
        raise _fail(f"{value!r} is too long")


def _check_enum(value: Any, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise _fail(f"{value!r} is not one of {[None, *choices]!r}")


def validate(key: str, value: Any) -> None:
    """Raise SchemaError when ``value`` is not valid for attribute ``key``."""
    if key == "id":
        if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
            raise _fail(f"{value!r} does not match {UUID_PATTERN!r}")
    elif key in ("name", "owner"):
        _check_str(value, nullable=True)
    elif key == "visibility":
        if value not in VISIBILITIES:
            raise _fail(f"{value!r} is not one of {list(VISIBILITIES)!r}")
    elif key in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise _fail(f"{value!r} is not of type 'boolean'")
    elif key == "disk_format":
        _check_enum(value, DISK_FORMATS)
    elif key == "container_format":
        _check_enum(value, CONTAINER_FORMATS)
    elif key in ("min_disk", "min_ram"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(f"{value!r} is not of type 'integer'")
        if value < 0:
            raise _fail(f"{value!r} is less than the minimum of 0")
        if value > 2**31 - 1:
            raise _fail(f"{value!r} is greater than the maximum of {2**31 - 1}")
    elif key == "tags":
        if not isinstance(value, list):
            raise _fail(f"{value!r} is not of type 'array'")
        for tag in value:
            _check_str(tag, nullable=False)
    else:
        if len(key) > MAX_LEN:
            raise _fail(f"{key!r} does not match any of the regexes: '^.{{0,255}}$'")
        if not isinstance(value, str):
            raise _fail(f"{value!r} is not of type 'string'")
        if len(value) > MAX_LEN:
            raise _fail(f"{value[:64]!r}... is too long")


def unique_tags(tags: list[str]) -> list[str]:
    """Glance stores tags as a set: duplicates collapse."""
    return list(dict.fromkeys(tags))


def quota_error(tags: list[str], properties: dict) -> str | None:
    if len(tags) > TAG_QUOTA:
        return (
            "The limit has been exceeded on the number of allowed image tags. "
            f"Attempted: {len(tags)}, Maximum: {TAG_QUOTA}"
        )
    if len(properties) > PROPERTY_QUOTA:
        return (
            "The limit has been exceeded on the number of allowed image properties. "
            f"Attempted: {len(properties)}, Maximum: {PROPERTY_QUOTA}"
        )
    return None


# ---------------------------------------------------------------------------------------
# Schema documents


def _nullable_str(description: str) -> dict:
    return {"type": ["null", "string"], "maxLength": MAX_LEN, "description": description}


def image_schema() -> dict:
    ro = {"readOnly": True}
    return {
        "name": "image",
        "properties": {
            "id": {"type": "string", "pattern": UUID_PATTERN, "description": "An identifier"},
            "name": _nullable_str("Descriptive name for the image"),
            "status": {
                "type": "string",
                "enum": [
                    "queued",
                    "saving",
                    "active",
                    "killed",
                    "deleted",
                    "uploading",
                    "importing",
                    "pending_delete",
                    "deactivated",
                ],
                **ro,
            },
            "visibility": {"type": "string", "enum": list(VISIBILITIES)},
            "protected": {"type": "boolean"},
            "os_hidden": {"type": "boolean"},
            "checksum": {"type": ["null", "string"], "maxLength": 32, **ro},
            "os_hash_algo": {"type": ["null", "string"], "maxLength": 64, **ro},
            "os_hash_value": {"type": ["null", "string"], "maxLength": 128, **ro},
            "owner": _nullable_str("Owner of the image"),
            "size": {"type": ["null", "integer"], **ro},
            "virtual_size": {"type": ["null", "integer"], **ro},
            "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]},
            "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
            "created_at": {"type": "string", "format": "date-time", **ro},
            "updated_at": {"type": "string", "format": "date-time", **ro},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": MAX_LEN}},
            "self": {"type": "string", **ro},
            "file": {"type": "string", **ro},
            "stores": {"type": "string", **ro},
            "schema": {"type": "string", **ro},
            "min_ram": {"type": "integer", "minimum": 0},
            "min_disk": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def member_schema() -> dict:
    return {
        "name": "member",
        "properties": {
            "created_at": {
                "type": "string",
                "description": "Date and time of image member creation",
            },
            "image_id": {"type": "string", "pattern": UUID_PATTERN},
            "member_id": {"type": "string", "description": "An identifier for the image member"},
            "schema": {"type": "string", "readOnly": True},
            "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
            "updated_at": {"type": "string"},
        },
    }


def _collection(name: str, item: dict, links: list[dict]) -> dict:
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "schema": {"type": "string"},
            **({"first": {"type": "string"}, "next": {"type": "string"}} if links else {}),
        },
        "links": links,
    }


def schema_view(request: HttpRequest, caller: Caller, name: str) -> HttpResponse:
    documents = {
        "image": image_schema,
        "images": lambda: _collection(
            "images",
            image_schema(),
            [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        ),
        "member": member_schema,
        "members": lambda: _collection("members", member_schema(), []),
    }
    return JsonResponse(documents[name]())


def info_stores(request: HttpRequest, caller: Caller) -> HttpResponse:
    return JsonResponse({"stores": [{"id": STORE_ID, "default": "true"}]})


def info_import(request: HttpRequest, caller: Caller) -> HttpResponse:
    # Interoperable import is not served here, so no method is advertised.
    return JsonResponse(
        {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": [],
            }
        }
    )
