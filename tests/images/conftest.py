"""Images of the tests' own, uploaded to the local cloud and deleted afterwards (the seeded
demo images stay untouched)."""

from __future__ import annotations

import uuid

import pytest

from imsportal.cloudapi import ApiError, Connection


@pytest.fixture(scope="session")
def cloud_conn(localcloud) -> Connection:
    """The owner project's client, straight to the local cloud (no portal in between)."""
    return Connection.from_config(localcloud.cloud_config())


@pytest.fixture
def make_image(cloud_conn):
    """Upload a tiny image owned by owner-project; every one is deleted after the test."""
    made: list[str] = []

    def make(name: str | None = None, data: bytes = b"\0" * 4096, **attrs):
        image = cloud_conn.image.upload_image(
            "bare", "raw", data, name=name or f"t-{uuid.uuid4().hex[:8]}", **attrs
        )
        made.append(image.id)
        return image

    yield make
    for image_id in made:
        try:
            image = cloud_conn.image.get_image(image_id)
            if image.is_protected:
                cloud_conn.image.update_image(image_id, is_protected=False)
            cloud_conn.image.delete_image(image_id)
        except ApiError:
            pass  # the test deleted it
