"""Request ids on every response (as Glance, Keystone and IMS send them), and injected faults."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from imsportal.localcloud.errors import glance_error, keystone_error
from imsportal.localcloud.models import FaultConfig

GetResponse = Callable[[HttpRequest], HttpResponse]


class FaultMiddleware:
    """Answers some requests with an error or after a delay, as /_admin/faults says.

    The configuration is one database row, read on every request, so a test can change
    it between two calls without restarting the server. Off (no row) by default.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/_admin/"):
            return self.get_response(request)
        config = FaultConfig.objects.filter(pk=1).first()
        if config is None or not request.path.startswith(config.path_prefix or "/"):
            return self.get_response(request)
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        fail = False
        if config.error_count:
            # Counted down in one statement, so parallel requests take one each.
            fail = bool(
                FaultConfig.objects.filter(pk=1, error_count__gt=0).update(
                    error_count=F("error_count") - 1
                )
            )
        if not fail and config.error_rate:
            fail = random.random() < config.error_rate  # noqa: S311 - not cryptographic
        if not fail:
            return self.get_response(request)
        return self.error(request, config)

    @staticmethod
    def error(request: HttpRequest, config: FaultConfig) -> HttpResponse:
        status = config.error_status
        if request.path.startswith("/identity"):
            resp: HttpResponse = keystone_error(status, "Injected fault.")
        else:
            resp = glance_error(request, status, "Injected fault.")
        if config.retry_after is not None:
            resp["Retry-After"] = str(config.retry_after)
        return resp


class RequestIdMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        # The fault middleware runs inside this one, so injected errors carry an id too.
        self.get_response = FaultMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Openstack-Request-Id", "")[:64]
        if sent and not sent.startswith("req-"):
            sent = f"req-{sent}"[:64]
        request.request_id = sent or f"req-{uuid.uuid4()}"
        response = self.get_response(request)
        response["x-openstack-request-id"] = request.request_id
        # Huawei's SDK reads only X-Request-Id (real IMS sends it).
        response["X-Request-Id"] = request.request_id
        return response
