"""Keystone's answers shared by its views: the JSON error, the policy 403, list links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import JsonResponse

from imsportal.localcloud.errors import keystone_error

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
TRUE_STRINGS = {"1", "t", "true", "on", "y", "yes"}


def error(status: int, message: str) -> JsonResponse:
    # TITLES, not errors.REASONS: a 405 here has always been titled "Error".
    title = TITLES.get(status, "Error")
    return keystone_error(status, message, settings.PUBLIC_URL, title=title)


def forbidden(rule: str) -> JsonResponse:
    """Keystone's policy refusal, naming the rule (``identity:list_projects``...)."""
    return error(403, f"You are not authorized to perform the requested action: {rule}.")


def links(path: str) -> dict[str, Any]:
    return {"self": f"{settings.PUBLIC_URL}/identity/v3/{path}", "previous": None, "next": None}
