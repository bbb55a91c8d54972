"""A 403 is logged as one line, not with the PermissionDenied traceback (issue 9)."""

from __future__ import annotations

import io
import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """What the portal's console handler writes during the test."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    yield buffer
    handler.setStream(old)


def test_a_403_is_one_line(client, make_user, console):
    client.force_login(make_user("viewer", "viewer"))
    assert client.get("/projects/").status_code == 403  # superusers only
    out = console.getvalue()
    assert "Forbidden (Permission denied): /projects/" in out
    assert "Traceback" not in out


def test_a_500_keeps_its_traceback(console):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x", exc_info=True, extra={"status_code": 500}
        )
    assert "Traceback" in console.getvalue()
