"""A minimal compute API so the seeded servers can be discovered (IMS creates images from
them): Nova's ``GET /v2.1/servers``, ``/servers/detail`` and ``/servers/{id}``, and Huawei
ECS's ``GET /v1/{project_id}/cloudservers/detail``. Read-only; scoped to the caller's
project. Nova answers with microversion 2.1 only."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from imsportal.localcloud.auth import authenticate_or_reason
from imsportal.localcloud.compute import rules
from imsportal.localcloud.errors import gateway_unauthorized, keystone_error
from imsportal.localcloud.models import Server, Token

STATUSES = {"ACTIVE", "SHUTOFF"}


def nova_error(status: int, kind: str, message: str) -> JsonResponse:
    """Nova's fault body: ``{"itemNotFound": {"code": 404, "message": ...}}``."""
    return JsonResponse({kind: {"code": status, "message": message}}, status=status)


def _caller(request: HttpRequest) -> Token | HttpResponse:
    caller, reason = authenticate_or_reason(request)
    if caller is None:
        # keystonemiddleware answers before Nova does, in Keystone's format.
        return keystone_error(401, reason, settings.PUBLIC_URL)
    if request.method != "GET":
        return nova_error(405, "computeFault", "The method is not allowed for this resource.")
    return caller


def _servers(request: HttpRequest, caller: Token) -> QuerySet[Server] | JsonResponse:
    servers = Server.objects.filter(project_id=caller.project_id).order_by("-created_at", "id")
    q = request.GET
    if "name" in q:
        # Nova matches the name as a regular expression; a substring covers the common use.
        servers = servers.filter(name__contains=q["name"])
    if "status" in q:
        if q["status"].upper() not in STATUSES:
            return JsonResponse({"servers": []})
        servers = servers.filter(status=q["status"].upper())
    if q.get("marker"):
        ids = list(servers.values_list("id", flat=True))
        if q["marker"] not in ids:
            return nova_error(400, "badRequest", f"marker [{q['marker']}] not found")
        servers = servers.filter(id__in=ids[ids.index(q["marker"]) + 1 :])
    if "limit" in q:
        try:
            limit = int(q["limit"])
        except ValueError:
            limit = -1
        if limit < 0:
            return nova_error(400, "badRequest", "Invalid input for query parameters limit.")
        servers = servers[:limit]
    return servers


def _next_link(request: HttpRequest, servers: list[Server]) -> list[dict[str, str]]:
    """Nova links a next page when the page was cut by ``limit``."""
    limit = request.GET.get("limit")
    if not servers or limit is None or len(servers) != int(limit):
        return []
    params = {**request.GET.dict(), "marker": servers[-1].id}
    href = f"{settings.PUBLIC_URL}{request.path}?{urlencode(params)}"
    return [{"rel": "next", "href": href}]


def _listing(detail: Callable[[Server, Token], dict]) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        caller = _caller(request)
        if isinstance(caller, HttpResponse):
            return caller
        servers = _servers(request, caller)
        if isinstance(servers, JsonResponse):
            return servers
        page = list(servers)
        body: dict = {"servers": [detail(s, caller) for s in page]}
        if links := _next_link(request, page):
            body["servers_links"] = links
        return JsonResponse(body)

    return view


list_servers = _listing(lambda server, caller: rules.nova_summary(server))
list_servers_detail = _listing(lambda server, caller: rules.nova_detail(server, caller.user_id))


def show_server(request: HttpRequest, server_id: str) -> HttpResponse:
    caller = _caller(request)
    if isinstance(caller, HttpResponse):
        return caller
    server = Server.objects.filter(id=server_id, project_id=caller.project_id).first()
    if server is None:
        return nova_error(404, "itemNotFound", f"Instance {server_id} could not be found.")
    return JsonResponse({"server": rules.nova_detail(server, caller.user_id)})


def version(request: HttpRequest) -> JsonResponse:
    """``GET /compute/v2.1``: the version document keystoneauth's discovery reads."""
    return JsonResponse(
        {
            "version": {
                "id": "v2.1",
                "status": "CURRENT",
                "version": "2.1",
                "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": f"{settings.PUBLIC_URL}/compute/v2.1/"}],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.compute+json;version=2.1",
                    }
                ],
            }
        }
    )


def list_cloudservers(request: HttpRequest, project_id: str) -> HttpResponse:
    """Huawei ECS ``GET /v1/{project_id}/cloudservers/detail`` (token or AK/SK)."""
    caller, reason = authenticate_or_reason(request)
    if caller is None:
        return gateway_unauthorized(request, reason)
    if project_id != caller.project_id:
        return JsonResponse(
            {"error": {"code": "Ecs.0319", "message": "The project in the URL is not yours."}},
            status=403,
        )
    servers = _servers(request, caller)
    if isinstance(servers, JsonResponse):
        return servers
    docs = [rules.ecs_detail(s, caller.user_id) for s in servers]
    return JsonResponse({"count": len(docs), "servers": docs})
