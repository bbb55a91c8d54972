"""IMS ``GET /v2/cloudimages`` (reference ims.md §1): query images with the IMS filters."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.ims.routing import bad_request
from imsportal.localcloud.ims.rules import QueryError, query_images
from imsportal.localcloud.models import Token


def list_cloudimages(request: HttpRequest, caller: Token) -> HttpResponse:
    try:
        docs = query_images(caller, request.GET)
    except QueryError as e:
        return bad_request(e.code, str(e))
    # Only the images: no next/first/schema links, the client pages with marker.
    return JsonResponse({"images": docs})
