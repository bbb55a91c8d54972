"""Uploads whose writer is killed (SIGKILL of the worker, or of the whole server) go back to
``queued`` with no partial file, and deleting an image removes its partial files."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud, start_localcloud


@pytest.fixture
def own_cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """A server of this test's own, since the test kills it."""
    cloud = start_localcloud(tmp_path / "cloud")
    yield cloud
    cloud.stop()


def partials(cloud: LocalCloud) -> list[Path]:
    return [p for p in (cloud.data_dir / "images").iterdir() if p.name.endswith(".part")]


def start_stalled_upload(api: Api, image_id: str) -> threading.Event:
    """Send 1 MiB of a chunked body, then stall until the returned event is set."""
    release = threading.Event()

    def body() -> Iterator[bytes]:
        yield os.urandom(1024 * 1024)
        release.wait(60)
        yield b"never-finished"

    def send() -> None:
        try:
            api.upload(image_id, body(), timeout=60)
        except requests.RequestException:
            pass  # the server is killed under it

    threading.Thread(target=send, daemon=True).start()
    return release


def wait_until(check, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def stalled_image(cloud: LocalCloud) -> tuple[Api, dict, threading.Event]:
    owner = Api(cloud, "owner", "owner-project")
    image = owner.create(disk_format="raw", container_format="bare")
    release = start_stalled_upload(owner, image["id"])
    assert wait_until(lambda: owner.image(image["id"])["status"] == "saving")
    assert wait_until(lambda: bool(partials(cloud)))
    return owner, image, release


def test_a_killed_worker_leaves_no_upload_in_saving(own_cloud: LocalCloud):
    owner, image, release = stalled_image(own_cloud)
    [worker] = psutil.Process(own_cloud.process.pid).children()
    os.kill(worker.pid, signal.SIGKILL)
    release.set()
    # The master starts a new worker; the image is queued again, the file gone.
    assert wait_until(lambda: _status(owner, image["id"]) == "queued"), _status(owner, image["id"])
    assert partials(own_cloud) == []
    assert owner.upload(image["id"], b"again").status_code == 204
    assert owner.image(image["id"])["status"] == "active"


def test_a_killed_server_recovers_its_uploads_at_start(tmp_path: Path):
    cloud = start_localcloud(tmp_path / "cloud")
    try:
        _owner, image, release = stalled_image(cloud)
        # The master first: alive, it would see its worker die and clean up (child_exit),
        # which is the other test's case, not a crash of the whole server.
        workers = psutil.Process(cloud.process.pid).children()
        for proc in [cloud.process, *workers]:
            os.kill(proc.pid, signal.SIGKILL)
        cloud.process.wait(10)
        release.set()
        assert partials(cloud)  # what the kill left behind
    finally:
        cloud.stop()
    again = start_localcloud(tmp_path / "cloud")
    try:
        owner = Api(again, "owner", "owner-project")
        assert owner.image(image["id"])["status"] == "queued"
        assert partials(again) == []
        assert owner.upload(image["id"], b"again").status_code == 204
    finally:
        again.stop()


def test_deleting_an_image_removes_a_dead_uploads_partial_file(own_cloud: LocalCloud):
    owner = Api(own_cloud, "owner", "owner-project")
    image = owner.create(disk_format="raw", container_format="bare")
    # What a writer killed mid-upload leaves: a partial file named after a dead process.
    orphan = own_cloud.data_dir / "images" / f".{image['id']}.999999999.0123abcd.part"
    orphan.write_bytes(b"x" * 4096)
    assert owner.delete(f"/v2/images/{image['id']}").status_code == 204
    assert not orphan.exists()


def _status(api: Api, image_id: str) -> str:
    try:
        return api.image(image_id)["status"]
    except (AssertionError, requests.RequestException):
        return "unreachable"
