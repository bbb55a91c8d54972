"""Authentication plugins: Keystone v3 password, static token (AK/SK is in signing.py).

A plugin adds its headers to each prepared request (``headers_for``), knows the project
and finds service endpoints. Tokens are cached until close to expiry; ``invalidate``
drops the cached one so the next request re-authenticates (used once after a 401).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import requests

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import _out_of_time, _reason, bounded_timeout, raise_from_response

log = logging.getLogger(__name__)

# Refresh a token that has less than this left, as keystoneauth does.
MIN_TOKEN_LIFE = timedelta(seconds=120)


class ConfiguredEndpoints:
    """Endpoints given by the caller and nothing to refresh: the part ``StaticTokenAuth``
    and ``AkSkAuth`` (signing.py) share. Subclasses set ``endpoints``."""

    can_reauthenticate = False
    endpoints: dict[str, str]

    def invalidate(self) -> None:
        pass

    def endpoint(self, service_type: str) -> str:
        try:
            return self.endpoints[service_type].rstrip("/")
        except KeyError:
            raise exc.EndpointNotFound(
                f"No endpoint configured for service {service_type!r}"
            ) from None


class StaticTokenAuth(ConfiguredEndpoints):
    """A token and endpoints given by the caller; nothing to refresh.

    Args:
        token: the token sent as ``X-Auth-Token``.
        endpoints: service type -> endpoint, e.g. ``{"image": "http://glance:9292"}``.
        project_id: the project the token is scoped to (needed by ``get_job``).
    """

    def __init__(self, token: str, endpoints: dict[str, str], project_id: str = ""):
        self.token = token
        self.endpoints = {k: v for k, v in endpoints.items() if v}
        self.project_id = project_id

    def headers_for(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


class PasswordAuth:
    """Keystone v3 password authentication scoped to one project.

    The project is given by id, or by name plus domain (Keystone rejects a name alone).
    Endpoints come from the token's catalog (service type, ``interface``, ``region_name``)
    unless ``endpoint_overrides`` names one. The token is reused until ``min_token_life``
    before it expires; ``invalidate`` forces a new one (HttpClient does so once on a 401).
    """

    can_reauthenticate = True

    def __init__(
        self,
        auth_url: str,
        username: str,
        password: str,
        *,
        user_domain_name: str = "Default",
        project_id: str = "",
        project_name: str = "",
        project_domain_name: str = "Default",
        region_name: str = "",
        interface: str = "public",
        endpoint_overrides: dict[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        min_token_life: timedelta = MIN_TOKEN_LIFE,
    ):
        if not (project_id or project_name):
            raise ValueError("give project_id or project_name")
        self.auth_url = auth_url.rstrip("/")
        if not self.auth_url.endswith("/v3"):
            self.auth_url += "/v3"
        self.username = username
        self._password = password
        self.user_domain_name = user_domain_name
        self._project_id = project_id
        self.project_name = project_name
        self.project_domain_name = project_domain_name
        self.region_name = region_name
        # keystoneauth also accepts "publicURL" and friends.
        self.interface = interface.removesuffix("URL")
        self.min_token_life = min_token_life
        self.endpoint_overrides = endpoint_overrides or {}
        self.session = session or requests.Session()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: datetime | None = None
        self._body: dict = {}

    def __repr__(self) -> str:  # never show the password
        return f"PasswordAuth({self.auth_url!r}, {self.username!r}, project={self.project_name!r})"

    # --- token ---------------------------------------------------------------------------
    def get_token(self) -> str:
        with self._lock:
            if self._token is None or self._expiring():
                self._authenticate()
            assert self._token is not None
            return self._token

    def _expiring(self) -> bool:
        return (
            self._expires_at is None or self._expires_at - datetime.now(UTC) < self.min_token_life
        )

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _scope(self) -> dict:
        if self._project_id:
            return {"project": {"id": self._project_id}}
        return {
            "project": {"name": self.project_name, "domain": {"name": self.project_domain_name}}
        }

    def _authenticate(self) -> None:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "domain": {"name": self.user_domain_name},
                            "password": self._password,
                        }
                    },
                },
                "scope": self._scope(),
            }
        }
        url = f"{self.auth_url}/auth/tokens"
        # The login counts against the budget of the call that needed it (http.deadline).
        timeout = bounded_timeout(self.timeout)
        try:
            resp = self.session.post(
                url, json=body, headers={"Accept": "application/json"}, timeout=timeout
            )
        except requests.RequestException as e:
            if _out_of_time():
                raise exc.DeadlineExceededError(
                    "The identity service did not answer in time", url=url
                ) from e
            # The message is shown to users: no internal address in it (it is on e.url and in
            # this log line for the operator).
            log.warning("cannot reach the identity service at %s: %s", url, e)
            raise exc.ConnectionFailed(
                f"Cannot reach the identity service: {_reason(e)}", url=url
            ) from e
        raise_from_response(resp)
        token = resp.headers.get("X-Subject-Token")
        if not token:
            raise exc.ApiError("The identity service answered without X-Subject-Token", url=url)
        self._body = resp.json()["token"]
        self._token = token
        self._expires_at = datetime.fromisoformat(self._body["expires_at"].replace("Z", "+00:00"))

    def headers_for(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        return {"X-Auth-Token": self.get_token()}

    # --- catalog -------------------------------------------------------------------------
    @property
    def token_info(self) -> dict:
        """The current token's body (user, project, roles, catalog, expiry), authenticating
        first if needed. It holds no secret: the token itself is in a header."""
        if not self._body:
            self.get_token()
        return self._body

    @property
    def project_id(self) -> str:
        if not self._body:
            self.get_token()
        return self._body["project"]["id"]

    def endpoint(self, service_type: str) -> str:
        if service_type in self.endpoint_overrides and self.endpoint_overrides[service_type]:
            return self.endpoint_overrides[service_type].rstrip("/")
        if not self._body:
            self.get_token()
        for service in self._body.get("catalog", []):
            if service.get("type") != service_type:
                continue
            for ep in service.get("endpoints", []):
                if ep.get("interface") != self.interface:
                    continue
                region = ep.get("region_id") or ep.get("region")
                if self.region_name and region != self.region_name:
                    continue
                return ep["url"].rstrip("/")
        raise exc.EndpointNotFound(
            f"The catalog has no {self.interface} endpoint of type {service_type!r}"
            + (f" in region {self.region_name!r}" if self.region_name else "")
        )
