"""Share an image from owner-project with partner-project, switch project in the header,
accept it in the inbox and see it in the partner's list, in a real Chromium."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from imsportal.cloudapi import Connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(localcloud):
    owner = Connection.from_config(localcloud.cloud_config("owner", "owner-project"))
    made = owner.image.create_image(
        name=f"browser-share-{uuid.uuid4().hex[:6]}",
        disk_format="qcow2",
        container_format="bare",
        visibility="private",
    )
    yield made
    owner.image.delete_image(made)


def test_share_switch_accept_and_see_it(
    page, live_server, login, owner_project, partner_project, image
):
    cache.clear()
    from imsportal.projects.models import ProjectRole

    login("operator", "sharer")
    user = ProjectRole.objects.get(project=owner_project).user
    ProjectRole.objects.create(user=user, project=partner_project, role="approver")

    # Owner side: the image is private; share it with partner-project, making it shared.
    page.goto(f"{live_server.url}/p/owner/images/{image.id}/members/")
    panel = page.locator("#members-panel")
    expect(panel).to_contain_text("This image is private")
    panel.get_by_label("partner-project").check()
    panel.get_by_label(re.compile("Make private images shared first")).check()
    panel.get_by_role("button", name="Share", exact=True).click()
    expect(panel.locator(".share-results")).to_contain_text("shared: pending")
    expect(panel.locator("table.members")).to_contain_text("partner-project")
    expect(panel.locator("table.members .badge")).to_have_text("pending")

    # Switch project in the header.
    page.locator("details.switcher summary").click()
    page.locator("details.switcher").get_by_role("link", name="partner-project").click()
    expect(page).to_have_url(f"{live_server.url}/p/partner/images/")
    expect(page.locator("details.switcher .project-name")).to_have_text("partner-project")
    expect(page.locator("#inbox-badge")).to_contain_text("1")

    # Partner side: accept it in the inbox.
    page.get_by_role("link", name="Shared with me", exact=True).click()
    row = page.locator("#inbox tbody tr", has_text=image.name)
    expect(row).to_contain_text("owner-project")
    row.get_by_role("button", name=re.compile(r"^Accept")).click()
    expect(page.locator("#messages")).to_contain_text(f"Accepted 1: {image.name}")
    expect(page.locator("#inbox nav.tabs")).to_contain_text("Accepted (1)")
    expect(page.locator("#inbox-badge")).to_have_text("")  # refreshed on inboxChanged

    page.locator("#inbox nav.tabs").get_by_role("link", name=re.compile("Accepted")).click()
    accepted = page.locator("#inbox tbody tr", has_text=image.name)
    expect(accepted.locator(".badge")).to_have_text("accepted")
    expect(page).to_have_url(re.compile(r"status=accepted"))

    # The partner's image list shows it under "Shared with me (accepted)", with its owner.
    page.get_by_role("link", name="Images", exact=True).click()
    page.get_by_role("link", name="Shared with me (accepted)").click()
    row = page.locator("#image-rows tbody tr", has_text=image.name)
    expect(row).to_contain_text("owner-project")


def test_select_all_then_accept_selected(page, live_server, login, partner_project, localcloud):
    cache.clear()
    owner = Connection.from_config(localcloud.cloud_config("owner", "owner-project"))
    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    made = [
        owner.image.create_image(
            name=f"bulk-{n}-{uuid.uuid4().hex[:4]}",
            disk_format="raw",
            container_format="bare",
            visibility="shared",
        )
        for n in range(2)
    ]
    try:
        for image in made:
            owner.image.add_member(image, member=partner.auth.project_id)
        from imsportal.projects.models import ProjectRole

        login("viewer", "bulk-approver")
        user = ProjectRole.objects.get(role="viewer").user
        ProjectRole.objects.create(user=user, project=partner_project, role="approver")
        page.goto(f"{live_server.url}/p/partner/images/shared/")
        page.get_by_label("Select every row on this page").check()
        for image in made:
            expect(page.get_by_label(f"Select {image.name}")).to_be_checked()
        page.get_by_role("button", name="Accept selected").click()
        expect(page.locator("#messages")).to_contain_text("Accepted 2")
        expect(page.locator("#inbox nav.tabs")).to_contain_text("Accepted (2)")
        statuses = {partner.image.get_member(partner.auth.project_id, i).status for i in made}
        assert statuses == {"accepted"}
    finally:
        for image in made:
            owner.image.delete_image(image)
