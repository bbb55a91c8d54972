"""Glance v2 image list: filters, operators, sorting and keyset paging (reference §1.3),
plus what IMS's Glance-compatible list adds: the ``__`` filters and attributes."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime

from imsportal.localcloud.errors import glance_error
from imsportal.localcloud.glance.routing import forbidden_action
from imsportal.localcloud.glance.rules import Caller, find_image, image_body, listed_q, live_images
from imsportal.localcloud.ims.rules import ims_attributes, matches_ims_filters
from imsportal.localcloud.models import Image

LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
)
NULLABLE_SORT_KEYS = {"name", "container_format", "disk_format", "size"}
IN_FILTERS = ("name", "id", "status", "container_format", "disk_format")
TIME_OPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact", "neq": "neq"}
NOT_PROPERTIES = {
    "limit",
    "marker",
    "sort",
    "sort_key",
    "sort_dir",
    "owner",
    "visibility",
    "member_status",
    "tag",
    "size_min",
    "size_max",
    "created_at",
    "updated_at",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    *IN_FILTERS,
}


class BadRequest(Exception):
    pass


def split_op(expression: str) -> tuple[str, str]:
    """Glance splits on the first colon, except for a bare ISO 8601 time."""
    left, sep, right = expression.partition(":")
    if not sep or parse_time(expression) is not None:
        return "eq", expression
    return left, right


def split_values(value: str) -> list[str]:
    """``in:`` values: comma separated, double quotes protect commas."""
    return [v.strip() for v in next(csv.reader([value], skipinitialspace=True), [])]


def parse_time(value: str) -> datetime | None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _in_filter(key: str, raw: str) -> Q:
    op, value = split_op(raw)
    if op == "eq":
        return Q(**{key: value})
    if op == "in":
        return Q(**{f"{key}__in": split_values(value)})
    raise BadRequest(f"Unable to filter by unknown operator '{op}'.")


def _time_filter(key: str, raw: str) -> Q:
    op, value = split_op(raw)
    if op not in TIME_OPS:
        raise BadRequest(f"Unable to filter by unknown operator '{op}'.")
    when = parse_time(value)
    if when is None:
        raise BadRequest(f"Invalid time format for {key}.")
    if op == "neq":
        return ~Q(**{key: when})
    return Q(**{f"{key}__{TIME_OPS[op]}": when})


def _int_param(params: Any, key: str, message: str) -> int | None:
    if key not in params:
        return None
    try:
        return int(params[key])
    except ValueError:
        raise BadRequest(message) from None


def _bool_param(value: str, key: str) -> bool:
    if value not in ("true", "false"):
        raise BadRequest(
            f"Invalid value '{value}' for '{key}' filter. Valid values are 'true' or 'false'."
        )
    return value == "true"


def filtered(caller: Caller, params: Any) -> QuerySet[Image]:
    visibility = params.get("visibility")
    if visibility is not None and visibility not in (
        "public",
        "private",
        "shared",
        "community",
        "all",
    ):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    member_status = params.get("member_status", "accepted")
    if member_status not in ("accepted", "pending", "rejected", "all"):
        raise BadRequest(f"Invalid status value: {member_status}")
    if "changes-since" in params:
        raise BadRequest("The 'changes-since' filter is no longer available on v2.")
    # Killed and deleted images never appear in lists.
    qs = live_images().exclude(status="killed").filter(listed_q(caller, visibility, member_status))
    for key in IN_FILTERS:
        if key in params:
            qs = qs.filter(_in_filter(key, params[key]))
    if "owner" in params:
        qs = qs.filter(owner=params["owner"])
    for tag in params.getlist("tag"):
        qs = qs.extra(  # noqa: S610 - a bound parameter, SQLite's json_each over the tag list
            where=[
                "EXISTS (SELECT 1 FROM json_each(localcloud_image.tags) WHERE json_each.value = %s)"
            ],
            params=[tag],
        )
    non_numeric = "Unable to filter on a range with a non-numeric value."
    size_min = _int_param(params, "size_min", non_numeric)
    size_max = _int_param(params, "size_max", non_numeric)
    if size_min is not None:
        qs = qs.filter(size__gte=size_min)
    if size_max is not None:
        qs = qs.filter(size__lte=size_max)
    for key in ("min_disk", "min_ram"):
        value = _int_param(params, key, f"Invalid value for {key}.")
        if value is not None:
            qs = qs.filter(**{key: value})
    for key in ("created_at", "updated_at"):
        if key in params:
            qs = qs.filter(_time_filter(key, params[key]))
    if "protected" in params:
        qs = qs.filter(protected=_bool_param(params["protected"], "protected"))
    # Hidden images are left out unless asked for; os_hidden=true lists only them.
    qs = qs.filter(os_hidden=_bool_param(params.get("os_hidden", "false").lower(), "os_hidden"))
    custom = [k for k in params if k not in NOT_PROPERTIES and not k.startswith("__")]
    for n, (key, value) in enumerate((k, params[k]) for k in custom):
        # SQLite's json_extract gives the property's text (custom properties are strings).
        extracted = Func(
            F("properties"),
            Value("$." + json.dumps(key)),
            function="JSON_EXTRACT",
            output_field=TextField(),
        )
        qs = qs.alias(**{f"prop_{n}": extracted}).filter(**{f"prop_{n}": value})
    ims_filters = {k: params[k] for k in params if k.startswith("__")}
    if ims_filters:
        # IMS's attributes (__imagetype, __platform...) are partly derived, so they are
        # matched in Python over the candidates, before paging.
        candidates = list(qs)
        attributes = ims_attributes(candidates, caller.project)
        qs = qs.filter(
            pk__in=[i.id for i in candidates if matches_ims_filters(attributes[i.id], ims_filters)]
        )
    return qs


def sort_spec(params: Any) -> list[tuple[str, str]]:
    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    if "sort" in params:
        if keys or dirs:
            raise BadRequest("Old and new sorting syntax cannot be combined")
        keys, dirs = [], []
        for part in params["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or "desc")
    for key in keys:
        if key not in SORT_KEYS:
            raise BadRequest(
                f"Invalid sort key: {key}. It must be one of the following: "
                + ", ".join(SORT_KEYS)
                + "."
            )
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction}")
    keys = keys or ["created_at"]
    if not dirs:
        dirs = ["desc"] * len(keys)
    elif len(dirs) == 1:
        dirs = dirs * len(keys)
    elif len(dirs) != len(keys):
        raise BadRequest("Number of sort dirs does not match the number of sort keys")
    spec = list(zip(keys, dirs, strict=True))
    for tiebreak in ("created_at", "id"):  # Glance's stable keyset order
        if tiebreak not in keys:
            spec.append((tiebreak, "desc"))
    return spec


def _after(spec: list[tuple[str, str]], marker: Image) -> Q:
    """Rows strictly after ``marker`` in the order of ``spec`` (NULLs sort lowest)."""
    result = Q(pk__in=[])
    equal_so_far = Q()
    for key, direction in spec:
        value = getattr(marker, key)
        if direction == "asc":
            beyond = Q(**{f"{key}__isnull": False}) if value is None else Q(**{f"{key}__gt": value})
        elif value is None:
            beyond = Q(pk__in=[])
        else:
            beyond = Q(**{f"{key}__lt": value})
            if key in NULLABLE_SORT_KEYS:
                beyond |= Q(**{f"{key}__isnull": True})
        result |= equal_so_far & beyond
        same = Q(**{f"{key}__isnull": True}) if value is None else Q(**{key: value})
        equal_so_far &= same
    return result


def list_images(request: HttpRequest, caller: Caller) -> HttpResponse:
    if not caller.can_read:
        return forbidden_action(request, "get_images")
    params = request.GET
    try:
        try:
            limit = int(params.get("limit", LIMIT_DEFAULT))
        except ValueError:
            raise BadRequest("limit param must be an integer") from None
        if limit < 0:
            raise BadRequest("limit param must be positive")
        limit = min(limit, LIMIT_MAX)
        spec = sort_spec(params)
        qs = filtered(caller, params)
        marker_id = params.get("marker")
        if marker_id is not None:
            # The marker must be an image the caller can see, whatever the filters.
            marker = find_image(caller, marker_id)
            if marker is None:
                raise BadRequest(f"marker could not be found: {marker_id}")
            qs = qs.filter(_after(spec, marker))
    except BadRequest as e:
        return glance_error(request, 400, str(e))
    ordering = [
        F(key).asc(nulls_first=True) if direction == "asc" else F(key).desc(nulls_last=True)
        for key, direction in spec
    ]
    page = list(qs.order_by(*ordering)[:limit]) if limit else []
    kept = [(key, value) for key, values in params.lists() if key != "marker" for value in values]
    query = urlencode(kept)
    attributes = ims_attributes(page, caller.project)
    body: dict[str, Any] = {
        "images": [image_body(image) | attributes[image.id] for image in page],
        "first": "/v2/images" + (f"?{query}" if query else ""),
        "schema": "/v2/schemas/images",
    }
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + urlencode([*kept, ("marker", page[-1].id)])
    return JsonResponse(body)
