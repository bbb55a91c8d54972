"""Keystone v3 subset: versions, password and token authentication, token validation and
revocation, the token's projects and catalog (reference glance-keystone.md §5.2, §7).

Every credential or scope failure is the same generic 401, as Keystone hides which part
failed; a malformed body (or a project name without its domain) is a 400.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from imsportal.localcloud import jsonbody
from imsportal.localcloud.auth import valid_token
from imsportal.localcloud.identity.rules import TRUE_STRINGS, error, forbidden, links
from imsportal.localcloud.models import Project, RoleAssignment, Token, User

__all__ = ["catalog", "token_body"]

GENERIC_401 = "The request you have made requires authentication."
# Keystone's [token] allow_expired_window default: 48 hours.
ALLOW_EXPIRED_WINDOW = timedelta(hours=48)
ROLE_NAMESPACE = uuid.UUID("1f3a9a52-8d0e-4d7e-9b8a-0c6f1f0b7d31")


class BadRequest(Exception):
    """A malformed authentication request (Keystone's ValidationError, 400)."""


class Unauthorized(Exception):
    """Any credential or scope failure; the message is always the generic one."""


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").strip().lower() in TRUE_STRINGS


def _version_doc() -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{settings.PUBLIC_URL}/identity/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }


def versions(request: HttpRequest) -> JsonResponse:
    """``GET /identity``: the version list, 300 Multiple Choices as Keystone answers."""
    return JsonResponse({"versions": {"values": [_version_doc()]}}, status=300)


def version(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": _version_doc()})


def catalog() -> list[dict[str, Any]]:
    base = settings.PUBLIC_URL
    region = settings.REGION

    def endpoints(url: str, service: str) -> list[dict[str, str]]:
        return [
            {
                "id": uuid.uuid5(ROLE_NAMESPACE, f"{service}:{interface}").hex,
                "interface": interface,
                "region_id": region,
                "region": region,
                "url": url,
            }
            for interface in ("public", "internal", "admin")
        ]

    def service(type_: str, name: str, url: str) -> dict[str, Any]:
        return {
            "type": type_,
            "name": name,
            "id": uuid.uuid5(ROLE_NAMESPACE, type_).hex,
            "endpoints": endpoints(url, type_),
        }

    return [
        service("identity", "keystone", f"{base}/identity"),
        # As on Open Telekom Cloud, one host serves Glance v2 and the IMS extensions.
        service("image", "glance", f"{base}/image"),
        service("ims", "ims", f"{base}/image"),
        service("compute", "nova", f"{base}/compute/v2.1"),
    ]


def _role(name: str) -> dict[str, str]:
    return {"id": uuid.uuid5(ROLE_NAMESPACE, name).hex, "name": name}


def token_body(token: Token, with_catalog: bool = True) -> dict[str, Any]:
    user = token.user
    body: dict[str, Any] = {
        "methods": token.methods,
        "audit_ids": [token.audit_id] + ([token.parent_audit_id] if token.parent_audit_id else []),
        "issued_at": _ts(token.issued_at),
        "expires_at": _ts(token.expires_at),
        "user": {
            "id": user.id,
            "name": user.name,
            "domain": {"id": user.domain.id, "name": user.domain.name},
            "password_expires_at": None,
        },
    }
    project = token.project
    if project is not None:  # an unscoped token has no project, roles or catalog
        body["project"] = {
            "id": project.id,
            "name": project.name,
            "domain": {"id": project.domain.id, "name": project.domain.name},
        }
        body["is_domain"] = False
        body["roles"] = [_role(role) for role in token.roles]
        if with_catalog:
            body["catalog"] = catalog()
    return {"token": body}


# ---------------------------------------------------------------------------------------
# POST /v3/auth/tokens


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"Expecting to find {where} in request body.")
    return value


def _domain_filter(spec: dict[str, Any], target: str, prefix: str) -> dict[str, str]:
    """Query kwargs for the domain of a user or project named by name."""
    if "domain" not in spec:
        raise BadRequest(f"Expecting to find domain in {target}.")
    domain = _obj(spec["domain"], f"domain of {target}")
    if domain.get("id"):
        return {f"{prefix}domain_id": str(domain["id"])}
    if domain.get("name"):
        return {f"{prefix}domain__name": str(domain["name"])}
    raise BadRequest(f"Expecting to find id or name in domain of {target}.")


