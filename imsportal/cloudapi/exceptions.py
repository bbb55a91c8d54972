"""The client's exceptions. ``raise_from_response`` in http.py is the only place that maps
HTTP statuses to them.

Catch ``ApiError`` for everything; ``TransientError`` marks the ones worth retrying later
(connection problems, 429, 502/503/504).
"""

from __future__ import annotations


class ApiError(Exception):
    """A cloud call failed. ``str(e)`` is a readable sentence that names the request id."""

    transient = False

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        details: str = "",
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.details = details
        self.request_id = request_id
        self.method = method
        self.url = url
        self.code = code  # vendor error code, e.g. "IMG.0035" (IMS) or "APIGW.0301"

    def __str__(self) -> str:
        text = self.message
        if self.status_code:
            text = f"{text} (HTTP {self.status_code})"
        if self.request_id:
            text = f"{text} [request id {self.request_id}]"
        return text


class TransientError(ApiError):
    """Worth retrying later: connection problems, 429, 502, 503, 504."""

    transient = True


class ConnectionFailed(TransientError):
    """The cloud could not be reached, or the connection broke."""


class DeadlineExceededError(ConnectionFailed):
    """The cloud did not answer within the call's total time budget (all tries included)."""


class ResponseTooLargeError(ApiError):
    """The cloud answered with more than the client reads into memory (``max_response_bytes``)."""


class BadRequestError(ApiError):
    pass


class UnauthorizedError(ApiError):
    pass


class ForbiddenError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class PayloadTooLargeError(ApiError):
    pass


class UnsupportedMediaTypeError(ApiError):
    pass


class TooManyRequestsError(TransientError):
    pass


class GoneError(ApiError):
    """410: the image was deleted while its data was being uploaded."""


class ServerError(ApiError):
    pass


class ServiceUnavailableError(ServerError, TransientError):
    """502, 503 or 504."""


class ChecksumMismatchError(ApiError):
    """Uploaded data does not match the checksums the cloud computed."""


class WaitTimeoutError(ApiError):
    """An asynchronous job did not finish in time."""


class EndpointNotFound(ApiError):
    """The service catalog has no usable endpoint for a service."""


class DuplicateResourceError(ApiError):
    """A name given where one resource was expected matches several."""
