"""htmx 2 works under the portal's Content-Security-Policy, and the browser reports no
violation on the way (issue 9, Headers)."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_htmx_filters_under_the_csp_without_violations(page, live_server, login, owner_project):
    problems = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda err: problems.append(str(err)))
    login("viewer")
    rows = page.locator("#image-rows tbody tr")
    expect(rows.first).to_be_visible()
    page.get_by_label("Name", exact=True).fill("debian-12-generic")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"name=debian-12-generic"))
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/")
    expect(page.locator("#image-rows")).to_contain_text("cirros-0.6.2")
    assert [p for p in problems if "Content Security Policy" in p or "htmx" in p] == []
