"""``Connection``: the entry point, with ``conn.image`` (Glance v2), ``conn.ims`` (IMS v2) and
``conn.compute`` (the project's servers)."""

from __future__ import annotations

from typing import Any

import requests

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.auth import PasswordAuth, StaticTokenAuth
from imsportal.cloudapi.compute import ComputeProxy
from imsportal.cloudapi.http import HttpClient, new_session
from imsportal.cloudapi.image import ImageProxy
from imsportal.cloudapi.ims import ImsProxy
from imsportal.cloudapi.signing import AkSkAuth


class Connection:
    """One project's view of the cloud.

    Args:
        auth: ``PasswordAuth``, ``StaticTokenAuth`` or ``AkSkAuth``.
        session: a ``requests.Session`` to share (one pool per process is enough).
        **http_options: keywords for ``HttpClient``, which holds their defaults:
            ``connect_timeout``, ``read_timeout``: seconds (5 and 60); always applied.
            ``retries``: retries of transient failures on idempotent requests (3).
            ``total_timeout``: seconds one call may take in all, retries and the login
            included (None: no bound but an enclosing ``cloudapi.deadline()``).
            ``backoff``, ``max_backoff``, ``sleep``.
    """

    def __init__(self, auth, *, session: requests.Session | None = None, **http_options: Any):
        self.auth = auth
        self.http = HttpClient(auth, session=session, **http_options)
        self.image = ImageProxy(self.http, lambda: auth.endpoint("image"))
        self.ims = ImsProxy(self.http, self._ims_endpoint, lambda: auth.project_id)
        self.compute = ComputeProxy(self.http, lambda: auth.endpoint("compute"))

    def _ims_endpoint(self) -> str:
        # OTC's catalog has no "ims" entry: the image endpoint is the IMS host.
        try:
            return self.auth.endpoint("ims")
        except exc.EndpointNotFound:
            return self.auth.endpoint("image")

    @classmethod
    def from_config(
        cls,
        config: dict,
        session: requests.Session | None = None,
        **http_options: Any,
    ) -> Connection:
        """Build a connection from a settings dict (see ``imsportal.settings.CLOUD``).

        ``auth_type`` picks the plugin: ``password`` (Keystone v3; ``auth_url``,
        ``username``, ``password``, ``project_id`` or ``project_name`` with
        ``project_domain_name``, ``region_name``, ``interface``), ``token`` (``token``,
        ``image_endpoint``, ``project_id``) or ``aksk`` (``ak``, ``sk``, ``project_id``,
        ``image_endpoint``, ``ims_endpoint``, ``compute_endpoint``). The endpoint keys
        override the catalog for password auth too.
        """
        session = session or new_session()
        # Keywords win over the dict; HttpClient holds the defaults of what neither gives.
        http_options = {
            **{
                k: config[k]
                for k in (
                    "connect_timeout",
                    "read_timeout",
                    "retries",
                    "total_timeout",
                    "max_response_bytes",
                )
                if k in config
            },
            **http_options,
        }
        # An empty "ims" falls back to the image endpoint in _ims_endpoint.
        endpoints = {
            "image": config.get("image_endpoint", ""),
            "ims": config.get("ims_endpoint", ""),
            "compute": config.get("compute_endpoint", ""),
        }
        auth_type = config.get("auth_type", "password")
        auth: StaticTokenAuth | PasswordAuth | AkSkAuth
        if auth_type == "token":
            auth = StaticTokenAuth(
                config["token"], endpoints, project_id=config.get("project_id", "")
            )
        elif auth_type == "aksk":
            auth = AkSkAuth(
                config["ak"],
                config["sk"],
                config.get("project_id", ""),
                endpoints,
                security_token=config.get("security_token", ""),
            )
        elif auth_type == "password":
            auth = PasswordAuth(
                config["auth_url"],
                config["username"],
                config["password"],
                user_domain_name=config.get("user_domain_name", "Default"),
                project_id=config.get("project_id", ""),
                project_name=config.get("project_name", ""),
                project_domain_name=config.get("project_domain_name", "Default"),
                region_name=config.get("region_name", ""),
                interface=config.get("interface", "public"),
                endpoint_overrides=endpoints,
                session=session,
                timeout=(
                    http_options.get("connect_timeout", 5.0),
                    http_options.get("read_timeout", 60.0),
                ),
            )
        else:
            raise ValueError(f"unknown auth_type {auth_type!r}")
        return cls(auth, session=session, **http_options)
