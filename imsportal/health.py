"""``/healthz``: is each part of the portal working? No login, no secrets in the answer."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imsportal.celery import app as celery_app
from imsportal.cloud import health_targets
from imsportal.cloudapi import ApiError


def check_database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def check_broker() -> str | None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return None


def check_worker() -> str | None:
    replies = celery_app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT)
    if not replies:
        return "no worker answered a ping"
    return None


def check_cloud() -> str | None:
    """Every configured project's cloud answers; a summary names no project or host."""
    targets = health_targets()
    if not targets:
        return "no cloud project is configured"
    failing = 0
    for _slug, conn in targets:
        try:
            conn.image.list_page(limit=1)
        except ApiError:
            failing += 1
    if failing:
        return f"{failing} of {len(targets)} cloud projects unreachable"
    return None


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "worker": check_worker,
    "cloud": check_cloud,
}


def _checks() -> dict:
    # issue 11: uploads stream through the reverse proxy (only when UPLOAD_PROBE_URL is set)
    if settings.UPLOAD_PROBE_URL:
        from images.proxy_probe import check_upload_streaming

        return {**CHECKS, "uploads": check_upload_streaming}
    return CHECKS


def _reason(e: Exception) -> str:
    if isinstance(e, ApiError):
        return str(e)
    text = str(e).splitlines()[0] if str(e) else ""
    # Never echo URLs that might carry credentials (broker or database URLs).
    if "://" in text:
        text = ""
    return f"{e.__class__.__name__}: {text}".rstrip(": ")


@login_not_required
@never_cache
@require_GET
def healthz(request):
    results = {}
    for name, check in _checks().items():
        try:
            problem = check()
        except Exception as e:  # noqa: BLE001 - every failure is a reported reason
            problem = _reason(e)
        results[name] = {"ok": problem is None, **({"reason": problem} if problem else {})}
    ok = all(r["ok"] for r in results.values())
    return JsonResponse({"ok": ok, "checks": results}, status=200 if ok else 503)
