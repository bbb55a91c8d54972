"""Keystone v3 subset: version document and password tokens."""

import json
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud.models import Project, RoleAssignment, Token, User
from imsportal.localcloud.views.errors import keystone_error

GENERIC_401 = "The request you have made requires authentication."


def _ts(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version(request):
    base = f"{settings.PUBLIC_URL}/identity/v3/"
    return JsonResponse(
        {
            "version": {
                "id": "v3.14",
                "status": "stable",
                "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": base}],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.identity-v3+json",
                    }
                ],
            }
        }
    )


def catalog() -> list[dict]:
    base = settings.PUBLIC_URL
    region = settings.REGION

    def endpoints(url: str, service: str) -> list[dict]:
        return [
            {
                "id": f"{service}-{interface}",
                "interface": interface,
                "region_id": region,
                "region": region,
                "url": url,
            }
            for interface in ("public", "internal", "admin")
        ]

    return [
        {
            "type": "identity",
            "name": "keystone",
            "id": "identity",
            "endpoints": endpoints(f"{base}/identity", "identity"),
        },
        # As on Open Telekom Cloud, one host serves Glance v2 and the IMS extensions.
        {
            "type": "image",
            "name": "glance",
            "id": "image",
            "endpoints": endpoints(f"{base}/image", "image"),
        },
        {"type": "ims", "name": "ims", "id": "ims", "endpoints": endpoints(f"{base}/image", "ims")},
    ]


def token_body(token: Token, with_catalog: bool = True) -> dict:
    user, project = token.user, token.project
    body = {
        "methods": token.methods,
        "audit_ids": [token.audit_id],
        "issued_at": _ts(token.issued_at),
        "expires_at": _ts(token.expires_at),
        "user": {
            "id": user.id,
            "name": user.name,
            "domain": {"id": user.domain.id, "name": user.domain.name},
            "password_expires_at": None,
        },
        "project": {
            "id": project.id,
            "name": project.name,
            "domain": {"id": project.domain.id, "name": project.domain.name},
        },
        "is_domain": False,
        "roles": [{"id": role, "name": role} for role in token.roles],
    }
    if with_catalog:
        body["catalog"] = catalog()
    return {"token": body}


def _find_user(spec: dict) -> User | None:
    qs = User.objects.select_related("domain")
    if spec.get("id"):
        return qs.filter(id=spec["id"]).first()
    domain = spec.get("domain") or {}
    if not spec.get("name") or not (domain.get("id") or domain.get("name")):
        return None
    qs = qs.filter(name=spec["name"])
    qs = (
        qs.filter(domain_id=domain["id"])
        if domain.get("id")
        else qs.filter(domain__name=domain["name"])
    )
    return qs.first()


def _find_project(spec: dict) -> Project | None:
    qs = Project.objects.select_related("domain")
    if spec.get("id"):
        return qs.filter(id=spec["id"]).first()
    domain = spec.get("domain") or {}
    qs = qs.filter(name=spec.get("name"))
    qs = (
        qs.filter(domain_id=domain["id"])
        if domain.get("id")
        else qs.filter(domain__name=domain["name"])
    )
    return qs.first()


@csrf_exempt
def tokens(request):
    if request.method == "POST":
        return issue_token(request)
    if request.method in ("GET", "HEAD"):
        return validate_token(request)
    if request.method == "DELETE":
        return revoke_token(request)
    return keystone_error(405, "Method not allowed")


def issue_token(request):
    try:
        auth = json.loads(request.body)["auth"]
        identity = auth["identity"]
        methods = identity["methods"]
        scope = auth.get("scope") or {}
    except (ValueError, KeyError, TypeError):
        return keystone_error(400, "Expecting to find auth in request body.")
    if "password" not in methods:
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    project_spec = scope.get("project")
    if not isinstance(project_spec, dict):
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    if not project_spec.get("id") and not (project_spec.get("domain") or {}):
        return keystone_error(400, "Expecting to find domain in project.")
    user_spec = (identity.get("password") or {}).get("user") or {}
    user = _find_user(user_spec)
    if (
        user is None
        or not user.enabled
        or not user.domain.enabled
        or not user.check_password(str(user_spec.get("password", "")))
    ):
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    project = _find_project(project_spec)
    if project is None or not project.enabled:
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    roles = sorted(
        RoleAssignment.objects.filter(user=user, project=project).values_list("role", flat=True)
    )
    if not roles:
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    now = timezone.now()
    token = Token.objects.create(
        user=user,
        project=project,
        roles=roles,
        methods=["password"],
        issued_at=now,
        expires_at=now + timedelta(seconds=settings.TOKEN_TTL),
    )
    body = token_body(token, with_catalog="nocatalog" not in request.GET)
    resp = JsonResponse(body, status=201)
    resp["X-Subject-Token"] = token.id
    resp["Vary"] = "X-Auth-Token"
    return resp


def valid_token(token_id: str | None) -> Token | None:
    if not token_id:
        return None
    token = (
        Token.objects.select_related("user", "project", "user__domain", "project__domain")
        .filter(id=token_id, revoked=False)
        .first()
    )
    if token is None or token.expires_at <= timezone.now():
        return None
    return token


def validate_token(request):
    if valid_token(request.headers.get("X-Auth-Token")) is None:
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    subject = valid_token(request.headers.get("X-Subject-Token"))
    if subject is None:
        return keystone_error(404, "Could not find token.")
    if request.method == "HEAD":
        return HttpResponse(status=200)
    resp = JsonResponse(token_body(subject, with_catalog="nocatalog" not in request.GET))
    resp["X-Subject-Token"] = subject.id
    return resp


def revoke_token(request):
    if valid_token(request.headers.get("X-Auth-Token")) is None:
        return keystone_error(401, GENERIC_401, settings.PUBLIC_URL)
    updated = Token.objects.filter(id=request.headers.get("X-Subject-Token", "")).update(
        revoked=True
    )
    if not updated:
        return keystone_error(404, "Could not find token.")
    return HttpResponse(status=204)
