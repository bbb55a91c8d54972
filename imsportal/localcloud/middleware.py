"""Request ids on every response, as Glance and Keystone send them."""

import uuid


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sent = request.headers.get("X-Openstack-Request-Id", "")[:64]
        if sent and not sent.startswith("req-"):
            sent = f"req-{sent}"[:64]
        request.request_id = sent or f"req-{uuid.uuid4()}"
        response = self.get_response(request)
        response["x-openstack-request-id"] = request.request_id
        return response
