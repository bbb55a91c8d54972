"""The look the issue asks for, checked where a test can: focus-ring contrast, a favicon,
the same status badges on the job page, messages that announce themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone

from jobs.models import Job

CSS = (Path(__file__).resolve().parents[2] / "static" / "css" / "portal.css").read_text()


def luminance(hex_colour: str) -> float:
    if len(hex_colour) == 4:  # #abc
        hex_colour = "#" + "".join(c * 2 for c in hex_colour[1:])
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


LIGHT = CSS.split("@media (prefers-color-scheme: dark)")[0]
DARK = CSS.split("@media (prefers-color-scheme: dark)")[1].split("}")[0]


def var(block: str, name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}}|#[0-9a-fA-F]{{3}})\b", block).group(1)


@pytest.mark.parametrize("block", [LIGHT, DARK], ids=["light", "dark"])
def test_the_focus_ring_has_at_least_3_to_1_contrast(block):
    focus = var(block, "focus")
    for background in (var(block, "bg"), var(block, "panel")):
        assert contrast(focus, background) >= 3, (focus, background)


@pytest.mark.django_db
def test_pages_have_a_favicon_that_is_served(operator_client, owner_project):
    body = operator_client.get("/p/owner/jobs/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', body).group(1)
    resp = operator_client.get(href)
    assert resp.status_code == 200
    assert b"<svg" in b"".join(resp.streaming_content)


@pytest.mark.django_db
def test_job_status_is_the_same_badge_and_links_its_image(operator_client, owner_project):
    Job.objects.create(
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="j",
        status="failed",
        image_id="8ec93389-e81c-5380-b6d6-d879652b7b6a",
        started_at=timezone.now(),
    )
    body = operator_client.get("/p/owner/jobs/").content.decode()
    assert '<span class="badge status-failed">Failed</span>' in body
    assert 'href="/p/owner/images/8ec93389-e81c-5380-b6d6-d879652b7b6a/"' in body
    assert "UTC" in body


@pytest.mark.django_db
def test_messages_announce_themselves(operator_client, owner_project, make_image):
    image = make_image()
    resp = operator_client.post(f"/p/owner/images/{image.id}/tags/", {"tag": "hello"}, follow=True)
    body = resp.content.decode()
    assert '<div id="messages" aria-live="polite">' in body
    assert 'role="status">Added tag “hello”' in body
