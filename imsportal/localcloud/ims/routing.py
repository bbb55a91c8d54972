"""The IMS request wrapper: the gateway's 401, 405, the role check; JSON bodies and IMS's
400s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud import jsonbody
from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.errors import gateway_unauthorized, ims_error
from imsportal.localcloud.ims import engine

Handler = Callable[..., HttpResponse]

# ---------------------------------------------------------------------------------------
# Errors and the request wrapper


def bad_request(code: str, message: str) -> JsonResponse:
    return ims_error(400, code, message)


def ims_route(writes: tuple[str, ...] = (), **handlers: Handler) -> Handler:
    """One IMS URL: 401 before anything else, then 405, then the role check (reads need a
    role in the project, which every scoped caller has; writes need member or admin)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller, reason = authenticate_or_reason(request)
        if caller is None:
            return gateway_unauthorized(request, reason)
        handler = handlers.get(request.method or "")
        if handler is None:
            resp = ims_error(405, "IMG.0001", f"The method {request.method} is not allowed.")
            resp["Allow"] = ", ".join(sorted(handlers))
            return resp
        if request.method in writes and not {"member", "admin"} & set(caller.roles):
            return ims_error(403, "IMG.0026", "The role of the user is invalid.")
        engine.ensure_runner()
        return handler(request, caller, **kwargs)

    return view


def json_body(request: HttpRequest, kind: type) -> Any:
    """The request's JSON body if it is a non-empty ``kind`` (list or dict); otherwise the
    IMS 400 to answer with (a JsonResponse)."""
    if not request.body.strip():
        return bad_request("IMG.0007", "The request body is empty.")
    try:
        body = jsonbody.loads(request.body)
    except ValueError:
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not isinstance(body, kind):
        return bad_request("IMG.0001", "The request message format is invalid.")
    if not body:
        return bad_request("IMG.0007", "The request body is empty.")
    return body
