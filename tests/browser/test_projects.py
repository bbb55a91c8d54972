"""Switching cloud projects from the header in a real browser."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switch_project_from_the_header_keeps_the_kind_of_page(
    page, live_server, login, owner_project, partner_project, django_user_model
):
    login("viewer", username="switcher")
    user = django_user_model.objects.get(username="switcher")
    user.project_roles.create(project=partner_project, role="approver")

    page.goto(f"{live_server.url}/p/owner/images/shared/")
    switcher = page.locator("details.switcher")
    expect(switcher.locator("summary")).to_contain_text("owner-project")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="partner-project").click()
    expect(page).to_have_url(f"{live_server.url}/p/partner/images/shared/")
    expect(page.locator("details.switcher summary")).to_contain_text("partner-project")
    expect(page.get_by_role("link", name="Shared with me", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/p/partner/images/$"))
