"""Upload edge cases on mocked HTTP: checksum mismatch, cleanup, headers, chunking.
The real round trips are in test_localcloud_upload.py."""

from __future__ import annotations

import hashlib
import io

import pytest
import responses

from imsportal import cloudapi
from imsportal.cloudapi import Connection, StaticTokenAuth

G = "http://glance.test/image"
IMAGE_ID = "11111111-2222-3333-4444-555555555555"
DATA = bytes(range(256)) * 10_000  # 2.5 MB


def image_body(**extra):
    return {"id": IMAGE_ID, "name": "x", "status": "queued", **extra}


@pytest.fixture
def conn():
    return Connection(StaticTokenAuth("t", {"image": G}), retries=2, sleep=lambda s: None)


RECEIVED: list[bytes] = []


def put_file(status=204, body=b""):
    """Register the PUT /file like a server would: read the whole streamed body first."""

    def callback(request):
        data = request.body
        RECEIVED.append(data if isinstance(data, bytes) else b"".join(data))
        return (status, {"Content-Type": "application/json"}, body)

    RECEIVED.clear()
    responses.add_callback(responses.PUT, f"{G}/v2/images/{IMAGE_ID}/file", callback=callback)


def register_ok(md5=None, sha512=None, size=len(DATA)):
    responses.post(f"{G}/v2/images", status=201, json=image_body())
    put_file()
    responses.get(
        f"{G}/v2/images/{IMAGE_ID}",
        json=image_body(
            status="active",
            size=size,
            checksum=md5 or hashlib.md5(DATA).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=sha512 or hashlib.sha512(DATA).hexdigest(),
        ),
        headers={"x-openstack-request-id": "req-get"},
    )
    responses.delete(f"{G}/v2/images/{IMAGE_ID}", status=204)


@responses.activate
def test_it_streams_in_chunks_with_a_content_length(conn):
    register_ok()
    progress = []
    image = conn.image.upload_image(
        "bare", "raw", data=io.BytesIO(DATA), name="x", progress=progress.append, chunk_size=1 << 20
    )
    assert image.status == "active"
    post, put, get = responses.calls
    assert put.request.headers["Content-Length"] == str(len(DATA))
    assert "Transfer-Encoding" not in put.request.headers
    assert put.request.headers["x-openstack-image-size"] == str(len(DATA))
    assert put.request.headers["Content-Type"] == "application/octet-stream"
    assert progress == [1 << 20, 2 << 20, len(DATA)]
    assert RECEIVED == [DATA]


@responses.activate
def test_an_iterable_of_unknown_size_is_sent_chunked(conn):
    register_ok()
    conn.image.upload_image("bare", "raw", data=iter([DATA[:100], DATA[100:]]))
    put = responses.calls[1]
    assert put.request.headers.get("Transfer-Encoding") == "chunked"
    assert "x-openstack-image-size" not in put.request.headers


@responses.activate
def test_a_checksum_mismatch_raises_and_deletes_the_image(conn):
    register_ok(md5="0" * 32)
    with pytest.raises(cloudapi.ChecksumMismatchError) as info:
        conn.image.upload_image("bare", "raw", data=DATA)
    assert "MD5" in str(info.value)
    assert info.value.request_id == "req-get"
    assert [c.request.method for c in responses.calls] == ["POST", "PUT", "GET", "DELETE"]


@responses.activate
def test_a_sha512_mismatch_raises_and_keep_on_failure_keeps_the_image(conn):
    register_ok(sha512="ab" * 64)
    with pytest.raises(cloudapi.ChecksumMismatchError, match="SHA-512"):
        conn.image.upload_image("bare", "raw", data=DATA, keep_on_failure=True)
    assert [c.request.method for c in responses.calls] == ["POST", "PUT", "GET"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (413, cloudapi.PayloadTooLargeError),
        (415, cloudapi.UnsupportedMediaTypeError),
        (409, cloudapi.ConflictError),
        (400, cloudapi.BadRequestError),
    ],
)
@responses.activate
def test_http_errors_on_upload_always_raise_and_clean_up(conn, status, cls):
    responses.post(f"{G}/v2/images", status=201, json=image_body())
    put_file(status, b'{"message": "rejected"}')
    responses.delete(f"{G}/v2/images/{IMAGE_ID}", status=204)
    with pytest.raises(cls):
        conn.image.upload_image("bare", "raw", data=DATA)
    assert [c.request.method for c in responses.calls] == ["POST", "PUT", "DELETE"]


@responses.activate
def test_a_failing_cleanup_does_not_hide_the_upload_error(conn):
    responses.post(f"{G}/v2/images", status=201, json=image_body())
    put_file(413, b'{"message": "too big"}')
    responses.delete(f"{G}/v2/images/{IMAGE_ID}", status=403, json={"message": "no"})
    with pytest.raises(cloudapi.PayloadTooLargeError, match="too big"):
        conn.image.upload_image("bare", "raw", data=DATA)


@responses.activate
def test_a_source_shorter_than_its_size_fails_instead_of_hanging(conn):
    responses.post(f"{G}/v2/images", status=201, json=image_body())
    put_file()
    responses.delete(f"{G}/v2/images/{IMAGE_ID}", status=204)
    with pytest.raises(cloudapi.ApiError, match="ended after 3 of 10 bytes"):
        conn.image.upload_image("bare", "raw", data=iter([b"abc"]), size=10)
    assert responses.calls[-1].request.method == "DELETE"


def test_formats_are_required_with_data(conn):
    with pytest.raises(ValueError, match="container_format and disk_format"):
        conn.image.upload_image(data=b"x", name="x")
