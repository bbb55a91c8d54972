"""``/_admin/faults``: switch the local cloud's injected faults on and off at run time.

Guarded by ``X-Admin-Token`` equal to settings.ADMIN_TOKEN (LOCALCLOUD_ADMIN_TOKEN);
when that setting is empty the endpoint answers 404, as if it did not exist.

- ``GET`` returns the current faults.
- ``POST`` with a JSON object merges the given fields into them and returns the result:
  ``latency_ms`` (int >= 0), ``error_rate`` (0..1), ``error_count`` (int >= 0, the next N
  requests), ``error_status`` (default 503), ``retry_after`` (seconds or null),
  ``path_prefix`` (limits latency and errors, "" means every path),
  ``drop_upload_after_bytes`` (int or null). ``"expire_tokens": true`` is an action, not
  a setting: every token issued so far expires now (or only the token ids given as
  ``"expire_tokens": ["<id>", ...]``, so other clients of a shared server keep theirs).
- ``DELETE`` clears every fault (204).
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from imsportal.localcloud import jsonbody
from imsportal.localcloud.models import FaultConfig, Token

FIELDS: dict[str, tuple[type, ...]] = {
    "latency_ms": (int,),
    "error_rate": (int, float),
    "error_count": (int,),
    "error_status": (int,),
    "retry_after": (int, type(None)),
    "path_prefix": (str,),
    "drop_upload_after_bytes": (int, type(None)),
}


def fault_body(config: FaultConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in FIELDS}


def _invalid(name: str, value: Any) -> str | None:
    if name not in FIELDS:
        return f"unknown field {name!r}"
    if isinstance(value, bool) or not isinstance(value, FIELDS[name]):
        return f"{name} has the wrong type"
    if name == "error_rate" and not 0 <= value <= 1:
        return "error_rate must be between 0 and 1"
    if name == "error_status" and not 400 <= value <= 599:
        return "error_status must be an HTTP error status"
    if isinstance(value, int) and value < 0:
        return f"{name} must not be negative"
    return None


def faults(request: HttpRequest) -> HttpResponse:
    expected = settings.ADMIN_TOKEN
    given = request.headers.get("X-Admin-Token", "")
    if not expected:
        return JsonResponse({"error": "not found"}, status=404)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return JsonResponse({"error": "X-Admin-Token missing or wrong"}, status=403)
    if request.method == "GET":
        return JsonResponse(fault_body(FaultConfig.current()))
    if request.method == "DELETE":
        FaultConfig.objects.all().delete()
        return HttpResponse(status=204)
    if request.method != "POST":
        resp = JsonResponse({"error": "method not allowed"}, status=405)
        resp["Allow"] = "DELETE, GET, POST"
        return resp
    try:
        body = jsonbody.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "the body must be a JSON object"}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"error": "the body must be a JSON object"}, status=400)
    expire = body.pop("expire_tokens", False)
    if not (
        isinstance(expire, bool)
        or (isinstance(expire, list) and all(isinstance(i, str) for i in expire))
    ):
        return JsonResponse({"error": "expire_tokens is true or a list of token ids"}, status=400)
    for name, value in body.items():
        problem = _invalid(name, value)
        if problem:
            return JsonResponse({"error": problem}, status=400)
    config = FaultConfig.current()
    for name, value in body.items():
        setattr(config, name, value)
    config.save()
    if expire:
        live = Token.objects.filter(expires_at__gt=timezone.now())
        if isinstance(expire, list):
            live = live.filter(id__in=expire)
        live.update(expires_at=timezone.now() - timedelta(seconds=1))
    return JsonResponse(fault_body(config))
