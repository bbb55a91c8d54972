"""Log in in a real browser and see the local cloud's demo images."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_then_see_demo_images(page, live_server, login, owner_project):
    page.goto(f"{live_server.url}/p/owner/images/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/p/owner/images/"))

    login("operator")
    expect(page).to_have_url(f"{live_server.url}/p/owner/images/")
    expect(page.get_by_role("heading", name="Images")).to_be_visible()
    table = page.locator("#image-rows table")
    expect(table).to_contain_text("cirros-0.6.2")
    expect(table).to_contain_text("ubuntu-24.04-server")
    expect(page.get_by_role("link", name="Images", exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def test_wrong_password_shows_an_error(page, live_server, make_user):
    make_user("someone", "viewer", password="Right-pass-1")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("someone")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")


def test_filter_by_name_updates_rows_with_htmx(page, live_server, login, owner_project):
    login("viewer")
    page.get_by_label("Name", exact=True).fill("debian-12-generic")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#image-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("debian-12-generic")
    expect(page).to_have_url(re.compile(r"name=debian-12-generic"))


def test_logout(page, live_server, login, owner_project):
    login("viewer")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto(f"{live_server.url}/p/owner/jobs/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/p/owner/jobs/"))
