"""Two tabs on two projects never act on each other's project: the project an action is for
comes from the page's URL, not from the session that the other tab's switch changed."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from imsportal.audit.models import AuditEntry
from imsportal.cloudapi import Connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def offered(localcloud):
    owner = Connection.from_config(localcloud.cloud_config("owner", "owner-project"))
    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    image = owner.image.create_image(
        name=f"two-tabs-{uuid.uuid4().hex[:6]}",
        disk_format="raw",
        container_format="bare",
        visibility="shared",
    )
    owner.image.add_member(image, member=partner.auth.project_id)
    yield image, partner
    owner.image.delete_image(image)


def test_a_form_from_tab_a_acts_on_tab_as_project_after_tab_b_switched(
    page, live_server, login, owner_project, partner_project, offered
):
    cache.clear()
    image, partner = offered
    login("operator", "two-tabs")  # operator in owner-project
    from imsportal.projects.models import ProjectRole

    user = ProjectRole.objects.get(project=owner_project).user
    ProjectRole.objects.create(user=user, project=owner_project, role="approver")
    ProjectRole.objects.create(user=user, project=partner_project, role="approver")

    # Tab A: the partner's inbox, with the owner's offer pending.
    page.goto(f"{live_server.url}/p/partner/images/shared/")
    row = page.locator("#inbox tbody tr", has_text=image.name)
    expect(row).to_contain_text("owner-project")

    # Tab B, same browser session: switch to owner-project in the header.
    tab_b = page.context.new_page()
    tab_b.goto(f"{live_server.url}/p/partner/images/shared/")
    tab_b.locator("details.switcher summary").click()
    tab_b.locator("details.switcher").get_by_role("link", name="owner-project").click()
    expect(tab_b).to_have_url(f"{live_server.url}/p/owner/images/shared/")
    tab_b.goto(f"{live_server.url}/")
    expect(tab_b).to_have_url(re.compile(r"/p/owner/images/$"))  # the session now says owner

    # Tab A posts its form: it acts for partner-project, the project of its page.
    row.get_by_role("button", name=re.compile(r"^Accept")).click()
    expect(page.locator("#messages")).to_contain_text(f"Accepted 1: {image.name}")
    member = partner.image.get_member(partner.auth.project_id, image)
    assert member.status == "accepted"
    entry = AuditEntry.objects.get(action="image.accept", target_id=image.id)
    assert entry.project_name == "partner-project"
    assert entry.request_id.startswith("req-")
    expect(page.locator("details.switcher .project-name")).to_have_text("partner-project")
