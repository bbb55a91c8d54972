"""An htmx request from a logged-out user (an expired session) gets a whole-page redirect to
the login page, not the login page inside a table cell, and its polling stops."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/p/owner/images/?name=web"}


def test_an_htmx_request_gets_hx_redirect_to_the_login_page(client):
    resp = client.get("/p/owner/images/", {"name": "web"}, headers=HTMX)
    assert resp.status_code == 286  # htmx stops polling
    assert resp["HX-Redirect"] == "/login/?next=/p/owner/images/%3Fname%3Dweb"
    assert "Location" not in resp
    assert b"<form" not in resp.content


def test_a_polled_job_status_stops_and_returns_to_the_page_after_login(client):
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/p/owner/jobs/"}
    resp = client.get("/p/owner/jobs/1/status", headers=headers)
    assert resp.status_code == 286
    assert resp["HX-Redirect"] == "/login/?next=/p/owner/jobs/"


def test_a_current_url_on_another_origin_is_not_a_next_page(client):
    headers = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"}
    resp = client.get("/p/owner/images/", headers=headers)
    assert resp["HX-Redirect"] == "/login/"


def test_a_plain_request_still_gets_a_302(client):
    resp = client.get("/p/owner/images/")
    assert resp.status_code == 302
    assert resp["Location"] == "/login/?next=/p/owner/images/"
    assert "HX-Redirect" not in resp
