"""AK/SK signing (ims.md §5.2) checked against the official huaweicloud-sdk-python-v3 core
``Signer`` (a test-only dependency) as the oracle. The round trip against the local cloud's
verifier is in test_localcloud_aksk.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from imsportal.cloudapi import AkSkAuth, Connection
from imsportal.cloudapi.signing import canonical_query, canonical_uri

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AK, SK, PROJECT = "AKTEST123", "sk-secret-value", "0123456789abcdef0123456789abcdef"
IMS = "https://ims.eu-de.example.com"
SIGNED = ("X-Sdk-Date", "Host", "X-Project-Id", "Content-Type", "X-Sdk-Content-Sha256")


def sdk_authorization(prepared: requests.PreparedRequest, added: dict[str, str], body=b""):
    """The Authorization the SDK's own Signer computes for the same request: the path as
    sent, its query, the headers the client signed and the body."""
    parts = urlsplit(prepared.url)
    headers = {**prepared.headers, **added}
    request = SdkRequest(
        method=prepared.method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=parts.path,
        query_params=parse_qsl(parts.query, keep_blank_values=True),
        header_params={k: headers[k] for k in SIGNED if k in headers},
        body=body,
    )
    Signer(BasicCredentials(AK, SK, PROJECT)).sign(request)
    return request.header_params["Authorization"]


def prepare(method, url, **kwargs):
    return requests.Session().prepare_request(requests.Request(method, url, **kwargs))


@pytest.fixture
def auth():
    return AkSkAuth(AK, SK, PROJECT, {"image": IMS}, now=lambda: NOW)


def test_a_get_with_a_query_is_signed_like_the_sdk(auth):
    prepared = prepare(
        "GET",
        f"{IMS}/v2/cloudimages",
        params={"name": "my image", "__imagetype": "private", "limit": 2},
    )
    added = auth.headers_for(prepared)
    assert added["X-Sdk-Date"] == "20260102T030405Z"
    assert added["X-Project-Id"] == PROJECT
    assert added["Host"] == "ims.eu-de.example.com"
    assert added["Authorization"] == sdk_authorization(prepared, added)
    assert re.fullmatch(
        r"SDK-HMAC-SHA256 Access=AKTEST123, SignedHeaders=host;x-project-id;x-sdk-date, "
        r"Signature=[0-9a-f]{64}",
        added["Authorization"],
    )


def test_a_json_body_is_hashed_and_its_content_type_signed(auth):
    body = json.dumps([{"op": "replace", "path": "/name", "value": "x"}]).encode()
    prepared = prepare(
        "PATCH",
        f"{IMS}/v2/cloudimages/abc",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    added = auth.headers_for(prepared)
    assert added["Authorization"] == sdk_authorization(prepared, added, body)
    assert "X-Sdk-Content-Sha256" not in added


def test_a_stream_is_sent_with_an_unsigned_payload(auth):
    prepared = prepare(
        "PUT",
        f"{IMS}/v2/images/abc/file",
        data=iter([b"x"]),
        headers={"Content-Type": "application/octet-stream"},
    )
    added = auth.headers_for(prepared)
    assert added["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in added["Authorization"]
    # The SDK signs UNSIGNED-PAYLOAD for any non-empty body of another media type.
    assert added["Authorization"] == sdk_authorization(prepared, added, b"x")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (f"{IMS}/v2/images/abc/tags/a%2Fb", None),
        (f"{IMS}/v2/images/abc/tags/k%3Dv%20w", None),
        (f"{IMS}/v2/images/abc/tags/caf%C3%A9~x", None),
        (f"{IMS}/v2/cloudimages", {"tag": "a=b", "name": "x y", "__os_bit": "64"}),
    ],
)
def test_encoded_paths_and_queries_are_signed_like_the_sdk(auth, url, params):
    prepared = prepare("PUT" if params is None else "GET", url, params=params)
    added = auth.headers_for(prepared)
    assert added["Authorization"] == sdk_authorization(prepared, added)


def test_a_different_secret_gives_a_different_signature(auth):
    prepared = prepare("GET", f"{IMS}/v2/cloudimages")
    other = AkSkAuth(AK, "other", PROJECT, {}, now=lambda: NOW).headers_for(prepared)
    assert other["Authorization"] != auth.headers_for(prepared)["Authorization"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/v2/cloudimages", "/v2/cloudimages/"),
        ("/v2/images/a%20b/tags/x~y", "/v2/images/a%20b/tags/x~y/"),
        ("/v2/images/id/tags/k%3Dv", "/v2/images/id/tags/k%3Dv/"),
        # Decoded before splitting, as the SDK does: an encoded slash separates segments.
        ("/v2/images/id/tags/a%2Fb", "/v2/images/id/tags/a/b/"),
    ],
)
def test_the_canonical_uri_encodes_each_segment_and_ends_with_a_slash(path, expected):
    assert canonical_uri(path) == expected


def test_the_canonical_query_is_sorted_and_encoded():
    assert canonical_query("b=2&a=x+y&a=1&c=") == "a=1&a=x%20y&b=2&c="


@responses.activate
def test_the_connection_signs_every_request_and_never_sends_a_token():
    conn = Connection.from_config(
        {"auth_type": "aksk", "ak": AK, "sk": SK, "project_id": PROJECT, "image_endpoint": IMS}
    )
    responses.get(f"{IMS}/v2/cloudimages", json={"images": []})
    responses.get(f"{IMS}/v1/{PROJECT}/jobs/j1", json={"job_id": "j1", "status": "RUNNING"})
    assert list(conn.ims.cloudimages()) == []
    assert conn.ims.get_job("j1").status == "RUNNING"
    for call in responses.calls:
        assert call.request.headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=AKTEST123,")
        assert "X-Auth-Token" not in call.request.headers
    assert SK not in repr(conn.auth)
