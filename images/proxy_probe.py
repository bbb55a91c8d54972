"""Do uploads reach the portal unbuffered? An active probe for ``/healthz``.

A reverse proxy that buffers request bodies (nginx's default) holds every tus PATCH until it
has all of it: progress jumps, memory or temporary files grow on the proxy, and a size cap
there breaks large chunks. The probe sends a small body through the public URL
(``UPLOAD_PROBE_URL``, the address browsers use) on the uploads path: first 64 KiB, then it
waits until the probe view has been called before sending the rest. Called early: the body
streams through. Called only after the whole body: a proxy buffered it.

The view and the check meet through marker files in the staging directory (shared by every
web process and host). The portal must serve two requests at once (threads or processes).
"""

from __future__ import annotations

import re
import secrets
import time

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from images import staging

HEAD = 64 * 1024
TOTAL = 256 * 1024
PATH = "/p/_probe/images/uploads/probe/"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _files(token: str):
    base = staging.staging_dir()
    return base / f"probe-{token}.pending", base / f"probe-{token}.arrived"


@login_not_required  # only tokens the check itself registered are served
@csrf_exempt
@require_POST
def upload_probe(request: HttpRequest, token: str) -> HttpResponse:
    pending, arrived = _files(token) if _TOKEN.match(token) else (None, None)
    if pending is None or arrived is None or not pending.exists():
        return HttpResponse(status=404)
    arrived.touch()
    while request.read(64 * 1024):
        pass
    return HttpResponse(status=204)


def check_upload_streaming() -> str | None:
    """``None`` when uploads stream through (or no UPLOAD_PROBE_URL is set), else why not."""
    base = settings.UPLOAD_PROBE_URL.rstrip("/")
    if not base:
        return None
    token = secrets.token_hex(16)
    pending, arrived = _files(token)
    pending.touch()
    streamed = False

    def body():
        nonlocal streamed
        yield b"\0" * HEAD
        deadline = time.monotonic() + settings.UPLOAD_PROBE_WAIT
        while time.monotonic() < deadline:
            if arrived.exists():
                streamed = True
                break
            time.sleep(0.02)
        yield b"\0" * (TOTAL - HEAD)

    try:
        with requests.Session() as session:
            prepared = session.prepare_request(
                requests.Request(
                    "POST",
                    f"{base}{PATH}{token}",
                    data=body(),
                    headers={"Content-Type": "application/offset+octet-stream"},
                )
            )
            prepared.headers.pop("Transfer-Encoding", None)
            prepared.headers["Content-Length"] = str(TOTAL)
            resp = session.send(prepared, timeout=settings.UPLOAD_PROBE_WAIT + 10)
    except requests.RequestException as e:
        return f"the upload probe could not reach UPLOAD_PROBE_URL: {e.__class__.__name__}"
    finally:
        pending.unlink(missing_ok=True)
        arrived.unlink(missing_ok=True)
    if resp.status_code != 204:
        return f"the upload probe answered HTTP {resp.status_code}"
    if not streamed:
        return (
            "a proxy buffers uploads: turn request buffering off for /p/*/images/uploads/ "
            "(see the README)"
        )
    return None
