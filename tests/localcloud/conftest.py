"""Fixtures for the local cloud's Glance over real HTTP: API callers for several projects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.localcloud_server import LocalCloud

EXTRA_USERS = """
from imsportal.localcloud.models import Domain, Project, RoleAssignment, User
domain = Domain.objects.get(id="default")
for name, project_name, roles in [
    ("lc-admin", "owner-project", ["admin", "member", "reader"]),
    ("lc-third", "third-project", ["member", "reader"]),
    ("lc-reader", "owner-project", ["reader"]),
    ("lc-member", "owner-project", ["member"]),
]:
    project, _ = Project.objects.get_or_create(name=project_name, domain=domain)
    user = User.objects.filter(name=name, domain=domain).first()
    if user is None:
        user = User(name=name, domain=domain)
        user.set_password(name + "-demo-password")
        user.save()
    for role in roles:
        RoleAssignment.objects.get_or_create(user=user, project=project, role=role)
"""


class Api:
    """One project's Glance caller: plain requests with its token and JSON errors."""

    created: list[str] = []  # every image made by create(), for the cleanup fixture

    def __init__(
        self, cloud: LocalCloud, user: str, project: str, password: str | None = None
    ) -> None:
        self.cloud = cloud
        self.user = user
        self.project = project
        self.password = password or f"{user}-demo-password"
        self.session = requests.Session()
        self.login()

    def login(self) -> None:
        resp = requests.post(
            f"{self.cloud.auth_url}/auth/tokens",
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": self.user,
                                "domain": {"name": "Default"},
                                "password": self.password,
                            }
                        },
                    },
                    "scope": {"project": {"name": self.project, "domain": {"name": "Default"}}},
                }
            },
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        self.token = resp.headers["X-Subject-Token"]
        self.project_id = resp.json()["token"]["project"]["id"]

    def clone(self) -> Api:
        """The same caller with its own HTTP session, for use from another thread."""
        twin = Api.__new__(Api)
        twin.__dict__.update(self.__dict__, session=requests.Session())
        return twin

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}) or {})
        kwargs.setdefault("timeout", 60)
        return self.session.request(
            method, f"{self.cloud.image_url}{path}", headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def patch(self, path: str, ops: list, media: str = "v2.1", **kwargs: Any) -> requests.Response:
        content_type = f"application/openstack-images-{media}-json-patch"
        return self.request(
            "PATCH", path, json=ops, headers={"Content-Type": content_type}, **kwargs
        )

    def create(self, **body: Any) -> dict:
        body.setdefault("name", f"test-{uuid.uuid4().hex[:8]}")
        resp = self.post("/v2/images", json=body)
        assert resp.status_code == 201, resp.text
        Api.created.append(resp.json()["id"])
        return resp.json()

    def upload(self, image_id: str, data: Any, **kwargs: Any) -> requests.Response:
        headers = {"Content-Type": "application/octet-stream", **kwargs.pop("headers", {})}
        return self.put(f"/v2/images/{image_id}/file", data=data, headers=headers, **kwargs)

    def image(self, image_id: str) -> dict:
        resp = self.get(f"/v2/images/{image_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def ids(self, query: str = "") -> list[str]:
        """Every image id a list returns, following `next` to the end."""
        found: list[str] = []
        path: str | None = f"/v2/images{query}"
        while path:
            resp = self.get(path)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            found += [image["id"] for image in body["images"]]
            path = body.get("next")
        return found


@pytest.fixture(scope="session")
def cloud(localcloud: LocalCloud) -> LocalCloud:
    localcloud.manage("shell", "-c", EXTRA_USERS)
    return localcloud


def _caller(user: str, project: str):
    """A session fixture: the Api of ``user`` scoped to ``project``."""

    @pytest.fixture(scope="session")
    def fixture(cloud: LocalCloud) -> Api:
        return Api(cloud, user, project)

    fixture.__doc__ = f"The Api of {user} in {project}."
    return fixture


owner = _caller("owner", "owner-project")
partner = _caller("partner", "partner-project")
third = _caller("lc-third", "third-project")  # member in third-project
admin = _caller("lc-admin", "owner-project")  # admin in owner-project


@pytest.fixture
def faults(cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The session's server with faults cleared after the test, whatever happens."""
    cloud.clear_faults()
    yield cloud
    cloud.clear_faults()


@pytest.fixture
def cleanup(admin: Api) -> Iterator[None]:
    """Delete the images a test made with Api.create (the session's server is shared with
    other modules that count images). Use with pytest.mark.usefixtures("cleanup")."""
    start = len(Api.created)
    yield
    for image_id in Api.created[start:]:
        resp = admin.delete(f"/v2/images/{image_id}")
        if resp.status_code == 403:  # protected
            admin.patch(
                f"/v2/images/{image_id}", [{"op": "replace", "path": "/protected", "value": False}]
            )
            admin.delete(f"/v2/images/{image_id}")
    del Api.created[start:]


@pytest.fixture
def image(owner: Api) -> dict:
    """A fresh queued raw/bare image of the owner project."""
    return owner.create(disk_format="raw", container_format="bare")
