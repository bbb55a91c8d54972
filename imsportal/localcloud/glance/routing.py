"""Glance v2 routing: authentication first, then 405 and the no-body rule, as Glance's
WSGI pipeline answers; the version documents and the generic 404s."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud import aksk
from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.errors import gateway_unauthorized, glance_error
from imsportal.localcloud.glance.rules import Caller

GENERIC_401 = (
    "This server could not verify that you are authorized to access the document you requested."
    " Either you supplied the wrong credentials (e.g., bad password), or your browser does not"
    " understand how to supply the credentials required."
)
NO_BODY = "A body is not expected with this request."

Handler = Callable[..., HttpResponse]

# ---------------------------------------------------------------------------------------
# Authentication, routing, generic answers


def authenticate(request: HttpRequest) -> tuple[Caller | None, str]:
    """The caller from a project-scoped Keystone token or, as on Huawei/OTC's native
    OpenStack API, an AK/SK signature; or None and the reason."""
    token, reason = authenticate_or_reason(request)
    if token is None or token.project_id is None:
        return None, reason
    return Caller(token=token, project=token.project_id, roles=frozenset(token.roles)), ""


def unauthorized(request: HttpRequest, reason: str = "") -> HttpResponse:
    if aksk.is_signed(request) and "X-Auth-Token" not in request.headers:
        # A refused signature is answered by the API gateway, in its flat format.
        return gateway_unauthorized(request, reason)
    return glance_error(
        request,
        401,
        GENERIC_401,
        headers={"WWW-Authenticate": f'Keystone uri="{settings.PUBLIC_URL}/identity"'},
    )


def forbidden_action(request: HttpRequest, action: str) -> HttpResponse:
    return glance_error(request, 403, f"You are not authorized to complete {action} action.")


def has_body(request: HttpRequest) -> bool:
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return True
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


def glance_route(body_allowed: tuple[str, ...] = ("POST", "PUT", "PATCH"), **handlers: Handler):
    """One URL of the v2 API: 401 first (as Glance's auth runs before its router), then
    405 with ``Allow`` for a method the URL lacks, then 400 for a body where none belongs.
    Handlers are called as ``handler(request, caller, **url_kwargs)``."""
    allow = ", ".join(sorted(handlers))

    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller, reason = authenticate(request)
        if caller is None:
            return unauthorized(request, reason)
        handler = handlers.get(request.method or "")
        if handler is None:
            return glance_error(
                request,
                405,
                f"The method {request.method} is not allowed for this resource.",
                headers={"Allow": allow},
            )
        if request.method not in body_allowed and has_body(request):
            return glance_error(request, 400, NO_BODY)
        return handler(request, caller, **kwargs)

    view.glance_handlers = handlers  # type: ignore[attr-defined]
    return view


def mount(request: HttpRequest) -> str:
    """Where the image API was reached: ``/image`` (the catalog's endpoint) or the root."""
    return "/image" if request.path == "/image" or request.path.startswith("/image/") else ""


def versions_body(request: HttpRequest) -> dict:
    href = f"{settings.PUBLIC_URL}{mount(request)}/v2/"
    versions = [("v2.17", "CURRENT")] + [
        (f"v2.{n}", "SUPPORTED") for n in (16, 15, 14, 9, 7, 6, 5, 4, 3, 2, 1, 0)
    ]
    return {
        "versions": [
            {"id": vid, "status": status, "links": [{"rel": "self", "href": href}]}
            for vid, status in versions
        ]
    }


def root(request: HttpRequest) -> HttpResponse:
    """Any path whose first segment is not a version answers with the versions and 300."""
    return JsonResponse(versions_body(request), status=300)


def versions(request: HttpRequest) -> HttpResponse:
    return JsonResponse(versions_body(request))


def not_found(request: HttpRequest) -> HttpResponse:
    caller, reason = authenticate(request)
    if caller is None:
        return unauthorized(request, reason)
    return glance_error(request, 404, "The resource could not be found.")


def image_not_found(request: HttpRequest, image_id: str) -> HttpResponse:
    return glance_error(request, 404, f"No image found with ID {image_id}")
