"""Transport: one pooled ``requests.Session``, timeouts, retries and error mapping.

Every call to a cloud goes through ``HttpClient.request``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from imsportal.cloudapi import exceptions as exc

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_STATUS_ERRORS: dict[int, type[exc.ApiError]] = {
    400: exc.BadRequestError,
    401: exc.UnauthorizedError,
    403: exc.ForbiddenError,
    404: exc.NotFoundError,
    409: exc.ConflictError,
    413: exc.PayloadTooLargeError,
    410: exc.GoneError,
    415: exc.UnsupportedMediaTypeError,
    429: exc.TooManyRequestsError,
    502: exc.ServiceUnavailableError,
    503: exc.ServiceUnavailableError,
    504: exc.ServiceUnavailableError,
}
_TAGS = re.compile(r"<[^>]+>")

# The monotonic time by which the cloud calls of the current context must be over: set by
# ``deadline()`` (a whole page, a health check) and by ``HttpClient.request`` (one call,
# all its tries), the earlier one winning. The Keystone login inside a call reads it too.
_deadline: ContextVar[float | None] = ContextVar("cloudapi_deadline", default=None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Bound every cloud call made inside the block to end within ``seconds`` from now.

    Nested blocks keep the earlier deadline. The bound covers retries, backoff sleeps and
    the Keystone login; a call that would run past it raises ``DeadlineExceededError``.
    ``None`` leaves the current bound as it is. Contexts do not cross threads: a thread
    started inside the block is not bound unless it opens its own block.
    """
    if seconds is None:
        yield
        return
    until = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(until if current is None else min(current, until))
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline (may be negative), or None without one."""
    until = _deadline.get()
    return None if until is None else until - time.monotonic()


def bounded_timeout(timeout: tuple[float, float]) -> tuple[float, float]:
    """``(connect, read)`` seconds capped by what is left of the current deadline.

    Raises:
        DeadlineExceededError: nothing is left.
    """
    left = time_left()
    if left is None:
        return timeout
    if left <= 0:
        raise exc.DeadlineExceededError(_late_message())
    return (min(timeout[0], left), min(timeout[1], left))


def _late_message() -> str:
    return "The cloud did not answer in time"


def query_value(value: Any) -> Any:
    """Query values as Glance and IMS want them: lowercase booleans, lists repeated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return [query_value(v) for v in value]
    return value


def request_id_of(resp: requests.Response) -> str | None:
    """The request id a Glance, Keystone or IMS response carries (header, else JSON body)."""
    rid = (
        resp.headers.get("x-openstack-request-id")
        or resp.headers.get("X-Request-Id")
        or resp.headers.get("x-compute-request-id")
    )
    if rid or resp.status_code < 400:
        return rid
    # The Huawei API gateway puts it in the body: {"error_code": "APIGW.0301", "request_id": ...}
    body = _json_or_none(resp)
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        return body["request_id"]
    return None


def _json_or_none(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _clean(text: str) -> str:
    return " ".join(_TAGS.sub(" ", text).split())


def error_code_of(resp: requests.Response) -> str | None:
    """The vendor error code (``IMG.0035``, ``APIGW.0301``) of an IMS error body, if any."""
    body = _json_or_none(resp)
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict) and isinstance(err.get("code"), str):
        return err["code"]
    code = body.get("error_code")
    return code if isinstance(code, str) and code else None


def error_message(resp: requests.Response) -> tuple[str, str]:
    """Return (readable message, details) from a Glance, Keystone or IMS error body."""
    details = resp.text[:2000] if resp.content else ""
    body = _json_or_none(resp)
    if isinstance(body, dict):
        # Keystone: {"error": {"message": ...}}; IMS: {"error": {"code": "IMG.0001", ...}}
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            code = err.get("code")
            prefix = f"{code}: " if isinstance(code, str) and "." in code else ""
            return prefix + _clean(str(err["message"])), details
        # IMS (older form) and the API gateway: {"error_code": "IMG.0001", "error_msg": "..."}
        if body.get("error_msg"):
            return f"{body.get('error_code', '')}: {_clean(body['error_msg'])}".lstrip(
                ": "
            ), details
        # Glance (webob JSON): {"message": ..., "code": "404 Not Found", "title": ...}
        if body.get("message"):
            return _clean(str(body["message"])), details
        # Nova style: {"itemNotFound": {"message": ...}}
        for value in body.values():
            if isinstance(value, dict) and value.get("message"):
                return _clean(str(value["message"])), details
    if resp.content and "html" in resp.headers.get("Content-Type", ""):
        text = _clean(re.sub(r"<title>.*?</title>|<h1>.*?</h1>", " ", resp.text, flags=re.S))
        if text:
            return text[:500], details
    if resp.content and resp.headers.get("Content-Type", "").startswith("text/plain"):
        # webob plain text: "404 Not Found\n\n<explanation>"
        lines = [line for line in resp.text.splitlines() if line.strip()]
        if len(lines) > 1:
            return _clean(" ".join(lines[1:]))[:500], details
    reason = resp.reason or "error"
    return f"{resp.request.method if resp.request else ''} failed: {reason}".strip(), details


