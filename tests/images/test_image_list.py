"""The Images list: scopes, filters, sorting, marker paging with a trail, row refresh,
bulk actions, one API call per render, empty states."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from imsportal.audit.models import AuditEntry
from imsportal.cloudapi import Connection, NotFoundError

pytestmark = pytest.mark.django_db
ROW_ID = re.compile(r'<code class="muted id">([0-9a-f-]{36})</code>')


def ids_of(resp) -> list[str]:
    return ROW_ID.findall(resp.content.decode())


def test_sorting_by_name_both_ways(operator_client, owner_project):
    asc = operator_client.get("/p/owner/images/", {"sort_key": "name", "sort_dir": "asc"})
    names = re.findall(r'class="truncate" href="[^"]+" title="([^"]*)"', asc.content.decode())
    assert names == sorted(names)
    assert 'aria-sort="ascending"' in asc.content.decode()
    desc = operator_client.get("/p/owner/images/", {"sort_key": "name", "sort_dir": "desc"})
    names_desc = re.findall(r'class="truncate" href="[^"]+" title="([^"]*)"', desc.content.decode())
    assert names_desc == sorted(names_desc, reverse=True)
    # the header link toggles the direction and restarts paging
    assert "sort_key=name&amp;sort_dir=desc" in asc.content.decode()


def test_paging_forward_and_back_keeps_the_trail(operator_client, owner_project):
    params = {"limit": 10, "sort_key": "name", "sort_dir": "asc", "scope": "all"}
    first = operator_client.get("/p/owner/images/", params)
    body = first.content.decode()
    assert "Page 1" in body
    next_href = re.search(r'href="(\?[^"]+)"[^>]*rel="next"', body).group(1).replace("&amp;", "&")
    second = operator_client.get("/p/owner/images/" + next_href)
    assert "Page 2" in second.content.decode()
    assert not set(ids_of(first)) & set(ids_of(second))
    body2 = second.content.decode()
    prev_href = re.search(r'href="(\?[^"]+)"[^>]*rel="prev"', body2).group(1).replace("&amp;", "&")
    assert "marker" not in parse_qs(urlsplit(prev_href).query)  # back to the first page
    assert ids_of(operator_client.get("/p/owner/images/" + prev_href)) == ids_of(first)
    next2 = re.search(r'href="(\?[^"]+)"[^>]*rel="next"', body2)
    if next2:  # a third page: its Previous goes back to page 2's marker
        third = operator_client.get("/p/owner/images/" + next2.group(1).replace("&amp;", "&"))
        query = parse_qs(urlsplit(next2.group(1).replace("&amp;", "&")).query)
        assert query["trail"] == [parse_qs(urlsplit(next_href).query)["marker"][0]]
        assert "Page 3" in third.content.decode()


def test_scopes_choose_the_glance_query(operator_client, owner_project, monkeypatch):
    sent = []
    real_send = requests.Session.send

    def spy(self, request, **kwargs):
        sent.append(request.url)
        return real_send(self, request, **kwargs)

    operator_client.get("/p/owner/images/")
    monkeypatch.setattr(requests.Session, "send", spy)
    for scope, expected in [
        ("mine", "owner="),
        ("shared", "member_status=accepted"),
        ("public", "visibility=public"),
        ("community", "visibility=community"),
        ("all", "visibility=all"),
    ]:
        sent.clear()
        resp = operator_client.get("/p/owner/images/", {"scope": scope})
        assert resp.status_code == 200
        assert len(sent) == 1, sent
        assert expected in sent[0], (scope, sent)


def test_every_filter_reaches_glance(operator_client, owner_project, monkeypatch):
    sent = []
    real_send = requests.Session.send
    operator_client.get("/p/owner/images/")

    def spy(self, request, **kwargs):
        sent.append(request.url)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    resp = operator_client.get(
        "/p/owner/images/",
        {
            "scope": "all",
            "name": "x",
            "status": "active",
            "visibility": "private",
            "owner": "abc",
            "tag": "t",
            "disk_format": "raw",
            "container_format": "bare",
            "size_min": "1",
            "size_max": "2",
            "protected": "false",
            "hidden": "true",
            "created_after": "2026-01-01",
            "updated_before": "2027-01-01",
            "prop_key": "os_distro",
            "prop_value": "debian",
        },
    )
    assert resp.status_code == 200
    query = parse_qs(urlsplit(sent[0]).query)
    assert query["name"] == ["eq:x"]
    assert query["owner"] == ["abc"]
    assert query["size_min"] == ["1048576"]
    assert query["size_max"] == ["2097152"]
    assert query["os_hidden"] == ["true"]
    assert query["created_at"] == ["gte:2026-01-01T00:00:00Z"]
    assert query["updated_at"] == ["lt:2027-01-01T00:00:00Z"]
    assert query["os_distro"] == ["debian"]
    for key in ("status", "visibility", "tag", "disk_format", "container_format", "protected"):
        assert key in query


def test_filters_narrow_the_rows(operator_client, owner_project, make_image):
    big = make_image(data=b"x" * (2 * 1024 * 1024), tags=["big-one"], os_distro="zz-distro")
    resp = operator_client.get("/p/owner/images/", {"size_min": 1})
    assert ids_of(resp) == [big.id]
    assert ids_of(operator_client.get("/p/owner/images/", {"tag": "big-one"})) == [big.id]
    resp = operator_client.get(
        "/p/owner/images/", {"prop_key": "os_distro", "prop_value": "zz-distro"}
    )
    assert ids_of(resp) == [big.id]


def test_a_two_sided_time_range_is_a_form_error(operator_client, owner_project):
    resp = operator_client.get(
        "/p/owner/images/", {"created_after": "2026-01-01", "created_before": "2026-02-01"}
    )
    assert resp.status_code == 200
    assert "one bound" in resp.content.decode()


def test_shared_scope_tells_own_images_from_accepted_shares(
    operator_client, owner_project, partner_project, localcloud, make_image, cloud_conn
):
    partner = Connection.from_config(localcloud.cloud_config("partner", "partner-project"))
    theirs = partner.image.upload_image(
        "bare", "raw", b"p" * 100, name="partners-image", visibility="shared"
    )
    try:
        partner.image.add_member(theirs, member=cloud_conn.auth.project_id)
        cloud_conn.image.update_member(cloud_conn.auth.project_id, theirs, status="accepted")
        mine = make_image(name="my-shared", visibility="shared")
        body = operator_client.get("/p/owner/images/", {"scope": "shared"}).content.decode()
        row_theirs = re.search(rf'<tr id="row-{theirs.id}".*?</tr>', body, re.S).group(0)
        row_mine = re.search(rf'<tr id="row-{mine.id}".*?</tr>', body, re.S).group(0)
        assert "shared with you" in row_theirs
        assert "this project" in row_mine
        assert "this project" not in row_theirs
        # the user has no role in partner-project: its id, not its name
        assert f'<code title="project id">{partner.auth.project_id}</code>' in row_theirs
        from imsportal.projects.models import ProjectRole

        ProjectRole.objects.create(
            user=owner_project.roles.first().user, project=partner_project, role="viewer"
        )
        body = operator_client.get("/p/owner/images/", {"scope": "shared"}).content.decode()
        row_theirs = re.search(rf'<tr id="row-{theirs.id}".*?</tr>', body, re.S).group(0)
        assert "partner-project</span>" in row_theirs
    finally:
        partner.image.delete_image(theirs.id)


def test_transitional_rows_poll_and_settled_rows_stop(operator_client, owner_project, cloud_conn):
    queued = cloud_conn.image.create_image(name="q-row", disk_format="raw", container_format="bare")
    try:
        body = operator_client.get("/p/owner/images/", {"name": "q-row"}).content.decode()
        assert f'hx-get="/p/owner/images/{queued.id}/row/" hx-trigger="every 3s"' in body
        resp = operator_client.get(
            f"/p/owner/images/{queued.id}/row/", headers={"HX-Request": "true"}
        )
        assert resp.status_code == 200
        assert resp.content.decode().lstrip().startswith(f'<tr id="row-{queued.id}"')
    finally:
        cloud_conn.image.delete_image(queued.id)


def test_a_settled_row_stops_polling_with_286(operator_client, owner_project, make_image):
    image = make_image()
    resp = operator_client.get(f"/p/owner/images/{image.id}/row/", headers={"HX-Request": "true"})
    assert resp.status_code == 286
    assert "every 3s" not in resp.content.decode()
    assert "status-active" in resp.content.decode()


def test_one_api_call_per_render_with_filters_and_paging(
    operator_client, owner_project, monkeypatch
):
    operator_client.get("/p/owner/images/")
    calls = []
    real_send = requests.Session.send

    def counting_send(self, request, **kwargs):
        calls.append(request.url)
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    operator_client.get("/p/owner/images/", {"scope": "all", "limit": 10, "sort_key": "size"})
    assert len(calls) == 1, calls


def test_htmx_history_restore_gets_the_whole_page(operator_client, owner_project):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    body = operator_client.get(
        "/p/owner/images/", {"scope": "all"}, headers=headers
    ).content.decode()
    assert "<html" in body
    assert 'class="filters"' in body
    rows = operator_client.get("/p/owner/images/", headers={"HX-Request": "true"}).content.decode()
    assert rows.lstrip().startswith('<div id="image-rows">')


def test_empty_states_offer_a_next_step(operator_client, owner_project):
    body = operator_client.get("/p/owner/images/", {"name": "nothing-like-this"}).content.decode()
    assert "No images match these filters." in body
    assert "Clear the filters" in body


def test_a_project_without_images_points_operators_to_upload_and_create(
    operator_client, make_user, client, owner_project, monkeypatch
):
    from imsportal.cloudapi.image import ImageProxy, Page

    monkeypatch.setattr(ImageProxy, "list_page", lambda self, **query: Page([], None))
    body = operator_client.get("/p/owner/images/").content.decode()
    assert "This project has no images yet." in body
    assert 'href="/p/owner/images/upload/">Upload an image</a>' in body
    assert 'href="/p/owner/images/create/">create one with IMS</a>' in body
    client.force_login(make_user("reader", "viewer"))
    body = client.get("/p/owner/images/").content.decode()
    assert "This project has no images yet. Look at" in body
    assert "/p/owner/images/upload/" not in body


def test_row_menu_only_for_operators_and_own_images(operator_client, make_user, owner_project):
    from django.test import Client

    viewer_client = Client()
    viewer_client.force_login(make_user("viewer2", "viewer"))
    body = operator_client.get("/p/owner/images/", {"name": "cirros-0.6.2"}).content.decode()
    assert "Actions for cirros-0.6.2" in body
    assert 'form="bulk-form"' in body
    body = viewer_client.get("/p/owner/images/", {"name": "cirros-0.6.2"}).content.decode()
    assert "Actions for" not in body
    assert "bulk-form" not in body


def test_bulk_tag_and_delete_report_each_image(
    operator_client, owner_project, make_image, cloud_conn
):
    a, b = make_image(name="bulk-a"), make_image(name="bulk-b", protected=True)
    resp = operator_client.post(
        "/p/owner/images/bulk/",
        {"ids": [a.id, b.id], "action": "tag", "tag": "batch", "next": "/p/owner/images/"},
        follow=True,
    )
    body = resp.content.decode()
    assert "“bulk-a”: tagged “batch”." in body
    assert "“bulk-b”: tagged “batch”." in body
    assert cloud_conn.image.get_image(a.id).tags == ["batch"]
    # delete without confirmation: a confirmation page, nothing deleted
    resp = operator_client.post("/p/owner/images/bulk/", {"ids": [a.id, b.id], "action": "delete"})
    assert resp.status_code == 200
    assert "Delete 2 images?" in resp.content.decode()
    assert cloud_conn.image.get_image(a.id)
    resp = operator_client.post(
        "/p/owner/images/bulk/",
        {"ids": [a.id, b.id], "action": "delete", "confirm": "yes"},
        follow=True,
    )
    body = resp.content.decode()
    assert "“bulk-a”: deleted." in body
    assert "“bulk-b” is protected" in body
    with pytest.raises(NotFoundError):
        cloud_conn.image.get_image(a.id)
    assert cloud_conn.image.get_image(b.id).is_protected
    assert AuditEntry.objects.filter(action="image.delete", target_id=a.id).count() == 1
    assert AuditEntry.objects.filter(action="image.tag.add").count() == 2


def test_lists_vary_on_htmx(operator_client, owner_project):
    for path in ("/p/owner/images/", "/p/owner/images/cloud/"):
        resp = operator_client.get(path, headers={"HX-Request": "true"})
        assert "HX-Request" in resp["Vary"], path


def test_a_failing_cloud_is_a_banner_not_a_500(operator_client, owner_project, localcloud):
    operator_client.get("/p/owner/images/")
    localcloud.set_faults(error_status=500, error_count=1, path_prefix="/image/v2/images")
    try:
        resp = operator_client.get("/p/owner/images/", {"scope": "all"})
    finally:
        localcloud.clear_faults()
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'class="message error" role="alert"' in body
    assert "HTTP 500" in body
    assert 'class="tabs"' in body  # the page and its controls are still there


def test_scope_tabs_start_afresh(operator_client, owner_project):
    body = operator_client.get(
        "/p/owner/images/", {"name": "x", "scope": "public"}
    ).content.decode()
    assert '<a href="?scope=all">All I can see</a>' in body
    assert '<a href="?scope=public" aria-current="page">Public</a>' in body
    assert '<a href="?">My images</a>' in body


def test_a_gone_marker_offers_the_first_page(operator_client, owner_project):
    resp = operator_client.get(
        "/p/owner/images/", {"marker": "00000000-0000-0000-0000-000000000000", "name": "x"}
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'class="message error"' in body
    assert '<a href="?name=x">Start again from the first page</a>' in body


def test_a_list_page_reads_the_users_projects_once_and_no_secrets(operator_client, owner_project):
    """The header's project switcher and the Owner column share one query of the user's
    projects and roles; no query reads a project's secrets, and the session is cached."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    operator_client.get("/p/owner/images/")  # the session's first write
    with CaptureQueriesContext(connection) as queries:
        resp = operator_client.get("/p/owner/images/")
    assert resp.status_code == 200
    sqls = [q["sql"] for q in queries]
    # the user; the project with the user's roles there; all the user's projects with roles
    assert len(sqls) == 3, sqls
    assert not any("django_session" in sql for sql in sqls)
    for secret in ("password", "token", "secret_key"):
        assert not any(f'"projects_cloudproject"."{secret}"' in sql for sql in sqls), secret
        assert not any(f'p."{secret}"' in sql for sql in sqls), secret
    # the switcher is there, its current project marked (the main nav says aria-current="page")
    assert '<a href="/p/owner/images/" aria-current="true">' in resp.content.decode()
