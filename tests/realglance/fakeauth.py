"""A token filter for the loopback test Glance, in the place of keystonemiddleware's auth_token.

The token in ``X-Auth-Token`` is ``user:project:role,role`` (e.g. ``alice:projA:member,reader``).
The filter first deletes every identity header the client sent, then, for a well-formed token,
sets the headers auth_token sets after validating a project-scoped Keystone token, so that
Glance's own ContextMiddleware, policy engine (secure-RBAC defaults) and DB layer decide the rest.
A missing or garbled token gets ``X-Identity-Status: Invalid``, and Glance answers 401 itself, as
it does behind auth_token with ``delay_auth_decision = true``.

Loaded by paste from the Glance venv (PYTHONPATH points at this directory): standard library only.
"""

from __future__ import annotations

import re

# Request headers that auth_token owns (its _HEADER_TEMPLATE, the service-token variants, and the
# deprecated aliases). A client must never be able to set them.
_IDENTITY_HEADERS = (
    "X-Identity-Status",
    "X-Service-Identity-Status",
    "X-Domain-Id",
    "X-Domain-Name",
    "X-Project-Id",
    "X-Project-Name",
    "X-Project-Domain-Id",
    "X-Project-Domain-Name",
    "X-User-Id",
    "X-User-Name",
    "X-User-Domain-Id",
    "X-User-Domain-Name",
    "X-Roles",
    "X-Service-Catalog",
    "X-Is-Admin-Project",
    "X-System-Scope",
    "X-Tenant-Id",
    "X-Tenant-Name",
    "X-Tenant",
    "X-User",
    "X-Role",
    "X-Service-Project-Id",
    "X-Service-Project-Name",
    "X-Service-Project-Domain-Id",
    "X-Service-Project-Domain-Name",
    "X-Service-User-Id",
    "X-Service-User-Name",
    "X-Service-User-Domain-Id",
    "X-Service-User-Domain-Name",
    "X-Service-Roles",
    "X-Service-Is-Admin-Project",
    "X-Service-System-Scope",
    "X-Auth-Roles",
)
_ENVIRON_KEYS = tuple("HTTP_" + h.upper().replace("-", "_") for h in _IDENTITY_HEADERS)

_NAME = r"[A-Za-z0-9_.@-]{1,64}"
_TOKEN = re.compile(rf"^({_NAME}):({_NAME}):({_NAME}(?:,{_NAME})*)$")

DOMAIN_ID = "default"


def parse_token(token: str | None) -> tuple[str, str, list[str]] | None:
    """``"alice:projA:member,reader"`` -> ``("alice", "projA", ["member", "reader"])``."""
    match = _TOKEN.match((token or "").strip())
    if not match:
        return None
    user, project, roles = match.groups()
    return user, project, roles.split(",")


class FakeAuth:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        for key in _ENVIRON_KEYS:
            environ.pop(key, None)
        identity = parse_token(environ.get("HTTP_X_AUTH_TOKEN"))
        if identity is None:
            environ["HTTP_X_IDENTITY_STATUS"] = "Invalid"
            return self.app(environ, start_response)
        user, project, roles = identity
        environ.update(
            HTTP_X_IDENTITY_STATUS="Confirmed",
            HTTP_X_USER_ID=user,
            HTTP_X_USER_NAME=user,
            HTTP_X_USER_DOMAIN_ID=DOMAIN_ID,
            HTTP_X_USER_DOMAIN_NAME="Default",
            HTTP_X_PROJECT_ID=project,
            HTTP_X_PROJECT_NAME=project,
            HTTP_X_PROJECT_DOMAIN_ID=DOMAIN_ID,
            HTTP_X_PROJECT_DOMAIN_NAME="Default",
            HTTP_X_TENANT_ID=project,
            HTTP_X_TENANT_NAME=project,
            HTTP_X_ROLES=",".join(roles),
            HTTP_X_IS_ADMIN_PROJECT="True",
        )
        return self.app(environ, start_response)


def filter_factory(global_conf, **local_conf):
    return FakeAuth
