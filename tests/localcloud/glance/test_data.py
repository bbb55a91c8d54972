"""Image data over real HTTP: upload lifecycle, chunked and interrupted uploads, limits,
format checks, downloads with ranges, and many clients at once."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud, start_localcloud

pytestmark = pytest.mark.usefixtures("cleanup")


def wait_for_status(api: Api, image_id: str, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        img = api.image(image_id)
        if img["status"] == status or time.monotonic() > deadline:
            return img
        time.sleep(0.05)


def part_files(cloud: LocalCloud) -> list[str]:
    return [p.name for p in (cloud.data_dir / "images").iterdir() if p.name.endswith(".part")]


class PausedBody:
    """A chunked request body that stops after its first piece until released."""

    def __init__(self, first: bytes, rest: bytes) -> None:
        self.first, self.rest = first, rest
        self.sent_first = threading.Event()
        self.release = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        self.sent_first.set()
        assert self.release.wait(30)
        yield self.rest


def test_lifecycle_queued_saving_active_with_a_chunked_body(owner: Api, image, cloud):
    first, rest = os.urandom(256 * 1024), os.urandom(300 * 1024 + 3)
    body = PausedBody(first, rest)
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(owner.upload, image["id"], iter(body))
        assert body.sent_first.wait(10)
        assert wait_for_status(owner, image["id"], "saving")["status"] == "saving"
        # A second upload meanwhile loses: the image is no longer queued.
        assert owner.upload(image["id"], b"x").status_code == 409
        body.release.set()
        assert upload.result(timeout=30).status_code == 204
    data = first + rest
    img = owner.image(image["id"])
    assert img["status"] == "active"
    assert img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert owner.get(f"/v2/images/{image['id']}/file").content == data
    assert not part_files(cloud)


def hang_up_mid_upload(
    cloud: LocalCloud, owner: Api, image_id: str, framing: str, body: bytes
) -> None:
    """Start an upload on a raw socket (``framing``: its Content-Length or Transfer-Encoding
    header), send ``body``, wait for the image to be saving, then close the connection."""
    url = urlsplit(f"{cloud.image_url}/v2/images/{image_id}/file")
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"X-Auth-Token: {owner.token}\r\nContent-Type: application/octet-stream\r\n"
                f"{framing}\r\n\r\n"
            ).encode()
            + body
        )
        assert wait_for_status(owner, image_id, "saving")["status"] == "saving"


def test_a_client_that_hangs_up_mid_body_leaves_the_image_queued(owner: Api, image, cloud):
    hang_up_mid_upload(
        cloud, owner, image["id"], f"Content-Length: {1024 * 1024}", os.urandom(200 * 1024)
    )
    img = wait_for_status(owner, image["id"], "queued")
    assert img["status"] == "queued"
    assert img["size"] is None
    assert img["checksum"] is None
    assert not part_files(cloud)
    # No resume, but a fresh upload works.
    assert owner.upload(image["id"], b"whole").status_code == 204
    assert owner.image(image["id"])["size"] == 5


def test_a_truncated_chunked_body_leaves_the_image_queued(owner: Api, image, cloud):
    # Promises a 64 KiB chunk, sends 1000 bytes, hangs up.
    hang_up_mid_upload(
        cloud, owner, image["id"], "Transfer-Encoding: chunked", b"10000\r\n" + os.urandom(1000)
    )
    assert wait_for_status(owner, image["id"], "queued")["status"] == "queued"
    assert not part_files(cloud)


def test_the_drop_fault_cuts_the_upload_and_the_image_goes_back_to_queued(
    owner: Api, image, faults
):
    faults.set_faults(drop_upload_after_bytes=64 * 1024)
    with pytest.raises(requests.ConnectionError):
        owner.upload(image["id"], os.urandom(4 * 1024 * 1024))
    img = wait_for_status(owner, image["id"], "queued")
    assert img["status"] == "queued"
    assert not part_files(faults)
    faults.clear_faults()
    assert owner.upload(image["id"], b"second try").status_code == 204
    assert owner.image(image["id"])["status"] == "active"


def test_upload_preconditions(owner: Api, partner: Api, image):
    path = f"/v2/images/{image['id']}/file"
    assert owner.put(path, data=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    no_formats = owner.create()
    assert owner.upload(no_formats["id"], b"x").status_code == 400
    assert partner.upload(image["id"], b"x").status_code == 404  # not a member: invisible
    owner.post(f"/v2/images/{image['id']}/members", json={"member": partner.project_id})
    assert partner.upload(image["id"], b"x").status_code == 403  # a member, not the owner
    mismatch = owner.upload(image["id"], b"abc", headers={"X-Openstack-Image-Size": "4"})
    assert mismatch.status_code == 400
    assert owner.image(image["id"])["status"] == "queued"
    empty = owner.upload(image["id"], b"")
    assert empty.status_code == 204
    assert owner.image(image["id"])["size"] == 0


def test_downloads_204_until_data_and_support_single_ranges(owner: Api, image):
    path = f"/v2/images/{image['id']}/file"
    assert owner.get(path).status_code == 204
    data = bytes(range(256)) * 40
    assert owner.upload(image["id"], data).status_code == 204
    part = owner.get(path, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert owner.get(path, headers={"Range": "bytes=-5"}).content == data[-5:]
    assert owner.get(path, headers={"Range": "bytes=10000-"}).content == data[10000:]
    bad = owner.get(path, headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416
    assert bad.headers["Content-Range"] == f"bytes */{len(data)}"
    streamed = owner.get(path, stream=True)
    assert b"".join(streamed.iter_content(1000)) == data
    assert streamed.headers["Content-MD5"] == hashlib.md5(data).hexdigest()


def test_data_must_match_the_disk_format(owner: Api):
    qcow = owner.create(disk_format="qcow2", container_format="bare")
    refused = owner.upload(qcow["id"], os.urandom(70 * 1024))
    assert refused.status_code == 415
    assert owner.image(qcow["id"])["status"] == "queued"
    header = b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 10 * 1024**3)
    assert owner.upload(qcow["id"], header + bytes(4096)).status_code == 204
    assert owner.image(qcow["id"])["virtual_size"] == 10 * 1024**3
    # qcow2 bytes declared raw are accepted, as Glance does (with a warning).
    raw = owner.create(disk_format="raw", container_format="bare")
    assert owner.upload(raw["id"], header).status_code == 204


def test_delete_during_an_upload_answers_410_and_leaves_no_file(owner: Api, image, cloud):
    body = PausedBody(os.urandom(128 * 1024), os.urandom(1024))
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(owner.upload, image["id"], iter(body))
        assert body.sent_first.wait(10)
        wait_for_status(owner, image["id"], "saving")
        assert owner.delete(f"/v2/images/{image['id']}").status_code == 204
        body.release.set()
        assert upload.result(timeout=30).status_code == 410
    assert not (cloud.data_dir / "images" / image["id"]).exists()
    assert not part_files(cloud)


@pytest.fixture(scope="module")
def small_cloud(tmp_path_factory) -> Iterator[LocalCloud]:
    """A second server whose image size limit is 1 MiB."""
    cloud = start_localcloud(
        tmp_path_factory.mktemp("smallcloud"), LOCALCLOUD_MAX_IMAGE_SIZE=str(1024 * 1024)
    )
    yield cloud
    cloud.stop()


def test_uploads_over_the_size_limit_are_413_and_stay_queued(small_cloud):
    api = Api(small_cloud, "owner", "owner-project")
    img = api.create(disk_format="raw", container_format="bare")
    declared = api.upload(img["id"], os.urandom(1024 * 1024 + 1))
    assert declared.status_code == 413
    chunked = api.upload(img["id"], iter([os.urandom(600 * 1024), os.urandom(600 * 1024)]))
    assert chunked.status_code == 413
    assert api.image(img["id"])["status"] == "queued"
    assert not part_files(small_cloud)
    assert api.upload(img["id"], os.urandom(1024 * 1024)).status_code == 204


def test_many_clients_at_once_never_get_a_5xx(owner: Api, partner: Api, cloud):
    codes: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def record(resp: requests.Response) -> requests.Response:
        with lock:
            codes.append(resp.status_code)
        assert resp.status_code < 500, resp.text
        return resp

    def lister(api: Api) -> None:
        while not stop.is_set():
            record(api.get("/v2/images?limit=5&sort_key=name&sort_dir=asc"))
            record(api.get("/v2/images?member_status=all&visibility=shared"))

    def writer(owner: Api, n: int) -> None:
        for _ in range(6):
            img = record(owner.post("/v2/images", json={"name": f"c{n}", "tags": ["x"]})).json()
            path = f"/v2/images/{img['id']}"
            record(owner.patch(path, [{"op": "add", "path": "/k", "value": str(n)}]))
            record(owner.put(f"{path}/tags/t{n}"))
            record(owner.post(f"{path}/members", json={"member": partner.project_id}))
            record(owner.delete(path))

    def uploader(owner: Api) -> None:
        img = owner.create(disk_format="raw", container_format="bare")
        data = os.urandom(24 * 1024 * 1024)
        pieces = (data[i : i + 256 * 1024] for i in range(0, len(data), 256 * 1024))
        assert record(owner.upload(img["id"], pieces)).status_code == 204
        assert owner.image(img["id"])["os_hash_value"] == hashlib.sha512(data).hexdigest()
        record(owner.delete(f"/v2/images/{img['id']}"))

    # A session per thread: requests.Session is not meant to be shared across threads.
    listers = [owner.clone(), partner.clone(), owner.clone()]
    with ThreadPoolExecutor(10) as pool:
        background = [pool.submit(lister, api) for api in listers]
        work = [pool.submit(uploader, owner.clone()) for _ in range(2)]
        work += [pool.submit(writer, owner.clone(), n) for n in range(4)]
        for future in work:
            future.result(timeout=120)
        stop.set()
        for future in background:
            future.result(timeout=30)
    assert len(codes) > 130
    assert all(code < 500 for code in codes)
    assert "database is locked" not in cloud.log_path.read_text()


def test_random_bytes_under_a_qcow2_ovf_image_never_crash_or_strand_it(owner: Api, cloud):
    # Not inspected (ovf), so the header is garbage: Glance records no virtual size.
    image = owner.create(disk_format="qcow2", container_format="ovf")
    resp = owner.upload(image["id"], os.urandom(256 * 1024))
    assert resp.status_code == 204, resp.text
    img = owner.image(image["id"])
    assert img["status"] == "active"
    assert img["virtual_size"] is None
    assert img["size"] == 256 * 1024
    assert not part_files(cloud)


def test_a_qcow2_header_with_an_impossible_size_is_stored_without_one(owner: Api, cloud):
    image = owner.create(disk_format="qcow2", container_format="bare")
    header = b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 2**64 - 1)
    resp = owner.upload(image["id"], header + os.urandom(4096))
    assert resp.status_code == 204, resp.text
    img = owner.image(image["id"])
    assert img["status"] == "active"
    assert img["virtual_size"] is None
    assert (cloud.data_dir / "images" / image["id"]).stat().st_size == len(header) + 4096


def test_an_empty_upload_has_no_virtual_size(owner: Api, image):
    assert owner.upload(image["id"], b"").status_code == 204
    img = owner.image(image["id"])
    assert img["status"] == "active"
    assert img["size"] == 0
    assert img["virtual_size"] is None
