"""The shared API client for Glance v2 and IMS v2. Plain Python: no Django imports."""

from imsportal.cloudapi.auth import PasswordAuth, StaticTokenAuth
from imsportal.cloudapi.connection import Connection
from imsportal.cloudapi.exceptions import (
    ApiError,
    BadRequestError,
    ChecksumMismatchError,
    ConflictError,
    ConnectionFailed,
    DeadlineExceededError,
    DuplicateResourceError,
    EndpointNotFound,
    ForbiddenError,
    GoneError,
    NotFoundError,
    PayloadTooLargeError,
    ResponseTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    TransientError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    WaitTimeoutError,
)
from imsportal.cloudapi.http import deadline
from imsportal.cloudapi.resources import CloudImage, Image, ImsJob, Member, Server
from imsportal.cloudapi.signing import AkSkAuth

__all__ = [
    "AkSkAuth",
    "ApiError",
    "BadRequestError",
    "ChecksumMismatchError",
    "CloudImage",
    "ConflictError",
    "Connection",
    "ConnectionFailed",
    "DeadlineExceededError",
    "DuplicateResourceError",
    "EndpointNotFound",
    "ForbiddenError",
    "GoneError",
    "Image",
    "ImsJob",
    "Member",
    "NotFoundError",
    "PasswordAuth",
    "PayloadTooLargeError",
    "ResponseTooLargeError",
    "Server",
    "ServerError",
    "ServiceUnavailableError",
    "StaticTokenAuth",
    "TooManyRequestsError",
    "TransientError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "WaitTimeoutError",
    "deadline",
]
