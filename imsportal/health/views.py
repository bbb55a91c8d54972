"""``/healthz``: is each part of the portal working? No login, no secrets in the answer.

It answers within ``HEALTH_TIMEOUT`` seconds whatever state the parts are in: the checks
run in parallel threads, each bounded by the same deadline, and a check still running at
the deadline is reported as not answering in time. A worker is alive when its heartbeat
(heartbeat.py) is recent: one query, no ping round trip through the broker.

Anonymous callers get no URL, host, path or project name: a reason is a fixed sentence or
an exception's class name, and the clouds are summarised as a count. Staff (logged in)
also get each failing part's detail; everything is logged server-side.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from imsportal import cloudapi
from imsportal.celery import app as celery_app
from imsportal.cloud import health_targets
from imsportal.cloudapi.http import time_left
from imsportal.health.models import WorkerHeartbeat, max_heartbeat_age

log = logging.getLogger(__name__)


@dataclass
class Result:
    ok: bool
    reason: str = ""  # safe for anyone
    detail: str = ""  # for staff and the log only
    extra: dict | None = None


class Problem(Exception):
    """A check's failure with a reason fit for anonymous callers."""

    def __init__(self, reason: str, detail: str = "", extra: dict | None = None):
        super().__init__(reason)
        self.reason, self.detail, self.extra = reason, detail, extra


def check_database() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def check_broker() -> dict | None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_TIMEOUT)
    return None


def check_worker() -> dict | None:
    if not WorkerHeartbeat.objects.alive().exists():
        seconds = int(max_heartbeat_age().total_seconds())
        raise Problem(f"no worker heartbeat in the last {seconds} s")
    return None


def _cloud_failure(e: Exception) -> str:
    """What went wrong with one cloud, in words that name nothing private."""
    if isinstance(e, cloudapi.DeadlineExceededError):
        return "did not answer in time"
    if isinstance(e, cloudapi.ConnectionFailed):
        return "unreachable"
    if isinstance(e, cloudapi.UnauthorizedError | cloudapi.ForbiddenError):
        return "refused the credentials"
    if isinstance(e, cloudapi.ApiError) and e.status_code:
        return f"answered HTTP {e.status_code}"
    return "failed"


def check_cloud(targets: list[tuple[str, cloudapi.Connection]] | None) -> dict | None:
    """Every configured cloud project, in parallel: a count of those reachable."""
    if targets is None:
        raise Problem("the cloud projects could not be read")
    if not targets:
        raise Problem("no cloud project is configured")

    def probe(conn: cloudapi.Connection) -> Callable[[], None]:
        return lambda: next(iter(conn.image.images(limit=1)), None)

    results = run_parallel({name: probe(conn) for name, conn in targets}, _cloud_failure)
    failing = {name: r for name, r in results.items() if not r.ok}
    summary = {"reachable": len(targets) - len(failing), "total": len(targets)}
    if failing:
        counts: dict[str, int] = {}
        for r in failing.values():
            counts[r.reason] = counts.get(r.reason, 0) + 1
        reason = f"{summary['reachable']} of {summary['total']} cloud projects reachable; " + (
            ", ".join(f"{n} {why}" for why, n in sorted(counts.items()))
        )
        detail = "; ".join(f"{name}: {r.detail or r.reason}" for name, r in failing.items())
        raise Problem(reason, detail, summary)
    return summary


CHECKS: dict[str, Callable[[], dict | None]] = {
    "database": check_database,
    "broker": check_broker,
    "worker": check_worker,
}


def upload_checks() -> dict[str, Callable[[], dict | None]]:
    """issue 11: do uploads stream through the reverse proxy? Only with UPLOAD_PROBE_URL."""
    if not settings.UPLOAD_PROBE_URL:
        return {}
    from images.proxy_probe import check_upload_streaming

    def check() -> None:
        if problem := check_upload_streaming():
            raise Problem(problem)

    return {"uploads": check}


def _detail(e: Exception) -> str:
    if isinstance(e, cloudapi.ApiError):
        return str(e)
    text = str(e).splitlines()[0] if str(e) else ""
    # Never echo URLs that might carry credentials (broker or database URLs), not even to staff.
    if "://" in text:
        text = ""
    return f"{e.__class__.__name__}: {text}".rstrip(": ")


def run_parallel(
    checks: dict[str, Callable[[], dict | None]],
    public_reason: Callable[[Exception], str] = lambda e: e.__class__.__name__,
) -> dict[str, Result]:
    """Run each check in its own thread under the current deadline (or ``HEALTH_TIMEOUT``);
    a check still running at the deadline is "no answer in time" (its thread ends on its own,
    bounded by the same deadline for cloud calls)."""
    left = time_left()
    budget = settings.HEALTH_TIMEOUT if left is None else max(min(left, settings.HEALTH_TIMEOUT), 0)
    until = time.monotonic() + budget
    # The checks stop a little before the caller stops waiting, so a slow cloud is reported
    # as such by its own check rather than as a check that did not answer.
    check_budget = budget - min(0.1, budget / 4)
    results: dict[str, Result] = {}

    def run(name: str, check: Callable[[], dict | None]) -> None:
        try:
            with cloudapi.deadline(check_budget):
                results[name] = Result(True, extra=check())
        except Problem as p:
            results[name] = Result(False, p.reason, p.detail, p.extra)
        except Exception as e:  # noqa: BLE001 - every failure is a reported reason
            results[name] = Result(False, public_reason(e), _detail(e))
        finally:
            connections.close_all()  # this thread's own connections, if it opened any

    threads = [
        threading.Thread(target=run, args=item, daemon=True, name=f"healthz-{item[0]}")
        for item in checks.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(until - time.monotonic(), 0.0))
    return {
        name: results.get(name) or Result(False, "no answer in time", "no answer in time")
        for name in checks
    }


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    staff = request.user.is_authenticated and request.user.is_staff
    try:
        # Read here, not in the check's thread: the projects are rows of this request's database
        # connection (and, in tests, of its open transaction).
        targets = health_targets()
    except Exception:  # noqa: BLE001 - the database check reports why
        targets = None
    results = run_parallel({**CHECKS, "cloud": lambda: check_cloud(targets), **upload_checks()})
    body: dict[str, dict] = {}
    for name, r in results.items():
        entry: dict = {"ok": r.ok, **(r.extra or {})}
        if not r.ok:
            entry["reason"] = r.reason
            if staff and r.detail and r.detail != r.reason:
                entry["detail"] = r.detail
            log.warning("healthz: %s failing: %s", name, r.detail or r.reason)
        body[name] = entry
    ok = all(r.ok for r in results.values())
    return JsonResponse({"ok": ok, "checks": body}, status=200 if ok else 503)
