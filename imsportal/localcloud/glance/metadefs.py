"""Glance v2 metadata definitions, read-only (Glance 33's ``/v2/metadefs``): namespaces,
their properties and objects, and resource types, as ``glance-manage db_load_metadefs``
would have loaded them from the seed files beside this module (``metadefs_seed/*.json``).

The portal's edit forms read it to suggest property keys and allowed values, as Horizon's
"Update Metadata" does. Writes are not served (405).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.errors import glance_error
from imsportal.localcloud.glance.rules import Caller

SEED_DIR = Path(__file__).resolve().parent / "metadefs_seed"
# One load time for the whole seed, as a db_load_metadefs run stamps it.
LOADED_AT = "2026-01-01T00:00:00Z"
NS_SCHEMA = "/v2/schemas/metadefs/namespace"
OBJ_SCHEMA = "/v2/schemas/metadefs/object"


@cache
def seed() -> dict[str, dict[str, Any]]:
    """Every namespace by name, in load order (the files sorted by name)."""
    out = {}
    for path in sorted(SEED_DIR.glob("[!_]*.json")):
        doc = json.loads(path.read_text())
        out[doc["namespace"]] = doc
    return out


@cache
def schemas() -> dict[str, Any]:
    return json.loads((SEED_DIR / "_schemas.json").read_text())


def _association(assoc: dict[str, Any]) -> dict[str, Any]:
    body = {"name": assoc["name"]}
    body |= {k: assoc[k] for k in ("prefix", "properties_target") if assoc.get(k)}
    return body | {"created_at": LOADED_AT, "updated_at": LOADED_AT}


def _object(namespace: str, obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    return {
        "name": obj["name"],
        "description": obj.get("description", ""),
        "required": [prefix + name for name in obj.get("required", [])],
        "properties": {prefix + k: v for k, v in obj.get("properties", {}).items()},
        "schema": OBJ_SCHEMA,
        "self": f"/v2/metadefs/namespaces/{namespace}/objects/{obj['name']}",
        "created_at": LOADED_AT,
        "updated_at": LOADED_AT,
    }


def _namespace(doc: dict[str, Any]) -> dict[str, Any]:
    body = {
        "namespace": doc["namespace"],
        "display_name": doc.get("display_name", ""),
        "description": doc.get("description", ""),
        "visibility": doc.get("visibility", "public"),
        "protected": doc.get("protected", True),
        "owner": doc.get("owner", "admin"),
        "created_at": LOADED_AT,
        "updated_at": LOADED_AT,
        "self": f"/v2/metadefs/namespaces/{doc['namespace']}",
        "schema": NS_SCHEMA,
    }
    if doc.get("resource_type_associations"):
        body["resource_type_associations"] = [
            _association(a) for a in doc["resource_type_associations"]
        ]
    return body


def _visible(doc: dict[str, Any], caller: Caller) -> bool:
    # Glance's policy: public namespaces for everyone, private ones for their owner.
    return doc.get("visibility", "public") == "public" or caller.is_admin


def _find(caller: Caller, name: str) -> dict[str, Any] | None:
    doc = seed().get(name)
    return doc if doc is not None and _visible(doc, caller) else None


def _no_namespace(request: HttpRequest, name: str) -> HttpResponse:
    return glance_error(request, 404, f"Metadata definition namespace={name} was not found.")


def list_namespaces(request: HttpRequest, caller: Caller) -> HttpResponse:
    q = request.GET
    docs = [d for d in seed().values() if _visible(d, caller)]
    if "visibility" in q:
        if q["visibility"] not in ("public", "private"):
            return glance_error(request, 400, f"Invalid visibility value: {q['visibility']}")
        docs = [d for d in docs if d.get("visibility", "public") == q["visibility"]]
    if q.get("resource_types"):
        wanted = set(q["resource_types"].split(","))
        docs = [
            d for d in docs if wanted & {a["name"] for a in d.get("resource_type_associations", [])}
        ]
    sort_key = q.get("sort_key", "created_at")
    if sort_key not in ("created_at", "updated_at", "namespace", "display_name"):
        return glance_error(request, 400, f"Invalid sort key: {sort_key}")
    sort_dir = q.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        return glance_error(request, 400, f"Invalid sort direction: {sort_dir}")
    # Equal load times fall back to load order, newest first when descending.
    if sort_key in ("namespace", "display_name"):
        docs.sort(key=lambda d: d.get(sort_key, ""))
    if sort_dir == "desc":
        docs.reverse()
    if q.get("marker"):
        names = [d["namespace"] for d in docs]
        if q["marker"] not in names:
            return _no_namespace(request, q["marker"])
        docs = docs[names.index(q["marker"]) + 1 :]
    limit = None
    if "limit" in q:
        try:
            limit = int(q["limit"])
        except ValueError:
            return glance_error(request, 400, "limit param must be an integer")
        if limit < 0:
            return glance_error(request, 400, "limit param must be positive")
        docs = docs[:limit]
    params = {k: v for k, v in q.items() if k != "marker"}
    first = "/v2/metadefs/namespaces" + (f"?{urlencode(params)}" if params else "")
    body: dict[str, Any] = {
        "namespaces": [_namespace(d) for d in docs],
        "first": first,
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if docs and limit is not None and len(docs) == limit:
        body["next"] = "/v2/metadefs/namespaces?" + urlencode(
            params | {"marker": docs[-1]["namespace"]}
        )
    return JsonResponse(body)


def _prefix(doc: dict[str, Any], resource_type: str | None) -> str:
    for assoc in doc.get("resource_type_associations", []):
        if assoc["name"] == resource_type:
            return assoc.get("prefix") or ""
    return ""


def show_namespace(request: HttpRequest, caller: Caller, namespace: str) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    prefix = _prefix(doc, request.GET.get("resource_type"))
    body = _namespace(doc)
    if doc.get("objects"):
        body["objects"] = [_object(namespace, o, prefix) for o in doc["objects"]]
    if doc.get("properties"):
        body["properties"] = {prefix + k: v for k, v in doc["properties"].items()}
    return JsonResponse(body)


def list_properties(request: HttpRequest, caller: Caller, namespace: str) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    return JsonResponse({"properties": doc.get("properties", {})})


def show_property(request: HttpRequest, caller: Caller, namespace: str, name: str) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    prefix = _prefix(doc, request.GET.get("resource_type"))
    if prefix and name.startswith(prefix):
        name = name[len(prefix) :]
    prop = doc.get("properties", {}).get(name)
    if prop is None:
        return glance_error(
            request,
            404,
            f"Metadata definition property={name} not found in namespace={namespace}.",
        )
    return JsonResponse({"name": prefix + name, **prop})


def list_objects(request: HttpRequest, caller: Caller, namespace: str) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    return JsonResponse(
        {
            "objects": [_object(namespace, o) for o in doc.get("objects", [])],
            # Glance's own link, without the leading slash.
            "schema": "v2/schemas/metadefs/objects",
        }
    )


def show_object(request: HttpRequest, caller: Caller, namespace: str, name: str) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    obj = next((o for o in doc.get("objects", []) if o["name"] == name), None)
    if obj is None:
        return glance_error(
            request,
            404,
            f"Metadata definition object={name} not found in namespace={namespace}.",
        )
    return JsonResponse(_object(namespace, obj))


def list_namespace_resource_types(
    request: HttpRequest, caller: Caller, namespace: str
) -> HttpResponse:
    doc = _find(caller, namespace)
    if doc is None:
        return _no_namespace(request, namespace)
    return JsonResponse(
        {
            "resource_type_associations": [
                _association(a) for a in doc.get("resource_type_associations", [])
            ]
        }
    )


def list_resource_types(request: HttpRequest, caller: Caller) -> HttpResponse:
    names = sorted(
        {a["name"] for d in seed().values() for a in d.get("resource_type_associations", [])}
    )
    return JsonResponse(
        {
            "resource_types": [
                {"name": n, "created_at": LOADED_AT, "updated_at": LOADED_AT} for n in names
            ]
        }
    )


def schema_view(request: HttpRequest, caller: Caller, name: str) -> HttpResponse:
    return JsonResponse(schemas()[name])
