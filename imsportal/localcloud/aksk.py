"""Verify Huawei API Gateway "SDK-HMAC-SHA256" AK/SK signatures (reference ims.md §5.2).

The signer (huaweicloud-sdk-python-v3 core ``Signer``) builds a canonical request

    METHOD \\n canonical URI (each segment RFC 3986-encoded, always ending in "/") \\n
    canonical query (pairs sorted, encoded, k=v joined with &) \\n
    canonical headers ("name:trimmed value" per signed header, then a newline) \\n
    signed header names (lower case, sorted, ";"-joined) \\n
    hex SHA-256 of the body, or the literal UNSIGNED-PAYLOAD

signs ``SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<hex sha256(canonical request)>`` with HMAC-SHA256
keyed by the SK, and sends
``Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>``.

We rebuild the same string from what arrived and compare. The caller is the key's user,
scoped to the project in ``X-Project-Id``, where the user must hold a role.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote

from django.http import HttpRequest

from imsportal.localcloud.models import AccessKey, Project, RoleAssignment

ALGORITHM = "SDK-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=15)
# API Gateway refuses bigger bodies on signed requests; uploads must use a token.
MAX_SIGNED_BODY = 12 * 1024 * 1024
# Headers the signature must cover so that neither the target nor the time can be swapped.
REQUIRED_SIGNED = ("host", "x-sdk-date")

_AUTH_RE = re.compile(
    rf"^{ALGORITHM}\s+Access=(?P<access>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


class SignatureError(Exception):
    """The request carries an AK/SK signature that does not authenticate it."""


@dataclass(frozen=True)
class Verified:
    """Who a good signature speaks for."""

    access_key: AccessKey
    project: Project
    roles: list[str]


def is_signed(request: HttpRequest) -> bool:
    return request.headers.get("Authorization", "").startswith(ALGORITHM)


def _encode(value: str) -> str:
    # RFC 3986: everything but the unreserved characters is %-encoded ("~" stays).
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: str) -> str:
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def canonical_request(
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """``headers`` maps lower-case names to values; every signed header must be in it."""
    lines = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query_string),
            lines,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret: str, to_sign: str) -> str:
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def _payload_hash(request: HttpRequest) -> str:
    content_type = request.headers.get("Content-Type", "")
    if request.headers.get("X-Sdk-Content-Sha256") == UNSIGNED_PAYLOAD:
        # The signer only skips the body for non-JSON payloads (streams, files); a JSON
        # body left unsigned could be swapped in transit, so it is refused here.
        if _is_json(content_type):
            raise SignatureError("verify aksk signature fail: a JSON body must be signed")
        return UNSIGNED_PAYLOAD
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_SIGNED_BODY or "chunked" in request.headers.get("Transfer-Encoding", ""):
        raise SignatureError("the request body is too large for AK/SK authentication")
    return hashlib.sha256(request.body).hexdigest()


def _parse_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("verify aksk signature fail: invalid X-Sdk-Date") from None


def verify(request: HttpRequest, now: datetime | None = None) -> Verified:
    """Check the request's signature; raise SignatureError saying why it fails.

    ``request.path`` is the full path (the image endpoint's ``/image`` prefix included),
    which is what a client signs when its endpoint URL carries that prefix.
    """
    match = _AUTH_RE.fullmatch(request.headers.get("Authorization", "").strip())
    if match is None:
        raise SignatureError("verify aksk signature fail: malformed Authorization header")
    # Canonical headers follow the order SignedHeaders gives (the signer sorts them).
    signed = match["signed"].lower().split(";")
    if any(name not in signed for name in REQUIRED_SIGNED):
        raise SignatureError("verify aksk signature fail: host and x-sdk-date must be signed")
    headers = {name.lower(): value for name, value in request.headers.items()}
    if "x-project-id" in headers and "x-project-id" not in signed:
        # Unsigned, the project could be swapped: one signature would serve every project
        # the key's user has a role in.
        raise SignatureError("verify aksk signature fail: X-Project-Id must be signed")
    missing = [name for name in signed if name not in headers]
    if missing:
        raise SignatureError(f"verify aksk signature fail: missing header {missing[0]}")

    sdk_date = headers["x-sdk-date"].strip()
    when = _parse_date(sdk_date)
    now = now or datetime.now(UTC)
    if abs(now - when) > MAX_SKEW:
        raise SignatureError("verify aksk signature fail: X-Sdk-Date is expired")

    key = (
        AccessKey.objects.select_related("user", "user__domain")
        .filter(access=match["access"], enabled=True)
        .first()
    )
    if key is None or not key.user.enabled or not key.user.domain.enabled:
        raise SignatureError("ak not exist")

    canonical = canonical_request(
        request.method or "GET",
        request.path,
        request.META.get("QUERY_STRING", ""),
        headers,
        signed,
        _payload_hash(request),
    )
    expected = signature(key.secret, string_to_sign(sdk_date, canonical))
    if not hmac.compare_digest(expected, match["signature"].lower()):
        raise SignatureError("verify aksk signature fail")

    project_id = headers.get("x-project-id", "").strip()
    if not project_id:
        raise SignatureError("X-Project-Id is required for a project-level service")
    project = (
        Project.objects.select_related("domain")
        .filter(id=project_id, enabled=True, domain__enabled=True)
        .first()
    )
    roles = (
        sorted(
            RoleAssignment.objects.filter(user=key.user, project=project).values_list(
                "role", flat=True
            )
        )
        if project
        else []
    )
    if project is None or not roles:
        raise SignatureError("the user of this AK has no role in the project X-Project-Id")
    return Verified(access_key=key, project=project, roles=roles)