def raise_from_response(resp: requests.Response) -> None:
    """Raise the typed ``ApiError`` for a non-2xx response; return quietly for a 2xx."""
    if resp.status_code < 400 and resp.status_code != 300:
        return
    if resp.status_code == 300:
        message = "The endpoint answered with its version list: the endpoint URL is wrong"
        cls: type[exc.ApiError] = exc.ApiError
        details = resp.text[:2000]
    else:
        message, details = error_message(resp)
        cls = _STATUS_ERRORS.get(resp.status_code) or (
            exc.ServerError if resp.status_code >= 500 else exc.ApiError
        )
    req = resp.request
    raise cls(
        message,
        status_code=resp.status_code,
        details=details,
        request_id=request_id_of(resp),
        method=req.method if req else None,
        url=req.url if req else None,
        code=error_code_of(resp),
    )


@dataclass(frozen=True)
class CallRecord:
    """One call that got a 2xx answer: what ``HttpClient.recording`` collects."""

    method: str
    url: str
    status: int
    request_id: str | None


class HttpClient:
    """Sends every request of one auth context: timeouts, auth headers, retries, errors.

    ``auth`` is a plugin from auth.py or signing.py: ``headers_for(prepared)`` returns the
    headers to add to a prepared request (a token, or an AK/SK signature computed over it),
    ``can_reauthenticate`` says whether ``invalidate()`` and a second try can cure a 401.
    """

    def __init__(
        self,
        auth,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        total_timeout: float | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.auth = auth
        # The largest answer read into memory (not a streamed download): a broken or hostile
        # cloud must not be able to fill a portal process with one response.
        self.max_response_bytes = max_response_bytes
        # Seconds one request() may take in all, tries and sleeps included (None: unbounded
        # but for the caller's ``deadline()``). Pages use a short one, uploads a long one.
        self.total_timeout = total_timeout
        self.session = session or new_session()
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._local = threading.local()  # the recording lists open in each thread

    @contextmanager
    def recording(self) -> Iterator[list[CallRecord]]:
        """Collect every call this thread completes inside the block, with its request id
        (for the audit trail). Blocks may nest; each sees the calls made inside it."""
        stack = self._local.__dict__.setdefault("stack", [])
        calls: list[CallRecord] = []
        stack.append(calls)
        try:
            yield calls
        finally:
            stack.remove(calls)

    @property
    def last_request_id(self) -> str | None:
        """The request id of the last call this thread completed."""
        return getattr(self._local, "last_request_id", None)

    def _completed(self, method: str, url: str, resp: requests.Response) -> None:
        call = CallRecord(method, url, resp.status_code, request_id_of(resp))
        self._local.last_request_id = call.request_id
        for calls in getattr(self._local, "stack", ()):
            calls.append(call)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        retry: bool | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one request; retry transient failures on idempotent requests.

        Args:
            method: the HTTP method.
            url: the absolute URL.
            params: query parameters (lists repeat the key).
            json_body: a JSON document to send (sets the JSON content type unless
                ``headers`` gives another one, e.g. the json-patch media type).
            data: raw bytes, or a generator for a streamed body. A generator is never
                re-sent (not after a 401, not on a 5xx): a stream cannot be replayed.
            headers: extra headers. A ``Content-Length`` with a generator body sends the
                stream with that length instead of chunked encoding.
            stream: leave the response body unread (downloads).
            retry: force retrying on (True) or off (False); by default only idempotent
                methods (GET, HEAD, PUT, PATCH, DELETE, OPTIONS) are retried, so a POST
                create is never sent twice.
            timeout: (connect, read) seconds for this call instead of the client's.

        Each try's timeouts are capped by what is left of the total budget
        (``total_timeout``, or an enclosing ``deadline()`` if earlier); no retry or sleep
        starts past it.

        Returns:
            requests.Response: a 2xx response.

        Raises:
            ApiError: a subclass matching the status (see ``raise_from_response``),
                ``ConnectionFailed`` when the cloud cannot be reached, or
                ``DeadlineExceededError`` when the budget ran out.
        """
        with deadline(self.total_timeout) if self.total_timeout else nullcontext():
            return self._request(
                method,
                url,
                params=params,
                json_body=json_body,
                data=data,
                headers=headers,
                stream=stream,
                retry=retry,
                timeout=timeout,
            )

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        json_body: Any,
        data: Any,
        headers: dict[str, str] | None,
        stream: bool,
        retry: bool | None,
        timeout: tuple[float, float] | None,
    ) -> requests.Response:
        method = method.upper()
        body = data
        hdrs = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        replayable = body is None or isinstance(body, bytes | str)
        may_retry = (method in IDEMPOTENT) if retry is None else retry
        may_retry = may_retry and replayable
        reauthed = False
        attempt = 0
        while True:
            prepared = self.session.prepare_request(
                requests.Request(method, url, params=params, data=body, headers=hdrs)
            )
            if "Content-Length" in hdrs and "Transfer-Encoding" in prepared.headers:
                # requests marks every generator body chunked; the caller knows the size.
                del prepared.headers["Transfer-Encoding"]
            bounded_timeout(timeout or self.timeout)  # the login below must not start late
            prepared.headers.update(self.auth.headers_for(prepared))
            try:
                # Always streamed from the socket: _read_capped reads what the caller did not
                # ask to stream, up to max_response_bytes.
                resp = self.session.send(
                    prepared, stream=True, timeout=bounded_timeout(timeout or self.timeout)
                )
            except requests.RequestException as e:
                late = _out_of_time()
                if may_retry and attempt < self.retries:
                    delay = self._delay(attempt + 1, None)
                    if self._can_wait(delay):
                        attempt += 1
                        log.info("retrying %s %s after %s in %.1fs", method, url, _reason(e), delay)
                        self._sleep(delay)
                        continue
                    late = True  # a retry was due, but the budget has no room for it
                if late:
                    raise exc.DeadlineExceededError(
                        f"{_late_message()} ({_reason(e)}, {attempt + 1} tries)",
                        method=method,
                        url=url,
                    ) from e
                # Shown to users: no internal address (it is on e.url and in this log line).
                log.warning("cannot reach %s %s: %s", method, url, e)
                raise exc.ConnectionFailed(
                    f"Cannot reach the cloud: {_reason(e)}", method=method, url=url
                ) from e
            if (
                resp.status_code == 401
                and not reauthed
                and self.auth.can_reauthenticate
                and replayable
            ):
                # keystoneauth's rule: drop the token, authenticate again, retry once.
                resp.close()
                self.auth.invalidate()
                reauthed = True
                continue
            if (
                resp.status_code in RETRY_STATUSES
                and may_retry
                and attempt < self.retries
                and self._can_wait(
                    delay := self._delay(attempt + 1, resp.headers.get("Retry-After"))
                )
            ):
                attempt += 1
                log.info(
                    "retrying %s %s after HTTP %s in %.1fs", method, url, resp.status_code, delay
                )
                resp.close()
                self._sleep(delay)
                continue
            if resp.status_code >= 300 or not stream:
                self._read_capped(resp, method, url)
            if resp.status_code >= 300:
                raise_from_response(resp)
            self._completed(method, url, resp)
            return resp

    def _read_capped(self, resp: requests.Response, method: str, url: str) -> None:
        """Read the body into ``resp`` (as requests would), refusing one larger than
        ``max_response_bytes`` without holding more than that in memory."""
        limit = self.max_response_bytes
        declared = resp.headers.get("Content-Length", "")
        too_large = declared.isdigit() and int(declared) > limit
        body = bytearray()
        if not too_large:
            try:
                for chunk in resp.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > limit:
                        too_large = True
                        break
            except requests.RequestException as e:
                resp.close()
                raise exc.ConnectionFailed(
                    f"The cloud's answer broke off: {_reason(e)}", method=method, url=url
                ) from e
        if too_large:
            resp.close()
            raise exc.ResponseTooLargeError(
                f"The cloud's answer is larger than {limit} bytes; not read",
                status_code=resp.status_code,
                request_id=request_id_of(resp),
                method=method,
                url=url,
            )
        resp._content = bytes(body)  # what resp.content returns from now on
        resp._content_consumed = True

    @staticmethod
    def _can_wait(delay: float) -> bool:
        """Whether a retry after ``delay`` seconds would still start before the deadline."""
        left = time_left()
        return left is None or delay < left

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based).

        ``Retry-After`` (seconds or an HTTP date) wins, capped at ``max_backoff``;
        otherwise exponential backoff with "equal jitter": uniform in [base/2, base] where
        base = backoff * 2**(attempt-1), capped at ``max_backoff``.
        """
        if retry_after:
            seconds = _retry_after_seconds(retry_after)
            if seconds is not None:
                return min(max(seconds, 0.0), self.max_backoff)
        base = min(self.backoff * (2 ** (attempt - 1)), self.max_backoff)
        return random.uniform(base / 2, base)  # noqa: S311 - jitter, not crypto


def _out_of_time() -> bool:
    # A read timeout cut short by the budget is the budget's fault, not the cloud's setting.
    left = time_left()
    return left is not None and left <= 0.05


def _retry_after_seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def new_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "imsportal-cloudapi/0.1"
    return session


def _reason(e: Exception) -> str:
    text = str(e)
    for marker in ("Connection refused", "timed out", "Name or service not known", "reset by peer"):
        if marker in text:
            return marker.lower()
    return e.__class__.__name__
