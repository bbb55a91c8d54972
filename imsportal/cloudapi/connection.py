"""``Connection``: the entry point, with ``conn.image`` (Glance v2) and ``conn.ims`` (IMS v2)."""

from __future__ import annotations

import requests

from imsportal.cloudapi.auth import PasswordAuth, StaticTokenAuth
from imsportal.cloudapi.http import HttpClient, new_session
from imsportal.cloudapi.image import ImageProxy


class Connection:
    def __init__(
        self,
        auth,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        retries: int = 3,
    ):
        self.auth = auth
        self.http = HttpClient(
            auth,
            session=session,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
        )
        self.image = ImageProxy(self.http, lambda: auth.endpoint("image"))

    @classmethod
    def from_config(cls, config: dict, session: requests.Session | None = None) -> Connection:
        """Build a connection from a settings dict (see ``imsportal.settings.CLOUD``)."""
        session = session or new_session()
        timeouts = {
            "connect_timeout": config.get("connect_timeout", 5.0),
            "read_timeout": config.get("read_timeout", 60.0),
        }
        overrides = {
            "image": config.get("image_endpoint", ""),
            "ims": config.get("ims_endpoint", ""),
        }
        if config.get("auth_type", "password") == "token":
            auth = StaticTokenAuth(
                config["token"],
                {k: v for k, v in overrides.items() if v},
                project_id=config.get("project_id", ""),
            )
        else:
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
                endpoint_overrides=overrides,
                session=session,
                timeout=(timeouts["connect_timeout"], timeouts["read_timeout"]),
            )
        return cls(auth, session=session, retries=config.get("retries", 3), **timeouts)
