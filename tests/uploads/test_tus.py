"""The portal's tus 1.0 server, over the Django test client (raw protocol) and over real HTTP
with the third-party ``tuspy`` client."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from images import staging
from jobs.models import Job, StagedUpload

QCOW2 = b"QFI\xfb\x00\x00\x00\x03" + bytes(504)
TUS = {"Tus-Resumable": "1.0.0"}


def qcow2_bytes(size: int) -> bytes:
    return QCOW2 + os.urandom(size - len(QCOW2))


def meta(**fields) -> str:
    fields.setdefault("name", "tus-test")
    fields.setdefault("disk_format", "qcow2")
    fields.setdefault("container_format", "bare")
    fields.setdefault("min_disk", "0")
    fields.setdefault("min_ram", "0")
    fields.setdefault("visibility", "private")
    entries = {"filename": "disk.qcow2", "form": urlencode(fields)}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in entries.items())


@pytest.fixture(autouse=True)
def staging_dir(settings, tmp_path):
    settings.UPLOAD_STAGING_DIR = tmp_path / "staging"
    return settings.UPLOAD_STAGING_DIR


@pytest.fixture
def base(owner_project):
    return f"/p/{owner_project.slug}/images/uploads/"


def create(client, base, length, metadata=None, **headers):
    return client.post(
        base,
        headers={
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata or meta(),
            **headers,
        },
    )


def patch(client, url, offset, body, **headers):
    return client.generic(
        "PATCH",
        url,
        data=body,
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": str(offset), **headers},
    )


@pytest.mark.django_db
def test_options_announces_version_extensions_and_max_size(operator_client, base, settings):
    resp = operator_client.options(base)
    assert resp.status_code == 204
    assert resp["Tus-Version"] == "1.0.0"
    assert set(resp["Tus-Extension"].split(",")) >= {"creation", "termination", "expiration"}
    assert resp["Tus-Max-Size"] == str(settings.UPLOAD_MAX_SIZE)


@pytest.mark.django_db
def test_create_head_patch_resume_and_complete(operator_client, base):
    data = qcow2_bytes(300_000)
    resp = create(operator_client, base, len(data))
    assert resp.status_code == 201, resp.content
    url = resp["Location"]
    assert url.startswith(base)
    assert "://" not in url
    assert "GMT" in resp["Upload-Expires"]
    head = operator_client.head(url, headers=TUS)
    assert head.status_code == 200
    assert head["Upload-Offset"] == "0"
    assert head["Upload-Length"] == str(len(data))
    assert "no-store" in head["Cache-Control"]

    first = patch(operator_client, url, 0, data[:100_000])
    assert first.status_code == 204
    assert first["Upload-Offset"] == "100000"
    # A stale offset (a second tab, a lost response) is a conflict, not a corrupted file.
    stale = patch(operator_client, url, 0, data[:100_000])
    assert stale.status_code == 409
    assert stale["Upload-Offset"] == "100000"
    assert operator_client.head(url, headers=TUS)["Upload-Offset"] == "100000"
    last = patch(operator_client, url, 100_000, data[100_000:])
    assert last.status_code == 204
    assert last["Upload-Offset"] == str(len(data))
    upload = StagedUpload.objects.get()
    assert upload.status == StagedUpload.Status.SUBMITTED
    assert staging.data_path(upload.id).read_bytes() == data
    job = Job.objects.get(upload=upload)
    assert job.status == Job.Status.QUEUED
    assert job.bytes_total == len(data)
    assert last["Imsportal-Job"] == f"/p/owner/jobs/{job.pk}/"
    assert job.params["name"] == "tus-test"
    assert job.params["disk_format"] == "qcow2"
    # A client that lost that response asks with HEAD and finds the job.
    head = operator_client.head(url, headers=TUS)
    assert head["Upload-Offset"] == str(len(data))
    assert head["Imsportal-Job"] == f"/p/owner/jobs/{job.pk}/"


@pytest.mark.django_db
def test_bytes_past_the_last_fsync_do_not_count(operator_client, base):
    """A crash after a write but before the offset was recorded: the next PATCH starts at
    the recorded offset and the stray bytes are cut off."""
    data = qcow2_bytes(4096)
    url = create(operator_client, base, len(data))["Location"]
    patch(operator_client, url, 0, data[:1000])
    upload = StagedUpload.objects.get()
    with open(staging.data_path(upload.id), "ab") as f:
        f.write(b"garbage that was never confirmed")
    assert operator_client.head(url, headers=TUS)["Upload-Offset"] == "1000"
    assert patch(operator_client, url, 1000, data[1000:]).status_code == 204
    assert staging.data_path(upload.id).read_bytes() == data


@pytest.mark.django_db
def test_the_maximum_size_is_refused_at_creation(operator_client, base, settings):
    settings.UPLOAD_MAX_SIZE = 1000
    resp = create(operator_client, base, 1001)
    assert resp.status_code == 413
    assert not StagedUpload.objects.exists()
    assert create(operator_client, base, 1000).status_code == 201


@pytest.mark.django_db
def test_no_byte_beyond_the_declared_length_is_stored(operator_client, base):
    url = create(operator_client, base, 1000)["Location"]
    resp = patch(operator_client, url, 0, qcow2_bytes(1500))
    assert resp.status_code == 413
    upload = StagedUpload.objects.get()
    assert upload.offset == 0
    assert staging.data_path(upload.id).stat().st_size == 0


@pytest.mark.django_db
def test_a_full_disk_is_refused_before_accepting(operator_client, base, settings):
    settings.UPLOAD_MIN_FREE_SPACE = 10**18  # more than any disk has
    resp = create(operator_client, base, 1000)
    assert resp.status_code == 507
    assert b"free" in resp.content
    assert not StagedUpload.objects.exists()


@pytest.mark.django_db
def test_invalid_form_fields_are_refused_at_creation(operator_client, base):
    resp = create(operator_client, base, 1000, meta(name="", disk_format="floppy"))
    assert resp.status_code == 400
    assert b"name:" in resp.content
    assert b"disk_format:" in resp.content
    assert not StagedUpload.objects.exists()


@pytest.mark.django_db
def test_the_protocol_version_and_content_type_are_checked(operator_client, base):
    resp = operator_client.post(base, headers={"Upload-Length": "10", "Upload-Metadata": meta()})
    assert resp.status_code == 412
    url = create(operator_client, base, 10)["Location"]
    resp = operator_client.generic(
        "PATCH", url, data=b"x", content_type="text/plain", headers={**TUS, "Upload-Offset": "0"}
    )
    assert resp.status_code == 415


@pytest.mark.django_db
def test_a_checksum_mismatch_stores_nothing(operator_client, base):
    data = qcow2_bytes(2000)
    url = create(operator_client, base, len(data))["Location"]
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    resp = patch(operator_client, url, 0, data[:1000], **{"Upload-Checksum": f"sha1 {wrong}"})
    assert resp.status_code == 460
    assert operator_client.head(url, headers=TUS)["Upload-Offset"] == "0"
    right = base64.b64encode(hashlib.sha1(data[:1000]).digest()).decode()
    resp = patch(operator_client, url, 0, data[:1000], **{"Upload-Checksum": f"sha1 {right}"})
    assert resp.status_code == 204
    assert resp["Upload-Offset"] == "1000"


@pytest.mark.django_db
def test_termination_removes_the_file_and_the_row(operator_client, base):
    url = create(operator_client, base, 1000)["Location"]
    upload = StagedUpload.objects.get()
    assert staging.data_path(upload.id).exists()
    assert operator_client.delete(url, headers=TUS).status_code == 204
    assert not StagedUpload.objects.exists()
    assert not staging.data_path(upload.id).exists()
    assert operator_client.head(url, headers=TUS).status_code == 404


@pytest.mark.django_db
def test_another_user_cannot_read_append_or_cancel(client, make_user, base, operator_client):
    url = create(operator_client, base, 1000)["Location"]
    other = Client()
    other.force_login(make_user("mallory", "operator"))
    assert other.head(url, headers=TUS).status_code == 404
    assert patch(other, url, 0, b"x" * 10).status_code == 404
    assert other.delete(url, headers=TUS).status_code == 404
    assert StagedUpload.objects.get().offset == 0
    # The registry does not show it either.
    resp = other.get(f"{base}unfinished")
    assert resp.json()["uploads"] == []


@pytest.mark.django_db
def test_a_viewer_cannot_upload(viewer_client, base):
    assert create(viewer_client, base, 10).status_code == 403


@pytest.mark.django_db
def test_a_second_writer_gets_423_while_the_first_writes(operator_client, base):
    url = create(operator_client, base, 1000)["Location"]
    upload = StagedUpload.objects.get()
    with staging.writer_lock(upload.id):
        resp = patch(operator_client, url, 0, b"x" * 10)
        assert resp.status_code == 423
        assert operator_client.delete(url, headers=TUS).status_code == 423
    assert patch(operator_client, url, 0, QCOW2[:10]).status_code == 204


@pytest.mark.django_db
def test_a_format_mismatch_is_refused_before_anything_goes_out(operator_client, base):
    data = b"\x00" * 70_000  # raw bytes, but the form says qcow2
    url = create(operator_client, base, len(data))["Location"]
    resp = patch(operator_client, url, 0, data)
    assert resp.status_code == 204
    assert "raw image" in resp["Imsportal-Error"]
    assert "qcow2" in resp["Imsportal-Error"]
    upload = StagedUpload.objects.get()
    assert upload.status == StagedUpload.Status.REJECTED
    assert not Job.objects.exists()
    assert not staging.data_path(upload.id).exists()
    assert "raw image" in operator_client.head(url, headers=TUS)["Imsportal-Error"]


@pytest.mark.django_db
def test_the_registry_finds_the_same_file_by_size_and_fingerprint(operator_client, base):
    fields = meta()
    fp = base64.b64encode(b"sha256-1000-abc").decode()
    url = create(operator_client, base, 1000, f"{fields},fingerprint {fp}")["Location"]
    patch(operator_client, url, 0, QCOW2[:100])
    found = operator_client.get(f"{base}unfinished?size=1000&fingerprint=sha256-1000-abc").json()
    assert [(u["url"], u["offset"], u["name"]) for u in found["uploads"]] == [
        (url, 100, "tus-test")
    ]
    other = operator_client.get(f"{base}unfinished?size=1000&fingerprint=sha256-1000-xyz")
    assert other.json()["uploads"] == []
    page = operator_client.get("/p/owner/images/upload/")
    assert b"Your unfinished uploads" in page.content
    assert b"disk.qcow2" in page.content


@pytest.mark.django_db
def test_expired_uploads_answer_410_and_are_cleaned_up(operator_client, base, staging_dir):
    url = create(operator_client, base, 1000)["Location"]
    upload = StagedUpload.objects.get()
    StagedUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert operator_client.head(url, headers=TUS).status_code == 410
    assert patch(operator_client, url, 0, b"x").status_code == 410
    orphan = staging_dir / "0000-orphan.part"
    orphan.write_bytes(b"left behind")
    call_command("cleanup_uploads", "--no-recover")
    assert not StagedUpload.objects.exists()
    assert not staging.data_path(upload.id).exists()
    assert not orphan.exists()


@pytest.mark.django_db
def test_a_fresh_upload_survives_the_cleanup(operator_client, base):
    create(operator_client, base, 1000)
    call_command("cleanup_uploads", "--no-recover")
    assert StagedUpload.objects.count() == 1


@pytest.mark.django_db
def test_csrf_is_required_and_the_header_is_enough(make_user, base):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf-op", "operator"))
    client.get("/p/owner/images/upload/")
    token = client.cookies["csrftoken"].value
    assert create(client, base, 10).status_code == 403
    resp = create(client, base, 10, **{"X-CSRFToken": token})
    assert resp.status_code == 201
    url = resp["Location"]
    assert patch(client, url, 0, QCOW2[:10]).status_code == 403
    assert patch(client, url, 0, QCOW2[:10], **{"X-CSRFToken": token}).status_code == 204


# --- over real HTTP ------------------------------------------------------------------------
def http_session(live_server, user) -> requests.Session:
    """A requests session carrying the Django login and CSRF cookies and header."""
    client = Client()
    client.force_login(user)
    client.get("/p/owner/images/upload/")
    session = requests.Session()
    for name in ("sessionid", "csrftoken"):
        session.cookies.set(name, client.cookies[name].value)
    session.headers["X-CSRFToken"] = client.cookies["csrftoken"].value
    return session


@pytest.mark.django_db(transaction=True)
def test_tuspy_uploads_and_resumes_after_a_dropped_connection(
    live_server, make_user, owner_project, tmp_path
):
    from tusclient import client as tus_client

    user = make_user("tuspy-op", "operator")
    session = http_session(live_server, user)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    headers = {"Cookie": cookie, "X-CSRFToken": session.headers["X-CSRFToken"]}
    data = qcow2_bytes(3 * 1024 * 1024 + 123)
    path = tmp_path / "disk.qcow2"
    path.write_bytes(data)
    endpoint = f"{live_server.url}/p/owner/images/uploads/"
    tus = tus_client.TusClient(endpoint, headers=headers)
    fields = {
        "name": "tuspy-image",
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
    }
    uploader = tus.uploader(
        file_path=str(path), chunk_size=1024 * 1024, metadata={"filename": "disk.qcow2", **fields}
    )
    uploader.upload_chunk()  # one MiB, then the "connection drops": a new client resumes
    url = uploader.url
    assert url.startswith(live_server.url)
    assert StagedUpload.objects.get().offset == 1024 * 1024

    # A raw PATCH that dies mid-body: the server keeps what it fsynced, nothing more.
    import socket

    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port)) as sock:
        path_only = url.removeprefix(live_server.url)
        head = (
            f"PATCH {path_only} HTTP/1.1\r\nHost: {host}:{port}\r\nTus-Resumable: 1.0.0\r\n"
            f"Cookie: {cookie}\r\nX-CSRFToken: {headers['X-CSRFToken']}\r\n"
            "Content-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: {1024 * 1024}\r\nContent-Length: {1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode() + data[1024 * 1024 : 1024 * 1024 + 300_000])
    # The server notices the closed socket and keeps exactly the bytes it received.
    expected = 1024 * 1024 + 300_000

    def offset_now() -> int:
        resp = requests.head(url, headers={**TUS, **headers}, timeout=10)
        return int(resp.headers["Upload-Offset"])

    deadline = time.monotonic() + 10
    while offset_now() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    offset = offset_now()
    assert offset == expected
    assert not staging.writer_lock_held(StagedUpload.objects.get().id)

    resumed = tus_client.TusClient(endpoint, headers=headers).uploader(
        file_path=str(path), chunk_size=1024 * 1024, url=url
    )
    assert resumed.get_offset() == offset  # HEAD before resuming
    resumed.upload()
    upload = StagedUpload.objects.get()
    assert upload.status == StagedUpload.Status.SUBMITTED
    assert staging.data_path(upload.id).read_bytes() == data
    assert Job.objects.get(upload=upload).title == "tuspy-image"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_one_wins(live_server, make_user, owner_project):
    session = http_session(live_server, make_user("race-op", "operator"))
    session.headers.update(TUS)
    size = 8 * 1024 * 1024
    data = qcow2_bytes(size)
    resp = session.post(
        f"{live_server.url}/p/owner/images/uploads/",
        headers={"Upload-Length": str(size), "Upload-Metadata": meta()},
    )
    url = live_server.url + resp.headers["Location"]
    results = []

    def send():
        def slow_body():
            for i in range(0, size, 256 * 1024):
                time.sleep(0.02)
                yield data[i : i + 256 * 1024]

        r = session.patch(
            url,
            data=slow_body(),
            headers={
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size),
            },
        )
        results.append(r.status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in ([204, 409], [204, 423]), results
    upload = StagedUpload.objects.get()
    assert upload.offset == size
    assert staging.data_path(upload.id).read_bytes() == data


@pytest.mark.django_db
def test_a_disk_that_fills_up_mid_patch_leaves_a_consistent_state(operator_client, base):
    import builtins
    import errno
    from unittest import mock

    data = qcow2_bytes(3 * 1024 * 1024)
    url = create(operator_client, base, len(data))["Location"]
    assert patch(operator_client, url, 0, data[: 1024 * 1024]).status_code == 204
    real_open = builtins.open

    class FillingFile:
        def __init__(self, f):
            self.f, self.writes = f, 0

        def write(self, chunk):
            self.writes += 1
            if self.writes == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(chunk)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    with mock.patch(
        "images.staging.open", create=True, side_effect=lambda *a: FillingFile(real_open(*a))
    ):
        resp = patch(operator_client, url, 1024 * 1024, data[1024 * 1024 :])
    assert resp.status_code == 507
    assert b"full" in resp.content
    upload = StagedUpload.objects.get()
    assert upload.offset == 1024 * 1024
    assert staging.data_path(upload.id).stat().st_size == 1024 * 1024
    assert patch(operator_client, url, 1024 * 1024, data[1024 * 1024 :]).status_code == 204
    assert staging.data_path(upload.id).read_bytes() == data


@pytest.mark.django_db
def test_only_the_cloud_s_formats_are_offered_and_accepted(operator_client, base):
    from images import upload_forms

    upload_forms._FORMATS_CACHE.clear()
    schema = {"properties": {"disk_format": {"enum": [None, "raw", "qcow2", "vhd"]}}}
    with mock.patch("imsportal.cloudapi.http.HttpClient.request") as request:
        request.return_value.json.return_value = schema
        page = operator_client.get("/p/owner/images/upload/").content.decode()
        resp = create(operator_client, base, 1000, meta(disk_format="vmdk"))
    upload_forms._FORMATS_CACHE.clear()
    assert '<option value="qcow2"' in page
    assert '<option value="vmdk"' not in page
    assert resp.status_code == 400
    assert b"disk_format" in resp.content


@pytest.mark.django_db
def test_the_local_cloud_s_schema_offers_every_format(operator_client):
    from images import upload_forms

    upload_forms._FORMATS_CACHE.clear()
    page = operator_client.get("/p/owner/images/upload/").content.decode()
    for fmt in ("qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso"):
        assert f'<option value="{fmt}"' in page


@pytest.mark.django_db
def test_discarding_needs_confirmation_and_ownership(operator_client, make_user, base):
    url = create(operator_client, base, 1000)["Location"]
    upload = StagedUpload.objects.get()
    discard = f"/p/owner/images/uploads/{upload.id}/discard"
    other = Client()
    other.force_login(make_user("other-op", "operator"))
    other.post(discard, {"confirm": "yes"})
    operator_client.post(discard)
    assert StagedUpload.objects.exists()
    resp = operator_client.post(discard, {"confirm": "yes"})
    assert resp.status_code == 302
    assert not StagedUpload.objects.exists()
    assert not staging.data_path(upload.id).exists()
    assert operator_client.head(url, headers=TUS).status_code == 404
