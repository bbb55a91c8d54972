"""Typed resources built from API bodies. Wire names are mapped once, here; keys the
class does not know are kept in ``properties``, so custom and vendor (``__``) properties
survive a round trip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar


def _dt(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    """IMS sends some numbers as strings (``max_ram``, ``__image_size``)."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def id_of(value: Any) -> str:
    """An id from an id string or a resource (``Image``, ``Member``) or its dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id") or value.get("member_id") or ""
    return value.id


def _bool(value: Any) -> bool:
    """IMS sends most booleans as strings: "true", "True", "false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@dataclass(frozen=True)
class Resource:
    # wire name -> attribute name, where they differ
    _renames: ClassVar[dict[str, str]] = {}
    _datetimes: ClassVar[tuple[str, ...]] = ()
    # attribute name -> converter applied to the wire value
    _converters: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]):
        """Build the resource from a JSON body; unknown keys go to ``properties``."""
        known = {f.name for f in fields(cls)} - {"properties"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in body.items():
            name = cls._renames.get(key, key)
            if name in known:
                if name in cls._datetimes:
                    value = _dt(value)
                elif name in cls._converters:
                    value = cls._converters[name](value)
                kwargs[name] = value
            else:
                extra[key] = value
        return cls(properties=extra, **kwargs)


@dataclass(frozen=True)
class Image(Resource):
    """A Glance v2 image. Custom and vendor (``__``) properties are in ``properties``."""

    _renames: ClassVar[dict[str, str]] = {
        "protected": "is_protected",
        "os_hidden": "is_hidden",
        "self": "self_link",
    }
    _datetimes: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")

    id: str = ""
    name: str | None = None
    status: str = ""
    visibility: str = ""
    is_protected: bool = False
    is_hidden: bool = False
    owner: str | None = None
    container_format: str | None = None
    disk_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    size: int | None = None
    virtual_size: int | None = None
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    tags: list[str] = field(default_factory=list, compare=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    file: str | None = None
    schema: str | None = None
    self_link: str | None = None


@dataclass(frozen=True)
class Member(Resource):
    """A Glance v2 image member: one project an image is shared with.

    ``id`` is the member project id, so a ``Member`` can be passed wherever a member id is.
    """

    _datetimes: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")

    member_id: str = ""
    image_id: str = ""
    status: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    schema: str | None = None

    @property
    def id(self) -> str:
        return self.member_id


@dataclass(frozen=True)
class CloudImage(Resource):
    """An IMS image from ``GET /v2/cloudimages``: Glance fields plus the ``__`` extensions.

    String booleans (``"true"``/``"True"``) and string numbers are normalised; every other
    ``__`` attribute stays in ``properties`` under its wire name.
    """

    _renames: ClassVar[dict[str, str]] = {
        "protected": "is_protected",
        "self": "self_link",
        "__imagetype": "image_type",
        "__isregistered": "is_registered",
        "__os_type": "os_type",
        "__os_version": "os_version",
        "__os_bit": "os_bit",
        "__platform": "platform",
        "__description": "description",
        "__image_size": "image_size",
    }
    _datetimes: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    _converters: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "is_protected": _bool,
        "is_registered": _bool,
        "image_size": _int_or_none,
        "max_ram": _int_or_none,
        "min_ram": _int_or_none,
        "min_disk": _int_or_none,
    }

    id: str = ""
    name: str | None = None
    status: str = ""
    visibility: str = ""
    is_protected: bool = False
    owner: str | None = None
    container_format: str | None = None
    disk_format: str | None = None
    min_disk: int | None = None
    min_ram: int | None = None
    max_ram: int | None = None
    size: int | None = None
    virtual_env_type: str | None = None
    image_type: str | None = None
    is_registered: bool = False
    os_type: str | None = None
    os_version: str | None = None
    os_bit: str | None = None
    platform: str | None = None
    description: str | None = None
    image_size: int | None = None
    tags: list[str] = field(default_factory=list, compare=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    self_link: str | None = None


# IMS job statuses; the API sends them upper case, batch results lower case.
JOB_DONE = frozenset({"success", "fail"})


@dataclass(frozen=True)
class ImsJob(Resource):
    """An IMS asynchronous job (``GET /v1/{project_id}/jobs/{job_id}``).

    ``create_cloudimage`` returns one with only ``job_id`` set.
    """

    job_id: str = ""
    job_type: str | None = None
    status: str = ""
    begin_time: str | None = None
    end_time: str | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    entities: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        return self.job_id

    @property
    def is_done(self) -> bool:
        """SUCCESS or FAIL, in any case."""
        return self.status.lower() in JOB_DONE

    @property
    def is_success(self) -> bool:
        return self.status.lower() == "success"

    @property
    def is_failed(self) -> bool:
        return self.status.lower() == "fail"

    @property
    def image_ids(self) -> list[str]:
        """The ids of the images the job made, wherever IMS puts them for its job type.

        ``entities.image_id`` for single-image jobs (create from ECS, import, copy...);
        ``entities.sub_jobs_result[].entities.image_id`` for jobs with sub-jobs
        (``imsVolumesToSysDataImagesJob``, ``imsImportOvaImageJob``); for the batch member
        jobs ``entities.results[].image_id``.
        """
        ents = self.entities or {}
        ids: list[str] = []
        if isinstance(ents.get("image_id"), str) and ents["image_id"]:
            ids.append(ents["image_id"])
        for sub in ents.get("sub_jobs_result") or []:
            sub_id = ((sub or {}).get("entities") or {}).get("image_id")
            if sub_id and sub_id not in ids:
                ids.append(sub_id)
        if not ids:
            for result in ents.get("results") or []:
                rid = (result or {}).get("image_id")
                if rid and rid not in ids:
                    ids.append(rid)
        return ids

    @property
    def image_id(self) -> str | None:
        """The new image's id (the first one for multi-image jobs), or ``None``."""
        ids = self.image_ids
        return ids[0] if ids else None

    @property
    def progress(self) -> float | None:
        """``entities.process_percent`` when the region reports it (Huawei)."""
        value = (self.entities or {}).get("process_percent")
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def message(self) -> str:
        """``"IMG.xxxx: fail reason"`` for a failed job, else ``""``."""
        parts = [p for p in (self.error_code, self.fail_reason) if p]
        return ": ".join(parts)


def _flavor_id(value: Any) -> str:
    """Nova before 2.47 sends ``{"id": ...}``, later ``{"original_name": ...}``."""
    if isinstance(value, dict):
        return str(value.get("id") or value.get("original_name") or "")
    return str(value or "")


def _image_id(value: Any) -> str:
    """``""`` for a server booted from a volume (every ECS server), else ``{"id": ...}``."""
    return str(value.get("id") or "") if isinstance(value, dict) else ""


@dataclass(frozen=True)
class Server(Resource):
    """A compute server (Nova's ``GET /servers/detail``). ECS keeps the source image's
    facts in ``metadata`` (``image_name``, ``os_type``, ``os_bit``)."""

    _renames: ClassVar[dict[str, str]] = {
        "tenant_id": "project_id",
        "flavor": "flavor_id",
        "image": "image_id",
        "created": "created_at",
        "updated": "updated_at",
    }
    _datetimes: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")
    _converters: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "flavor_id": _flavor_id,
        "image_id": _image_id,
    }

    id: str = ""
    name: str = ""
    status: str = ""
    project_id: str | None = None
    flavor_id: str = ""
    image_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None
