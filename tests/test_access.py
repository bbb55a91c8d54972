"""Every portal URL needs a login, and every page checks the role on the server."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"login", "logout", "healthz"}
SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.uuid4()), "path": "x"}


def walk(patterns, prefix=""):
    for p in patterns:
        route = str(p.pattern)
        if isinstance(p, URLResolver):
            if route.startswith("admin/"):
                continue  # Django admin has its own login, checked separately
            yield from walk(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern):
            yield p, prefix + route


def sample_path(route: str) -> str:
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)
    return "/" + path.lstrip("^").rstrip("$")


PORTAL_URLS = [(p.name, sample_path(r)) for p, r in walk(get_resolver().url_patterns)]


def test_the_walk_finds_the_pages():
    paths = {path for _, path in PORTAL_URLS}
    assert {"/images/", "/images/shared/", "/images/cloud/", "/jobs/", "/jobs/1/status"} <= paths


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), [u for u in PORTAL_URLS if u[0] not in PUBLIC])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, name, path, method):
    resp = getattr(client, method)(path)
    assert resp.status_code == 302, (name, path, resp.status_code)
    assert resp["Location"].startswith("/login/")


@pytest.mark.django_db
def test_admin_needs_its_own_login(client, make_user):
    assert client.get("/admin/").status_code == 302
    client.force_login(make_user("op", "operator"))
    resp = client.get("/admin/")
    assert resp.status_code == 302  # an operator is not staff
    assert "/admin/login/" in resp["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/images/", "/images/shared/", "/images/cloud/", "/jobs/", "/jobs/1/status"]
)
def test_logged_in_user_without_a_role_is_refused(client, make_user, path):
    client.force_login(make_user("nobody", role=None))
    assert client.get(path).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/images/", "/images/shared/", "/images/cloud/", "/jobs/", "/jobs/1/status"]
)
def test_no_role_is_refused_before_the_method_is_checked(client, make_user, path):
    client.force_login(make_user("nobody", role=None))
    assert client.post(path).status_code == 403


@pytest.mark.django_db
def test_pages_refuse_post(operator_client, cloud_settings):
    for path in ("/images/", "/images/shared/", "/jobs/"):
        assert operator_client.post(path).status_code == 405


@pytest.mark.django_db
def test_login_page_and_healthz_are_public(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)
