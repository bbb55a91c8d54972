"""The Images page lists the local cloud's images over real HTTP."""

import pytest

pytestmark = pytest.mark.django_db


def test_images_page_lists_demo_images(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "cirros-0.6.2" in body
    assert "ubuntu-24.04-server" in body


def test_images_page_filters_by_name(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/", {"name": "debian-12-generic"})
    body = resp.content.decode()
    assert "debian-12-generic" in body
    assert "cirros-0.6.2" not in body


def test_htmx_request_renders_only_the_rows(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert body.lstrip().startswith('<div id="image-rows">')
    assert "<html" not in body


def test_unreachable_cloud_is_a_readable_message_not_a_500(operator_client, owner_project):
    from tests.localcloud_server import free_port

    port = free_port()
    owner_project.auth_url = f"http://127.0.0.1:{port}/identity/v3"
    owner_project.save()
    resp = operator_client.get("/p/owner/images/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "Cannot reach the identity service: connection refused" in body
    assert f":{port}" not in body  # no internal address in what users see


def test_wrong_password_shows_the_cloud_message(operator_client, owner_project):
    owner_project.password = "wrong"
    owner_project.save()
    resp = operator_client.get("/p/owner/images/")
    body = resp.content.decode()
    assert "requires authentication" in body
    assert "HTTP 401" in body
    assert "request id req-" in body


def test_viewer_may_list(viewer_client, owner_project):
    assert viewer_client.get("/p/owner/images/").status_code == 200


def test_user_without_role_does_not_see_the_project(client, make_user, owner_project):
    client.force_login(make_user("nobody", role=None))
    assert client.get("/p/owner/images/").status_code == 404


def test_one_api_call_per_page_render(operator_client, owner_project, monkeypatch):
    import requests

    operator_client.get("/p/owner/images/")  # the first render also fetches a token
    calls = []
    real_send = requests.Session.send

    def counting_send(self, request, **kwargs):
        calls.append(f"{request.method} {request.url}")
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    resp = operator_client.get("/p/owner/images/", {"status": "active"})
    assert resp.status_code == 200
    assert len(calls) == 1, calls
    assert "/image/v2/images?" in calls[0]


@pytest.mark.parametrize("url", ["/p/owner/images/", "/p/owner/images/cloud/"])
def test_a_history_restore_request_gets_the_whole_page(operator_client, owner_project, url):
    """Back after filtering: htmx asks again with HX-History-Restore-Request when its
    history cache missed, and swaps the answer in as the whole page."""
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    resp = operator_client.get(url, {"name": "cirros-0.6.2"}, headers=headers)
    body = resp.content.decode()
    assert "<html" in body
    assert 'value="cirros-0.6.2"' in body  # the filter controls keep their values
    assert "HX-Request" in resp["Vary"]


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_list_pages_vary_on_hx_request(operator_client, owner_project, headers):
    resp = operator_client.get("/p/owner/images/", headers=headers)
    assert "HX-Request" in resp["Vary"]
