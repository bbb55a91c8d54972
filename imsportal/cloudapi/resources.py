"""Typed resources built from API bodies. Wire names are mapped once, here; keys the
class does not know are kept in ``properties``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Resource:
    # wire name -> attribute name, where they differ
    _renames: ClassVar[dict[str, str]] = {}
    _datetimes: ClassVar[tuple[str, ...]] = ()

    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]):
        known = {f.name for f in fields(cls)} - {"properties"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in body.items():
            name = cls._renames.get(key, key)
            if name in known:
                kwargs[name] = _dt(value) if name in cls._datetimes else value
            else:
                extra[key] = value
        return cls(properties=extra, **kwargs)


@dataclass(frozen=True)
class Image(Resource):
    """A Glance v2 image. Custom and vendor (``__``) properties are in ``properties``."""

    _renames: ClassVar[dict[str, str]] = {"protected": "is_protected", "os_hidden": "is_hidden"}
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

    _renames = {**_renames, "self": "self_link"}
