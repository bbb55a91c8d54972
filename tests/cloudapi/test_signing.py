"""AK/SK signing (ims.md §5.2) checked against an independent re-implementation of the
huaweicloud-sdk-python-v3 core Signer. The round trip against the local cloud's verifier is
in test_localcloud_ims.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import requests
import responses

from imsportal.cloudapi import AkSkAuth, Connection
from imsportal.cloudapi.signing import canonical_query, canonical_uri

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AK, SK, PROJECT = "AKTEST123", "sk-secret-value", "0123456789abcdef0123456789abcdef"
IMS = "https://ims.eu-de.example.com"


def sdk_v3_sign(method, path, query, headers, body, ak=AK, sk=SK):
    """The SDK v3 algorithm written out from its description, to compare against."""
    segments = [quote(s, safe="~") for s in path.split("/")]
    uri = "/".join(segments)
    if not uri.endswith("/"):
        uri += "/"
    q = "&".join(f"{quote(k, safe='~')}={quote(str(v), safe='~')}" for k, v in sorted(query))
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    signed = sorted(lowered)
    canonical_headers = "".join(f"{k}:{lowered[k]}\n" for k in signed)
    body_hash = (
        "UNSIGNED-PAYLOAD"
        if lowered.get("x-sdk-content-sha256") == "UNSIGNED-PAYLOAD"
        else hashlib.sha256(body).hexdigest()
    )
    canonical = f"{method}\n{uri}\n{q}\n{canonical_headers}\n{';'.join(signed)}\n{body_hash}"
    to_sign = (
        f"SDK-HMAC-SHA256\n{lowered['x-sdk-date']}\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    sig = hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"


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
    expected = sdk_v3_sign(
        "GET",
        "/v2/cloudimages",
        [("name", "my image"), ("__imagetype", "private"), ("limit", "2")],
        {k: added[k] for k in ("X-Sdk-Date", "Host", "X-Project-Id")},
        b"",
    )
    assert added["Authorization"] == expected
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
    expected = sdk_v3_sign(
        "PATCH",
        "/v2/cloudimages/abc",
        [],
        {
            "Content-Type": "application/json",
            **{k: added[k] for k in ("X-Sdk-Date", "Host", "X-Project-Id")},
        },
        body,
    )
    assert added["Authorization"] == expected
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
    assert added["Authorization"].endswith(
        sdk_v3_sign(
            "PUT",
            "/v2/images/abc/file",
            [],
            {
                "Content-Type": "application/octet-stream",
                **{
                    k: added[k]
                    for k in ("X-Sdk-Date", "Host", "X-Project-Id", "X-Sdk-Content-Sha256")
                },
            },
            b"",
        ).split("Signature=")[1]
    )


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
