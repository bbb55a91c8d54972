"""The image pages in Chromium: filter, sort and page through 60 images (with Back), tags
added and removed in place, find by prefix and by a pasted id, delete with the dialog."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imsportal.cloudapi import ApiError, Connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BATCH = "bt60"


@pytest.fixture(scope="module")
def sixty_images(localcloud):
    """60 tiny images named bt60-00 … bt60-59, tagged bt60; deleted afterwards."""
    conn = Connection.from_config(localcloud.cloud_config())
    made = []
    try:
        for n in range(60):
            made.append(
                conn.image.upload_image(
                    "bare", "raw", b"%02d" % n, name=f"{BATCH}-{n:02d}", tags=[BATCH]
                ).id
            )
        yield made
    finally:
        for image_id in made:
            try:
                conn.image.delete_image(image_id)
            except ApiError:
                pass


@pytest.fixture
def one_image(localcloud):
    conn = Connection.from_config(localcloud.cloud_config())
    image = conn.image.upload_image("bare", "raw", b"abc", name="browser-one")
    yield image
    try:
        conn.image.delete_image(image.id)
    except ApiError:
        pass


def first_name(page) -> str:
    return page.locator("#image-rows tbody tr td.name a").first.inner_text()


def test_filter_sort_and_page_through_sixty_with_back(
    page, live_server, login, owner_project, sixty_images
):
    login("viewer")
    page.goto(f"{live_server.url}/p/owner/images/")
    page.get_by_text("More filters").click()
    page.get_by_label("Tag", exact=True).fill(BATCH)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"tag={BATCH}"))
    rows = page.locator("#image-rows tbody tr")
    expect(rows).to_have_count(20)

    page.get_by_role("link", name="Name").click()  # ascending
    expect(page).to_have_url(re.compile(r"sort_key=name&sort_dir=asc"))
    expect(rows.first).to_contain_text(f"{BATCH}-00")
    page.get_by_role("link", name="Name").click()  # descending
    expect(rows.first).to_contain_text(f"{BATCH}-59")
    page.get_by_role("link", name="Name").click()  # ascending again
    expect(rows.first).to_contain_text(f"{BATCH}-00")

    page.get_by_role("link", name="Next →").click()
    expect(rows.first).to_contain_text(f"{BATCH}-20")
    expect(page.locator("[data-page-table]")).to_be_focused()
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    page.get_by_role("link", name="Next →").click()
    expect(rows.first).to_contain_text(f"{BATCH}-40")
    expect(rows).to_have_count(20)
    page.get_by_role("link", name="← Previous").click()
    expect(rows.first).to_contain_text(f"{BATCH}-20")
    page.get_by_role("link", name="← Previous").click()
    expect(rows.first).to_contain_text(f"{BATCH}-00")

    # Back walks the same way in reverse, rows and controls restored.
    page.go_back()
    expect(rows.first).to_contain_text(f"{BATCH}-20")
    page.go_back()
    expect(rows.first).to_contain_text(f"{BATCH}-40")
    expect(page).to_have_url(re.compile(r"trail="))
    page.go_back()
    page.go_back()
    expect(rows.first).to_contain_text(f"{BATCH}-00")
    expect(page.get_by_label("Tag", exact=True)).to_have_value(BATCH)
    # a reload of a paged URL gives the same rows (URL state)
    page.goto(page.url)
    expect(rows.first).to_contain_text(f"{BATCH}-00")
    expect(page.get_by_label("Tag", exact=True)).to_have_value(BATCH)


def test_add_and_remove_a_tag_inline(page, live_server, login, owner_project, one_image):
    login("operator")
    page.goto(f"{live_server.url}/p/owner/images/{one_image.id}/")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("New tag for browser-one").fill("inline-tag")
    page.get_by_role("button", name="Add", exact=True).click()
    chips = page.locator(f"#tags-{one_image.id} .chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("inline-tag")
    # a duplicate is a field error, in place
    page.get_by_label("New tag for browser-one").fill("inline-tag")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("already has this tag")
    page.get_by_role("button", name="Remove tag inline-tag").click()
    expect(chips).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True

    # the same chips in the list, with the add form folded behind "+ tag"
    page.goto(f"{live_server.url}/p/owner/images/?name=browser-one")
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#row-{one_image.id}")
    row.get_by_text("+ tag").click()
    row.get_by_label("New tag for browser-one").fill("from-list")
    row.get_by_role("button", name="Add", exact=True).click()
    expect(row.locator(".chip")).to_have_count(1)
    expect(row.locator(".chip")).to_contain_text("from-list")
    expect(row.get_by_text("+ tag")).to_be_visible()  # folded again
    row.get_by_role("button", name="Remove tag from-list").click()
    expect(row.locator(".chip")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True


def test_find_by_prefix_and_by_pasted_id(page, live_server, login, owner_project, one_image):
    login("viewer")
    search = page.get_by_role("searchbox", name="Find an image by name or id")
    search.fill("BROWSER-O")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/images/find/\?q=BROWSER-O"))
    page.get_by_role("link", name="browser-one").click()
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/{one_image.id}/")
    search = page.get_by_role("searchbox", name="Find an image by name or id")
    search.fill(one_image.id)
    search.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/{one_image.id}/")
    expect(page.get_by_role("heading", name="browser-one")).to_be_visible()
    search = page.get_by_role("searchbox", name="Find an image by name or id")
    search.fill("no-such-image-anywhere")
    search.press("Enter")
    expect(page.get_by_text("Not found:")).to_be_visible()


def test_delete_with_the_confirmation(page, live_server, login, owner_project, one_image):
    login("operator")
    page.goto(f"{live_server.url}/p/owner/images/{one_image.id}/")
    page.get_by_role("button", name="Delete…").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete image “browser-one”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/{one_image.id}/")
    page.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete image").click()
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/")
    toast = page.get_by_role("status").filter(has_text="Deleted image")
    expect(toast).to_contain_text("browser-one")
    toast.get_by_role("button", name="Dismiss this message").click()
    expect(toast).to_have_count(0)


def test_bulk_delete_asks_once_and_reports_each_image(
    page, live_server, login, owner_project, localcloud
):
    conn = Connection.from_config(localcloud.cloud_config())
    made = [
        conn.image.upload_image("bare", "raw", b"z", name=f"bulk-{n}", tags=["bulkb"])
        for n in (1, 2)
    ]
    try:
        login("operator")
        page.goto(f"{live_server.url}/p/owner/images/?tag=bulkb")
        for image in made:
            page.get_by_label(f"Select {image.name}").check()
        page.get_by_role("button", name="Delete…").click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_contain_text("Delete the selected images?")
        dialog.get_by_role("button", name="Delete images").click()
        expect(page.locator("#messages")).to_contain_text("“bulk-1”: deleted.")
        expect(page.locator("#messages")).to_contain_text("“bulk-2”: deleted.")
        expect(page.locator("#image-rows tbody tr")).to_have_count(1)  # the empty state
    finally:
        for image in made:
            try:
                conn.image.delete_image(image.id)
            except ApiError:
                pass


def test_a_twenty_row_page_stays_short_on_a_phone(
    page, live_server, login, owner_project, sixty_images
):
    login("operator")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/p/owner/images/?tag={BATCH}&limit=20")
    expect(page.locator("#image-rows tbody tr")).to_have_count(20)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 4000, height
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # no sideways scrolling


def test_a_queued_row_refreshes_itself_until_active(
    page, live_server, login, owner_project, localcloud
):
    import requests

    conn = Connection.from_config(localcloud.cloud_config())
    image = conn.image.create_image(name="settling", disk_format="raw", container_format="bare")
    try:
        login("viewer")
        page.goto(f"{live_server.url}/p/owner/images/?name=settling")
        row = page.locator(f"#row-{image.id}")
        expect(row.locator(".badge.status-queued")).to_be_visible()
        # The data arrives from elsewhere (another client); the row notices by itself.
        resp = requests.put(
            f"{conn.image.root}/v2/images/{image.id}/file",
            data=b"settled",
            headers={
                "X-Auth-Token": conn.auth.get_token(),
                "Content-Type": "application/octet-stream",
            },
            timeout=10,
        )
        assert resp.status_code == 204
        expect(row.locator(".badge.status-active")).to_be_visible(timeout=10_000)
        expect(row).not_to_have_attribute("hx-trigger", "every 3s")
    finally:
        conn.image.delete_image(image.id)


def test_a_filter_change_keeps_the_chosen_order(
    page, live_server, login, owner_project, sixty_images
):
    login("viewer")
    page.goto(f"{live_server.url}/p/owner/images/?tag={BATCH}")
    rows = page.locator("#image-rows tbody tr")
    page.get_by_role("link", name="Name").click()
    expect(rows.first).to_contain_text(f"{BATCH}-00")
    expect(page.locator("[data-page-table]")).to_be_focused()  # settled: new links are live
    # A slow settle (20 ms by default) makes the race certain: the user changes a filter
    # after the new rows show but before htmx settles them; the form must know the order.
    page.evaluate("htmx.config.defaultSettleDelay = 1000")
    page.get_by_role("link", name="Name").click()  # descending
    expect(rows.first).to_contain_text(f"{BATCH}-59")
    page.get_by_label("Per page").select_option("50")  # a filter change, sent by htmx
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(f"{BATCH}-59")
    expect(page).to_have_url(re.compile(r"sort_key=name&sort_dir=desc"))
