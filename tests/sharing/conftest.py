"""Fixtures for the sharing pages: direct clients of the seeded owner and partner projects
(to set the scene and check the cloud's state) and images made for one test."""

from __future__ import annotations

import uuid

import pytest

from imsportal.cloudapi import Connection

MARKUP = '<b id="x">bold</b><script>alert(1)</script>'


@pytest.fixture(scope="session")
def owner_conn(localcloud) -> Connection:
    return Connection.from_config(localcloud.cloud_config("owner", "owner-project"))


@pytest.fixture(scope="session")
def partner_conn(localcloud) -> Connection:
    return Connection.from_config(localcloud.cloud_config("partner", "partner-project"))


@pytest.fixture
def make_image(owner_conn):
    """Image records (no data: sharing does not need any) owned by owner-project, deleted
    after the test."""
    made = []

    def make(name: str | None = None, visibility: str = "shared", conn=None):
        conn = conn or owner_conn
        image = conn.image.create_image(
            name=name or f"share-test-{uuid.uuid4().hex[:8]}",
            disk_format="qcow2",
            container_format="bare",
            visibility=visibility,
        )
        made.append((conn, image))
        return image

    yield make
    for conn, image in made:
        conn.image.delete_image(image)


@pytest.fixture
def offered(make_image, owner_conn, partner_conn):
    """A shared image of owner-project offered (pending) to partner-project."""
    image = make_image()
    owner_conn.image.add_member(image, member=partner_conn.auth.project_id)
    return image


@pytest.fixture
def grant(db):
    """Give an existing portal user a role in another project."""
    from django.contrib.auth import get_user_model

    from imsportal.projects.models import ProjectRole

    def do(username: str, project, role: str = "viewer"):
        user = get_user_model().objects.get(username=username)
        ProjectRole.objects.create(user=user, project=project, role=role)
        return user

    return do


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The pending badge and project ids are cached per project pk, and pks come back
    between tests: start each test with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
