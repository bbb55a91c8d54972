"""Huawei Cloud / Open Telekom Cloud AK/SK request signing ("SDK-HMAC-SHA256", ``Access=``
form, as huaweicloud-sdk-python-v3's core ``Signer``), as an auth plugin.

The canonical request is::

    METHOD
    /canonical/uri/            (decoded, split on "/", each segment RFC 3986-encoded,
                                always ending in "/")
    canonical query            (sorted k=v, encoded, joined with "&")
    name:value lines           (one per signed header, lower-case, trimmed) + "\\n"
    signed;header;names
    hex sha256 of the body     (or UNSIGNED-PAYLOAD for non-JSON bodies)

and the header ``Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<...>,
Signature=<hex HMAC-SHA256(SK, "SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<hex sha256(canonical)>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

from imsportal.cloudapi.auth import ConfiguredEndpoints

ALGORITHM = "SDK-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# Headers signed when present (Host and X-Sdk-Date always are).
_SIGNED = ("content-type", "host", "x-project-id", "x-sdk-content-sha256", "x-sdk-date")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    """The path decoded, then split on "/", each segment RFC 3986-encoded, always ending
    with "/". Decoding before splitting is what the SDK v3 ``Signer`` (and so the API
    gateway) does: an encoded slash (``a%2Fb``) becomes a separator."""
    uri = "/".join(_encode(segment) for segment in unquote(path or "/").split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def canonical_request(
    method: str, url: str, headers: dict[str, str], signed: list[str], payload_hash: str
) -> str:
    parts = urlsplit(url)
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    header_lines = "".join(f"{name}:{lower[name]}\n" for name in signed)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(parts.path),
            canonical_query(parts.query),
            header_lines,
            ";".join(signed),
            payload_hash,
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class AkSkAuth(ConfiguredEndpoints):
    """Signs each request with an access key / secret key pair; nothing to refresh.

    Args:
        ak: the access key id.
        sk: the secret access key.
        project_id: sent as ``X-Project-Id`` (IMS is a project-level service).
        endpoints: service type -> endpoint, e.g. ``{"image": "https://ims.eu-de..."}``.
        security_token: for temporary credentials (``X-Security-Token``).
        now: the clock (tests).
    """

    def __init__(
        self,
        ak: str,
        sk: str,
        project_id: str,
        endpoints: dict[str, str],
        *,
        security_token: str = "",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        if not (ak and sk):
            raise ValueError("AkSkAuth needs ak and sk")
        self.ak = ak
        self._sk = sk
        self.project_id = project_id
        self.endpoints = {k: v for k, v in endpoints.items() if v}
        self.security_token = security_token
        self._now = now

    def __repr__(self) -> str:  # never show the secret key
        return f"AkSkAuth(ak={self.ak!r}, project_id={self.project_id!r})"

    def headers_for(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        """The headers that sign ``prepared``: X-Sdk-Date, Host, X-Project-Id, Authorization."""
        added = {
            "X-Sdk-Date": self._now().strftime(DATE_FORMAT),
            "Host": urlsplit(prepared.url).netloc,
        }
        if self.project_id:
            added["X-Project-Id"] = self.project_id
        if self.security_token:
            added["X-Security-Token"] = self.security_token
        body = prepared.body
        content_type = prepared.headers.get("Content-Type", "")
        if body is None or body == b"" or body == "":
            payload_hash = _EMPTY_SHA256
        elif isinstance(body, bytes | str) and content_type.startswith("application/json"):
            raw = body.encode() if isinstance(body, str) else body
            payload_hash = hashlib.sha256(raw).hexdigest()
        else:
            # Streams and other media types: the SDK v3 leaves the payload unsigned.
            payload_hash = UNSIGNED_PAYLOAD
            added["X-Sdk-Content-Sha256"] = UNSIGNED_PAYLOAD
        headers = {**prepared.headers, **added}
        present = {k.lower() for k in headers}
        signed = sorted(name for name in _SIGNED if name in present)
        canonical = canonical_request(
            prepared.method or "GET", prepared.url, headers, signed, payload_hash
        )
        to_sign = string_to_sign(added["X-Sdk-Date"], canonical)
        added["Authorization"] = (
            f"{ALGORITHM} Access={self.ak}, SignedHeaders={';'.join(signed)}, "
            f"Signature={signature(self._sk, to_sign)}"
        )
        return added
