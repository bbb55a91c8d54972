"""Find an image by id, exact name, prefix or substring, within a bounded number of calls."""

from __future__ import annotations

import pytest

from images.views import lists

pytestmark = pytest.mark.django_db
CIRROS = "8ec93389-e81c-5380-b6d6-d879652b7b6a"


def test_an_id_goes_straight_to_the_image(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/find/", {"q": f"  {CIRROS} "})
    assert resp["Location"] == f"/p/owner/images/{CIRROS}/"


def test_an_exact_name_goes_straight_to_the_image(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/find/", {"q": "cirros-0.6.2"})
    assert resp["Location"] == f"/p/owner/images/{CIRROS}/"


def test_several_with_that_name_give_a_choice(operator_client, owner_project, make_image):
    a, b = make_image(name="twin-name"), make_image(name="twin-name")
    body = operator_client.get("/p/owner/images/find/", {"q": "twin-name"}).content.decode()
    assert "2 images are named “twin-name”" in body
    assert f"/p/owner/images/{a.id}/" in body
    assert f"/p/owner/images/{b.id}/" in body


def test_a_prefix_lists_matches_case_insensitively(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/find/", {"q": "UBUNTU"}).content.decode()
    assert "ubuntu-24.04-server" in body
    assert "ubuntu-22.04-server" in body
    assert "cirros-0.6.2" not in body
    assert "start with or contain it" in body


def test_a_substring_matches_after_prefixes(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/find/", {"q": "generic"}).content.decode()
    assert "debian-12-generic" in body
    assert "rocky-9-generic" in body


def test_nothing_found_says_so(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/find/", {"q": "zzz-nothing"}).content.decode()
    assert "Not found:" in body
    assert "stopped early" not in body


def test_the_scan_is_bounded_and_says_it_stopped(operator_client, owner_project, monkeypatch):
    monkeypatch.setattr(lists, "FIND_PAGE", 2)
    monkeypatch.setattr(lists, "FIND_CALLS", 2)
    body = operator_client.get("/p/owner/images/find/", {"q": "zzz-nothing"}).content.decode()
    assert "among the first 4 images" in body
    assert "stopped early" in body


def test_the_header_has_the_search_box(operator_client, owner_project):
    body = operator_client.get("/p/owner/jobs/").content.decode()
    assert 'action="/p/owner/images/find/"' in body
    assert 'role="search"' in body


def test_a_cloud_error_is_readable(operator_client, owner_project, localcloud):
    operator_client.get("/p/owner/images/")
    localcloud.set_faults(error_status=500, error_count=3, path_prefix="/image/v2/images")
    try:
        resp = operator_client.get("/p/owner/images/find/", {"q": "cirros"})
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    assert "HTTP 500" in resp.content.decode()
