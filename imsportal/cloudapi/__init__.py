"""The shared API client for Glance v2 and IMS v2. Plain Python: no Django imports."""

from imsportal.cloudapi.connection import Connection
from imsportal.cloudapi.exceptions import (
    ApiError,
    BadRequestError,
    ChecksumMismatchError,
    ConflictError,
    ConnectionFailed,
    EndpointNotFound,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    TransientError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    WaitTimeoutError,
)
from imsportal.cloudapi.resources import Image

__all__ = [
    "ApiError",
    "BadRequestError",
    "ChecksumMismatchError",
    "ConflictError",
    "Connection",
    "ConnectionFailed",
    "EndpointNotFound",
    "ForbiddenError",
    "Image",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServerError",
    "ServiceUnavailableError",
    "TooManyRequestsError",
    "TransientError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "WaitTimeoutError",
]
