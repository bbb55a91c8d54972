"""The portal's own middleware: a time budget for the cloud calls of each request, and
login redirects htmx can follow."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from imsportal import cloudapi


class CloudBudgetMiddleware:
    """Every cloud call a request makes ends within ``CLOUD_REQUEST_BUDGET`` seconds of its
    start, all calls together: a hung cloud gives an error banner, not a page that hangs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with cloudapi.deadline(settings.CLOUD_REQUEST_BUDGET):
            return self.get_response(request)


class HtmxLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's login requirement, with an answer htmx can follow.

    A fragment request (a filter, a pager, a job's status poll) from a user whose session
    expired must not get the login page swapped into a table cell. htmx gets ``HX-Redirect``
    to the login page, which loads it as a whole page and so also ends any polling; the
    login then returns to the page the browser showed (``HX-Current-URL``), not to the
    fragment's URL. The status is 286 (htmx's "stop polling") for clients that ignore the
    redirect.
    """

    def handle_no_permission(self, request, view_func):
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        login_url = resolve_url(self.get_login_url(view_func))
        # current_url_abs_path is None unless the page is on this portal's own origin.
        back_to = htmx.current_url_abs_path
        target = redirect_to_login(back_to, login_url)["Location"] if back_to else login_url
        response = HttpResponseClientRedirect(target)
        response.status_code = HttpResponseStopPolling.status_code
        response.reason_phrase = "Stop Polling"
        return response


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every answer to a logged-in user: pages show
    a project's images and jobs, which must stay out of shared caches and off the disk of
    the browser after logout. Static files (WhiteNoise answers them earlier) keep theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)  # drops any "public"
        return response
