"""The portal's own middleware: a time budget for the cloud calls of each request, and
login redirects htmx can follow."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware

from imsportal import cloudapi


class CloudBudgetMiddleware:
    """Every cloud call a request makes ends within ``CLOUD_REQUEST_BUDGET`` seconds of its
    start, all calls together: a hung cloud gives an error banner, not a page that hangs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with cloudapi.deadline(settings.CLOUD_REQUEST_BUDGET):
            return self.get_response(request)