def _password_user(identity: dict[str, Any]) -> User:
    if "password" not in identity:
        raise BadRequest("Expecting to find password in identity.")
    spec = _obj(_obj(identity["password"], "password").get("user"), "user in password")
    password = spec.get("password")
    if password is not None and not isinstance(password, str):
        raise BadRequest("Invalid input for field 'password': expected a string.")
    users = User.objects.select_related("domain")
    if spec.get("id"):
        user = users.filter(id=str(spec["id"])).first()
    elif spec.get("name"):
        user = users.filter(name=str(spec["name"]), **_domain_filter(spec, "user", "")).first()
    else:
        raise BadRequest("Expecting to find id or name in user.")
    if user is None or password is None or not user.check_password(password):
        raise Unauthorized
    return user


def _token_user(identity: dict[str, Any]) -> Token:
    if "token" not in identity:
        raise BadRequest("Expecting to find token in identity.")
    spec = _obj(identity["token"], "token in identity")
    if not isinstance(spec.get("id"), str):
        raise BadRequest("Expecting to find id in token.")
    token = valid_token(spec["id"])
    if token is None:
        raise Unauthorized
    return token


def _scope_project(scope: Any) -> Project | None:
    """The project asked for; None for an unscoped request."""
    if scope is None or scope == "unscoped":
        return None
    scope = _obj(scope, "scope")
    if "project" not in scope:
        # Domain and system scopes need domain or system role assignments, which this
        # Keystone does not hold: like a missing role, that is a 401.
        if "domain" in scope or "system" in scope:
            raise Unauthorized
        raise BadRequest("Expecting to find project, domain or system in scope.")
    spec = _obj(scope["project"], "project in scope")
    projects = Project.objects.select_related("domain")
    if spec.get("id"):
        project = projects.filter(id=str(spec["id"])).first()
    elif spec.get("name"):
        project = projects.filter(
            name=str(spec["name"]), **_domain_filter(spec, "project", "")
        ).first()
    else:
        raise BadRequest("Expecting to find id or name in project.")
    if project is None or not project.enabled or not project.domain.enabled:
        raise Unauthorized
    return project


def _authenticate(auth: dict[str, Any]) -> tuple[User, list[str], Token | None]:
    """The user every listed method proves, the methods, and the token used (if any)."""
    identity = _obj(auth.get("identity"), "identity in auth")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods or not all(isinstance(m, str) for m in methods):
        raise BadRequest("Expecting to find methods in identity.")
    if any(m not in ("password", "token") for m in methods):
        raise Unauthorized  # "Attempted to authenticate with an unsupported method."
    users: list[User] = []
    parent = None
    if "password" in methods:
        users.append(_password_user(identity))
    if "token" in methods:
        parent = _token_user(identity)
        users.append(parent.user)
    user = users[0]
    if any(other.id != user.id for other in users) or not user.enabled:
        raise Unauthorized
    if not user.domain.enabled:
        raise Unauthorized
    # A token re-auth keeps the methods that proved the user in the first place.
    all_methods = list(dict.fromkeys(methods + (parent.methods if parent else [])))
    return user, all_methods, parent


def issue_token(request: HttpRequest) -> JsonResponse:
    try:
        body = jsonbody.loads(request.body or b"null")
    except ValueError:
        return error(400, "The request body is not valid JSON.")
    try:
        auth = _obj(body.get("auth") if isinstance(body, dict) else None, "auth")
        user, methods, parent = _authenticate(auth)
        project = _scope_project(auth.get("scope"))
        roles: list[str] = []
        if project is not None:
            roles = sorted(
                RoleAssignment.objects.filter(user=user, project=project).values_list(
                    "role", flat=True
                )
            )
            if not roles:
                raise Unauthorized
    except BadRequest as e:
        return error(400, str(e))
    except Unauthorized:
        return error(401, GENERIC_401)
    now = timezone.now()
    # A token from a token never outlives it (Keystone keeps the original expiry).
    expires = parent.expires_at if parent else now + timedelta(seconds=settings.TOKEN_TTL)
    token = Token.objects.create(
        user=user,
        project=project,
        roles=roles,
        methods=methods,
        parent_audit_id=parent.audit_id if parent else "",
        issued_at=now,
        expires_at=expires,
    )
    resp = JsonResponse(token_body(token, with_catalog="nocatalog" not in request.GET), status=201)
    resp["X-Subject-Token"] = token.id
    resp["Vary"] = "X-Auth-Token"
    return resp


