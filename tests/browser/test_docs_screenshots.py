"""The README's screenshots, taken from the real pages in Chromium.

Every run checks that the pages it photographs render their main parts; with
``UPDATE_DOCS_SCREENSHOTS=1`` it also writes the pictures into ``docs/``:

    UPDATE_DOCS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_docs_screenshots.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
CIRROS = "8ec93389-e81c-5380-b6d6-d879652b7b6a"  # seeded by the local cloud


def test_the_main_pages_for_the_readme(page, live_server, login, owner_project, tmp_path):
    page.set_viewport_size({"width": 1440, "height": 820})
    login("operator", "alice")
    page.goto(f"{live_server.url}/p/owner/images/?scope=all")
    expect(page.locator("#image-rows tbody tr").first).to_contain_text("active")
    expect(page.locator("details.switcher summary")).to_contain_text("owner-project")
    page.screenshot(path=tmp_path / "images-list.png")

    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{live_server.url}/p/owner/images/{CIRROS}/")
    expect(page.get_by_role("heading", name="cirros-0.6.2")).to_be_visible()
    expect(page.locator("#members-panel")).to_be_visible()
    page.screenshot(path=tmp_path / "image-detail.png")

    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        for name in ("images-list.png", "image-detail.png"):
            shutil.copyfile(tmp_path / name, DOCS / name)
