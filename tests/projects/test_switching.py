"""The header names the request's project and switches between the user's projects; the
client used is always the one of the project in the URL."""

import re
import threading

import pytest

from imsportal import cloud
from imsportal.projects.models import CloudProject

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_client(client, make_user, partner_project):
    user = make_user("both", ("operator", "approver"))
    user.project_roles.create(project=partner_project, role="viewer")
    client.force_login(user)
    return client


def test_header_shows_the_project_region_and_cloud_host(both_client, owner_project):
    owner_project.region = "RegionOne"
    owner_project.save()
    body = both_client.get("/p/owner/jobs/").content.decode()
    summary = body.split("<summary")[1].split("</summary>")[0]
    assert "owner-project" in summary
    assert "RegionOne · 127.0.0.1" in summary


def test_switcher_keeps_the_kind_of_page_and_lists_only_my_projects(
    client, make_user, partner_project, localcloud
):
    from tests.conftest import make_project

    make_project(localcloud, "hidden", name="hidden-project", username="owner")
    user = make_user("two", "viewer")
    user.project_roles.create(project=partner_project, role="viewer")
    client.force_login(user)
    body = client.get("/p/owner/images/cloud/").content.decode()
    switcher = body.split('<details class="switcher">')[1].split("</details>")[0]
    links = re.findall(r'<a href="([^"]+)"', switcher)
    assert links == ["/p/owner/images/cloud/", "/p/partner/images/cloud/"]
    assert "hidden-project" not in body


def test_switching_from_an_object_page_goes_to_that_apps_list(rf):
    """An object id means nothing in another project: the switcher goes to the app's list."""
    from django.urls import resolve

    from imsportal.projects.context_processors import switch_url

    request = rf.get("/p/owner/jobs/5/status")
    request.resolver_match = resolve("/p/owner/jobs/5/status")
    assert switch_url(request, "partner") == "/p/partner/jobs/"
    request.resolver_match = resolve("/p/owner/images/shared/")
    assert switch_url(request, "partner") == "/p/partner/images/shared/"
    request.resolver_match = resolve("/audit/")
    assert switch_url(request, "partner") == "/p/partner/images/"
    # A page that needs a role the user lacks in the other project: that app's list instead.
    request.resolver_match = resolve("/p/owner/images/share/")
    assert switch_url(request, "partner", frozenset({"viewer"})) == "/p/partner/images/"
    assert switch_url(request, "partner", frozenset({"operator"})) == "/p/partner/images/share/"


def test_home_goes_to_the_last_project_used(both_client):
    assert both_client.get("/")["Location"] == "/p/owner/images/"
    both_client.get("/p/partner/jobs/")
    assert both_client.get("/")["Location"] == "/p/partner/images/"


def test_a_user_without_a_project_gets_a_way_out(client, make_user, django_user_model):
    django_user_model.objects.create_superuser("boss", password="Boss-pass-123")
    client.force_login(make_user("nobody", role=None))
    resp = client.get("/")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert "You have no cloud project yet" in body
    assert "(boss)" in body
    assert 'action="/logout/"' in body
    # "Back to the portal" from a 403 or 404 lands here, not in a loop.
    assert 'href="/"' in client.get("/p/owner/images/").content.decode()
    assert client.get("/logout/").status_code == 200  # asks, instead of a 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/")["Location"].startswith("/login/")


def test_each_request_uses_the_client_of_its_urls_project(both_client, monkeypatch):
    """Pages of the two projects, interleaved, each list their own project's images."""
    seen = []
    real = cloud.connection_for

    def spy(project):
        seen.append(project.slug)
        return real(project)

    monkeypatch.setattr(cloud, "connection_for", spy)
    both_client.get("/p/owner/images/")
    both_client.get("/p/partner/images/")
    both_client.get("/p/owner/images/shared/")
    assert seen == ["owner", "partner", "owner"]


def test_connections_are_cached_per_credentials_version(owner_project):
    cloud.reset()
    first = cloud.connection_for(owner_project)
    assert cloud.connection_for(CloudProject.objects.get(pk=owner_project.pk)) is first
    token = first.auth.get_token()
    assert cloud.connection_for(owner_project).auth.get_token() == token  # reused

    owner_project.password = "changed"
    owner_project.save()
    second = cloud.connection_for(CloudProject.objects.get(pk=owner_project.pk))
    assert second is not first
    from imsportal.cloudapi import UnauthorizedError

    with pytest.raises(UnauthorizedError):
        second.auth.get_token()  # the new credential is used at the next call


def test_the_cache_is_thread_safe(owner_project):
    cloud.reset()
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(cloud.connection_for(owner_project)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1


def test_a_task_gets_the_projects_stored_credentials(owner_project):
    conn = cloud.cloudapi_for_project(owner_project.pk)
    assert conn.auth.username == "owner"
    assert conn.image.list_page(limit=1).items


def test_a_pages_project_leaves_the_secrets_encrypted_until_a_client_is_built(
    both_client, monkeypatch
):
    """get_project_for_user reads the project and the roles in one plain query without the
    secrets; building the project's client loads them, so the page's cloud call signs in."""
    from imsportal.projects import access

    held_at_start, built_from = [], []
    real_held, real_connection = access._project_with_roles, cloud.connection_for

    def held(slug, user_id):
        projects = real_held(slug, user_id)
        held_at_start.append(({p.role for p in projects}, projects[0].get_deferred_fields()))
        return projects

    def connection_for(project):
        built_from.append(project)
        return real_connection(project)

    monkeypatch.setattr(access, "_project_with_roles", held)
    monkeypatch.setattr(cloud, "connection_for", connection_for)
    cloud.reset()
    body = both_client.get("/p/owner/images/").content.decode()
    assert held_at_start == [({"operator", "approver"}, set(CloudProject.SECRET_FIELDS))]
    assert 'id="row-' in body  # the owner's images, listed with the stored password
    assert built_from[0].get_deferred_fields() == set()  # loaded when the client was built
