"""Fixtures for the client tests against the real local cloud."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from imsportal.cloudapi import Connection
from imsportal.cloudapi.http import new_session


@dataclass
class RequestLog:
    """Every response the client's session received: method, path, status."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def hook(self, resp: requests.Response, *args, **kwargs) -> None:
        self.calls.append((resp.request.method, resp.request.path_url, resp.status_code))

    def count(self, method: str, path_part: str = "") -> int:
        return sum(1 for m, p, _ in self.calls if m == method and path_part in p)


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def connect(localcloud, request_log):
    """Connection factory for a seeded user; every response is recorded in request_log."""

    def make(user: str = "owner", project: str = "owner-project", **overrides) -> Connection:
        session = new_session()
        session.hooks["response"].append(request_log.hook)
        return Connection.from_config(localcloud.cloud_config(user, project, **overrides), session)

    return make


@pytest.fixture
def owner(connect) -> Connection:
    return connect("owner", "owner-project")


@pytest.fixture
def partner(connect) -> Connection:
    return connect("partner", "partner-project")


class Faults:
    """The local cloud's fault injection (POST/DELETE /_admin/faults)."""

    def __init__(self, cloud):
        self.cloud = cloud

    def set(self, **faults) -> dict:
        resp = requests.post(
            f"{self.cloud.url}/_admin/faults",
            json=faults,
            headers={"X-Admin-Token": self.cloud.admin_token},
            timeout=10,
        )
        resp.raise_for_status()
        return resp.json()

    def clear(self) -> None:
        requests.delete(
            f"{self.cloud.url}/_admin/faults",
            headers={"X-Admin-Token": self.cloud.admin_token},
            timeout=10,
        )


@pytest.fixture
def faults(localcloud) -> Iterator[Faults]:
    helper = Faults(localcloud)
    helper.clear()
    try:
        yield helper
    finally:
        helper.clear()


@pytest.fixture
def scratch_images(owner) -> Iterator[list[str]]:
    """Ids of images a test created; deleted afterwards, whatever happened."""
    ids: list[str] = []
    yield ids
    for image_id in ids:
        owner.image.delete_image(image_id)