# ---------------------------------------------------------------------------------------
# GET, HEAD, DELETE /v3/auth/tokens; GET /v3/auth/projects, /v3/auth/catalog


def _may_act_on(caller: Token, subject: Token) -> bool:
    # Keystone's default policy: the token's own user, or an admin/service role.
    return caller.user_id == subject.user_id or bool({"admin", "service"} & set(caller.roles))


def _subject(request: HttpRequest, caller: Token, action: str) -> Token | JsonResponse:
    window = ALLOW_EXPIRED_WINDOW if _flag(request, "allow_expired") else None
    subject_id = request.headers.get("X-Subject-Token", "")
    subject = valid_token(subject_id, allow_expired_for=window)
    if subject is None:
        return error(404, f"Could not find token: {subject_id[:16]}")
    if not _may_act_on(caller, subject):
        return forbidden(f"identity:{action}")
    return subject


def revoke_chain(token: Token) -> None:
    """Revoke ``token`` and every token issued from it, directly or through others (a
    token re-authenticated from a revoked one must not outlive it)."""
    audit_ids = {token.audit_id}
    Token.objects.filter(id=token.id).update(revoked=True)
    while audit_ids:
        children = Token.objects.filter(parent_audit_id__in=audit_ids)
        audit_ids = set(children.values_list("audit_id", flat=True))
        children.update(revoked=True)


@csrf_exempt
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return issue_token(request)
    if request.method not in ("GET", "HEAD", "DELETE"):
        return error(405, "The method is not allowed for the requested URL.")
    caller = valid_token(request.headers.get("X-Auth-Token"))
    if caller is None:
        return error(401, GENERIC_401)
    action = "revoke_token" if request.method == "DELETE" else "validate_token"
    subject = _subject(request, caller, action)
    if isinstance(subject, JsonResponse):
        return subject
    if request.method == "DELETE":
        revoke_chain(subject)
        return HttpResponse(status=204)
    resp: HttpResponse
    if request.method == "HEAD":
        resp = HttpResponse(status=200)
    else:
        resp = JsonResponse(token_body(subject, with_catalog="nocatalog" not in request.GET))
    resp["X-Subject-Token"] = subject.id
    return resp


def auth_projects(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return error(405, "The method is not allowed for the requested URL.")
    caller = valid_token(request.headers.get("X-Auth-Token"))
    if caller is None:
        return error(401, GENERIC_401)
    projects = (
        Project.objects.filter(
            assignments__user_id=caller.user_id, enabled=True, domain__enabled=True
        )
        .distinct()
        .order_by("name")
    )
    return JsonResponse(
        {
            "projects": [
                {
                    "id": p.id,
                    "name": p.name,
                    "domain_id": p.domain_id,
                    "description": p.description,
                    "enabled": p.enabled,
                    "parent_id": p.domain_id,
                    "is_domain": False,
                    "tags": [],
                    "options": {},
                    "links": {"self": f"{settings.PUBLIC_URL}/identity/v3/projects/{p.id}"},
                }
                for p in projects
            ],
            "links": links("auth/projects"),
        }
    )


def auth_catalog(request: HttpRequest) -> JsonResponse:
    if request.method != "GET":
        return error(405, "The method is not allowed for the requested URL.")
    caller = valid_token(request.headers.get("X-Auth-Token"))
    if caller is None:
        return error(401, GENERIC_401)
    if caller.project_id is None:
        return error(403, "A project-scoped token is required to produce a service catalog.")
    return JsonResponse({"catalog": catalog(), "links": links("auth/catalog")})


def not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /identity: Keystone's JSON 404 (never an HTML page)."""
    return error(404, "The resource could not be found.")
