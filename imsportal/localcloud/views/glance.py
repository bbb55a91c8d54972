"""Glance v2: version documents, list and show (grown in the local-cloud issue)."""

from django.conf import settings
from django.db.models import Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud.models import Image, Token
from imsportal.localcloud.views.errors import glance_error
from imsportal.localcloud.views.identity import valid_token

GENERIC_401 = (
    "This server could not verify that you are authorized to access the document you requested."
)


def versions_body() -> dict:
    href = f"{settings.PUBLIC_URL}/image/v2/"
    versions = [("v2.17", "CURRENT")] + [
        (f"v2.{n}", "SUPPORTED") for n in (16, 15, 9, 7, 6, 5, 4, 3, 2, 1, 0)
    ]
    return {
        "versions": [
            {"id": vid, "status": status, "links": [{"rel": "self", "href": href}]}
            for vid, status in versions
        ]
    }


def root(request):
    """Any path Glance does not know answers with the versions document and 300."""
    return JsonResponse(versions_body(), status=300)


def versions(request):
    return JsonResponse(versions_body())


def authenticate(request) -> Token | None:
    return valid_token(request.headers.get("X-Auth-Token"))


def unauthorized(request):
    return glance_error(
        request,
        401,
        GENERIC_401,
        headers={"WWW-Authenticate": f'Keystone uri="{settings.PUBLIC_URL}/identity"'},
    )


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_body(image: Image) -> dict:
    body = {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "tags": list(image.tags),
        "created_at": _ts(image.created_at),
        "updated_at": _ts(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    body.update(image.properties)
    return body


def visible_to(token: Token):
    project = token.project_id
    return Image.objects.exclude(status__in=("deleted", "killed")).filter(
        Q(owner=project) | Q(visibility="public")
    )


@csrf_exempt
def images(request):
    token = authenticate(request)
    if token is None:
        return unauthorized(request)
    if request.method != "GET":
        return glance_error(request, 405, "The method is not allowed for this resource.")
    try:
        limit = int(request.GET.get("limit", 25))
    except ValueError:
        return glance_error(request, 400, "limit param must be an integer")
    if limit < 0:
        return glance_error(request, 400, "limit param must be positive")
    limit = min(limit, 1000)
    qs = visible_to(token).filter(os_hidden=False)
    for field in ("name", "status", "visibility", "owner", "disk_format", "container_format"):
        if field in request.GET:
            qs = qs.filter(**{field: request.GET[field]})
    qs = qs.order_by("-created_at", "-id")
    marker = request.GET.get("marker")
    if marker:
        mark = qs.filter(id=marker).first()
        if mark is None:
            return glance_error(request, 400, f"marker could not be found: {marker}")
        qs = qs.filter(
            Q(created_at__lt=mark.created_at) | Q(created_at=mark.created_at, id__lt=mark.id)
        )
    page = list(qs[:limit])
    params = [(k, v) for k, v in request.GET.lists() if k != "marker" for v in v]
    from urllib.parse import urlencode

    query = urlencode(params)
    body = {
        "images": [image_body(i) for i in page],
        "first": "/v2/images" + (f"?{query}" if query else ""),
        "schema": "/v2/schemas/images",
    }
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", page[-1].id)])
    return JsonResponse(body)


@csrf_exempt
def image(request, image_id: str):
    token = authenticate(request)
    if token is None:
        return unauthorized(request)
    found = visible_to(token).filter(id=image_id).first() if len(image_id) <= 36 else None
    if found is None:
        return glance_error(request, 404, f"No image found with ID {image_id}")
    return JsonResponse(image_body(found))
