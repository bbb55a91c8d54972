"""The Cloud images page lists IMS's view of the images from the local cloud over HTTP."""

import re

import pytest

pytestmark = pytest.mark.django_db
ROW_ID = re.compile(r'<code class="muted id">([0-9a-f-]{36})</code>')


def test_lists_images_with_ims_attributes(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/cloud/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "cirros-0.6.2" in body
    # __imagetype of the owner's own images, in the row (the filter's options say "private" too)
    assert '<td data-label="Type">private</td>' in body


def test_filter_by_type_reaches_ims(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/cloud/", {"imagetype": "gold"})
    body = resp.content.decode()
    assert "cirros-0.6.2" not in body
    assert "No images match." in body


def test_htmx_request_gets_only_rows(operator_client, owner_project):
    resp = operator_client.get(
        "/p/owner/images/cloud/", {"name": "cirros-0.6.2"}, headers={"HX-Request": "true"}
    )
    body = resp.content.decode()
    assert body.lstrip().startswith('<div id="cloudimage-rows">')
    assert "cirros-0.6.2" in body


def test_paging_uses_the_marker(operator_client, owner_project):
    first = operator_client.get("/p/owner/images/cloud/", {"limit": 10}).content.decode()
    first_ids = ROW_ID.findall(first)
    assert len(first_ids) == 10
    marker = re.search(r"marker=([0-9a-f-]{36})", first).group(1)
    assert marker == first_ids[-1]
    second = operator_client.get(
        "/p/owner/images/cloud/", {"marker": marker, "limit": 10}
    ).content.decode()
    second_ids = ROW_ID.findall(second)
    assert second_ids
    assert not set(first_ids) & set(second_ids)


def test_bad_filter_value_is_a_form_error(operator_client, owner_project):
    resp = operator_client.get("/p/owner/images/cloud/", {"imagetype": "bogus"})
    assert resp.status_code == 200
    assert "Invalid filter" in resp.content.decode()


def test_cloud_error_is_readable(operator_client, owner_project):
    owner_project.password = "nope"
    owner_project.save()
    resp = operator_client.get("/p/owner/images/cloud/")
    assert resp.status_code == 200
    assert "HTTP 401" in resp.content.decode()
