"""Property suggestions from the cloud's metadata definitions (Glance ``/v2/metadefs``), as
Horizon's "Update Metadata" offers them, and the checks of values against their definitions.

A cloud without metadefs (404) or failing to answer simply gives no suggestions. The
definitions change rarely, so they are kept per project for a few minutes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from imsportal.cloudapi import ApiError

TTL = 600
_lock = threading.Lock()
_cache: dict[int, tuple[float, dict[str, dict[str, Any]]]] = {}


def definitions_for(project, conn) -> dict[str, dict[str, Any]]:
    """``{key: definition}`` for images in this project's cloud; ``{}`` when not served."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(project.pk)
        if cached and now - cached[0] < TTL:
            return cached[1]
    try:
        found = conn.image.metadef_properties("OS::Glance::Image")
    except ApiError:
        found = {}  # 404: no metadefs here; anything else: no suggestions this time
    with _lock:
        _cache[project.pk] = (now, found)
    return found


def reset() -> None:
    with _lock:
        _cache.clear()


def check(key: str, value: str, definition: dict[str, Any]) -> str | None:
    """Why ``value`` does not fit ``key``'s definition, or ``None``."""
    kind = definition.get("type")
    if definition.get("enum") and value not in [str(v) for v in definition["enum"]]:
        allowed = ", ".join(str(v) for v in definition["enum"])
        return f"{key} must be one of: {allowed}."
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return f"{key} must be true or false."
    if kind in ("integer", "number"):
        try:
            number = int(value) if kind == "integer" else float(value)
        except ValueError:
            return f"{key} must be {'a whole number' if kind == 'integer' else 'a number'}."
        if "minimum" in definition and number < definition["minimum"]:
            return f"{key} must be at least {definition['minimum']}."
        if "maximum" in definition and number > definition["maximum"]:
            return f"{key} must be at most {definition['maximum']}."
    if kind == "string" and "maxLength" in definition and len(value) > definition["maxLength"]:
        return f"{key} must be at most {definition['maxLength']} characters."
    return None
