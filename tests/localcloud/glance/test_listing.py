"""GET /v2/images: every filter and operator, limit, marker, links and sorting (reference §1.3)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.localcloud.conftest import Api

pytestmark = pytest.mark.usefixtures("cleanup")


@pytest.fixture(scope="module")
def suite(owner: Api) -> Iterator[dict]:
    """Seven images tagged with one run-unique property, so filters see only them."""
    key = uuid.uuid4().hex[:10]
    specs = [
        ("alpha", "raw", ["red"], b"a" * 10),
        ("beta", "qcow2", ["red", "blue"], None),
        ("gamma, the third", "raw", ["blue"], b"c" * 3000),
        ("delta", "iso", [], None),
        ("eps:ilon", "raw", ["red"], b"e" * 500),
        ("zeta", "vhd", ["red", "blue", "green"], None),
        (None, "raw", [], b"h" * 2000),
    ]
    images = {}
    for name, disk_format, tags, data in specs:
        img = owner.create(
            name=name, disk_format=disk_format, container_format="bare", tags=tags, suite=key
        )
        if data is not None:
            assert owner.upload(img["id"], data).status_code == 204
        images[name] = owner.image(img["id"])
    yield {"key": key, "images": images}
    # Leave the session's server as found: other modules list every image too.
    for img in images.values():
        owner.delete(f"/v2/images/{img['id']}")


def names(api: Api, suite: dict, query: str = "") -> list:
    ids = api.ids(f"?suite={suite['key']}{query}")
    by_id = {img["id"]: name for name, img in suite["images"].items()}
    return [by_id[i] for i in ids]


def assert_400(api: Api, query: str, text: str) -> None:
    resp = api.get(f"/v2/images?{query}")
    assert resp.status_code == 400, resp.text
    assert text in resp.json()["message"]


def test_name_exact_in_and_eq_with_a_colon(owner, suite):
    assert names(owner, suite, "&name=alpha") == ["alpha"]
    assert sorted(names(owner, suite, '&name=in:"gamma, the third",beta')) == [
        "beta",
        "gamma, the third",
    ]
    assert names(owner, suite, "&name=eq:eps:ilon") == ["eps:ilon"]
    assert_400(owner, "name=eps:ilon", "Unable to filter by unknown operator 'eps'.")


def test_id_status_and_formats_take_in(owner, suite):
    imgs = suite["images"]
    two = f"{imgs['alpha']['id']},{imgs['delta']['id']}"
    assert sorted(names(owner, suite, f"&id=in:{two}")) == ["alpha", "delta"]
    assert sorted(names(owner, suite, "&status=queued")) == ["beta", "delta", "zeta"]
    assert sorted(names(owner, suite, "&disk_format=in:iso,vhd")) == ["delta", "zeta"]
    assert names(owner, suite, "&container_format=eq:bare&disk_format=qcow2") == ["beta"]
    assert_400(owner, "status=gt:active", "unknown operator 'gt'")


def test_tags_repeat_for_and(owner, suite):
    assert sorted(names(owner, suite, "&tag=red")) == ["alpha", "beta", "eps:ilon", "zeta"]
    assert sorted(names(owner, suite, "&tag=red&tag=blue")) == ["beta", "zeta"]
    assert names(owner, suite, "&tag=red&tag=blue&tag=green") == ["zeta"]
    assert names(owner, suite, "&tag=nothing") == []


def test_size_range_is_inclusive_and_numeric(owner, suite):
    assert sorted(names(owner, suite, "&size_min=500&size_max=2000"), key=str) == [
        None,
        "eps:ilon",
    ]
    assert names(owner, suite, "&size_min=2001") == ["gamma, the third"]
    assert_400(owner, "size_min=big", "non-numeric")


def test_created_at_operators(owner, suite):
    delta = suite["images"]["delta"]
    stamp = delta["created_at"]
    assert "delta" in names(owner, suite, f"&created_at={stamp}")
    assert "delta" in names(owner, suite, f"&created_at=lte:{stamp}")
    assert "delta" in names(owner, suite, f"&created_at=gte:{stamp}")
    assert "delta" not in names(owner, suite, f"&created_at=gt:{stamp}")
    assert "delta" not in names(owner, suite, f"&created_at=lt:{stamp}")
    assert "delta" not in names(owner, suite, f"&created_at=neq:{stamp}")
    assert "delta" in names(owner, suite, "&updated_at=gt:2000-01-01T00:00:00Z")
    assert names(owner, suite, "&updated_at=lt:2000-01-01T00:00:00%2B01:00") == []
    assert_400(owner, "created_at=gt:yesterday", "created_at")
    assert_400(owner, "created_at=around:2020-01-01T00:00:00Z", "unknown operator 'around'")


def test_protected_needs_lowercase_booleans(owner, suite):
    alpha = suite["images"]["alpha"]["id"]
    ops = [{"op": "replace", "path": "/protected", "value": True}]
    assert owner.patch(f"/v2/images/{alpha}", ops).status_code == 200
    try:
        assert names(owner, suite, "&protected=true") == ["alpha"]
        assert "alpha" not in names(owner, suite, "&protected=false")
        assert_400(owner, "protected=True", "Valid values are 'true' or 'false'")
    finally:
        ops[0]["value"] = False
        assert owner.patch(f"/v2/images/{alpha}", ops).status_code == 200


def test_hidden_images_only_on_request(owner, suite):
    hidden = owner.create(os_hidden=True, suite=suite["key"], name="hidden")
    try:
        assert hidden["os_hidden"] is True
        assert hidden["id"] not in owner.ids(f"?suite={suite['key']}")
        assert owner.ids(f"?suite={suite['key']}&os_hidden=true") == [hidden["id"]]
        assert owner.ids(f"?suite={suite['key']}&os_hidden=TRUE") == [hidden["id"]]
        assert_400(owner, "os_hidden=maybe", "os_hidden")
    finally:
        assert owner.delete(f"/v2/images/{hidden['id']}").status_code == 204


def test_unknown_keys_filter_on_custom_properties(owner, suite):
    assert len(names(owner, suite)) == 7
    assert names(owner, suite, "&name=zeta&no_such_property=1") == []
    os_distros = owner.ids("?os_distro=ubuntu")
    assert len(os_distros) == 2  # the seed's two Ubuntu images
    assert_400(owner, "changes-since=2020-01-01T00:00:00Z", "changes-since")


def test_visibility_and_member_status_are_validated(owner):
    assert_400(owner, "visibility=everyone", "visibility")
    assert_400(owner, "member_status=maybe", "maybe")


def test_limit_default_cap_and_validation(admin, owner, suite):
    extra = [owner.create()["id"] for _ in range(7)]  # with the seed's 12 and the suite's 7
    page = admin.get("/v2/images").json()
    assert len(page["images"]) == 25
    assert "next" in page
    for image_id in extra:
        owner.delete(f"/v2/images/{image_id}")
    capped = admin.get("/v2/images?limit=5000")
    assert capped.status_code == 200
    assert "limit=5000" in capped.json()["first"]
    assert len(capped.json()["images"]) < 1000
    assert "next" not in capped.json()
    assert owner.get("/v2/images?limit=0").json()["images"] == []
    assert "next" not in owner.get("/v2/images?limit=0").json()
    assert_400(owner, "limit=-1", "limit param must be positive")
    assert_400(owner, "limit=ten", "limit param must be an integer")


def test_marker_paging_is_complete_and_links_keep_params(owner, suite):
    query = f"/v2/images?suite={suite['key']}&limit=3&sort_key=name&sort_dir=asc"
    first = owner.get(query).json()
    assert first["first"] == f"/v2/images?suite={suite['key']}&limit=3&sort_key=name&sort_dir=asc"
    seen, path, pages = [], query, 0
    while path:
        body = owner.get(path).json()
        seen += [img["name"] for img in body["images"]]
        path = body.get("next")
        pages += 1
        if path:
            params = parse_qsl(urlsplit(path).query)
            assert path.startswith("/v2/images?")
            assert ("limit", "3") in params
            assert ("sort_key", "name") in params
            assert [v for k, v in params if k == "marker"] == [body["images"][-1]["id"]]
            assert "marker" not in body["first"]
    assert seen == [None, "alpha", "beta", "delta", "eps:ilon", "gamma, the third", "zeta"]
    assert pages == 3


def test_an_invisible_or_unknown_marker_is_a_400(owner, partner, suite):
    private = partner.create(visibility="private")
    try:
        assert_400(owner, f"marker={private['id']}", "marker")
        assert_400(owner, f"marker={uuid.uuid4()}", "marker")
    finally:
        partner.delete(f"/v2/images/{private['id']}")


def test_sort_keys_directions_and_new_syntax(owner, suite):
    by_format = names(owner, suite, "&sort_key=disk_format&sort_key=name&sort_dir=asc")
    assert by_format == [
        "delta",
        "beta",
        None,
        "alpha",
        "eps:ilon",
        "gamma, the third",
        "zeta",
    ]
    mixed = names(
        owner, suite, "&sort_key=disk_format&sort_dir=desc&sort_key=name&sort_dir=asc&limit=2"
    )
    assert mixed == ["zeta", None, "alpha", "eps:ilon", "gamma, the third", "beta", "delta"]
    assert names(owner, suite, "&sort=disk_format:desc,name:asc&limit=2") == mixed
    # A direction left out in sort= means desc.
    assert names(owner, suite, "&sort=size,name:asc&limit=2")[:3] == [
        "gamma, the third",
        None,
        "eps:ilon",
    ]
    by_size = names(owner, suite, "&sort_key=size&sort_dir=asc&limit=2")
    assert by_size[-4:] == ["alpha", "eps:ilon", None, "gamma, the third"]
    assert_400(owner, "sort_key=owner", "Invalid sort key: owner")
    assert_400(owner, "sort_dir=up", "Invalid sort direction: up")
    assert_400(owner, "sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc", "match")
    assert_400(owner, "sort=name:asc&sort_key=id", "cannot be combined")


def test_community_images_of_others_need_asking(owner, third):
    community = third.create(visibility="community", name="community-one")
    try:
        cid = community["id"]
        assert cid not in owner.ids()
        assert cid in owner.ids("?visibility=community")
        assert cid in owner.ids("?visibility=all")
        assert owner.get(f"/v2/images/{cid}").status_code == 200
        assert cid in third.ids()  # its own community image is in its default list
        # Not the owner: may read, may not change.
        ops = [{"op": "replace", "path": "/name", "value": "mine"}]
        assert owner.patch(f"/v2/images/{cid}", ops).status_code == 403
    finally:
        third.delete(f"/v2/images/{community['id']}")


def test_visibility_filters_for_a_regular_project(owner, partner, suite):
    own_private = owner.create(visibility="private")
    try:
        assert own_private["id"] in owner.ids("?visibility=private")
        assert own_private["id"] not in owner.ids("?visibility=shared")
        assert suite["images"]["alpha"]["id"] in owner.ids("?visibility=shared")
        assert own_private["id"] not in partner.ids("?visibility=all")
        assert partner.ids("?visibility=private") == [
            i
            for i in partner.ids("?visibility=private")
            if partner.image(i)["owner"] == partner.project_id
        ]
    finally:
        owner.delete(f"/v2/images/{own_private['id']}")


def test_admin_sees_every_project_and_ignores_member_status(admin, partner):
    private = partner.create(visibility="private")
    try:
        assert private["id"] in admin.ids("?visibility=private")
        assert private["id"] in admin.ids(f"?owner={partner.project_id}&member_status=pending")
        assert admin.get(f"/v2/images/{private['id']}").status_code == 200
    finally:
        partner.delete(f"/v2/images/{private['id']}")


def test_ims_double_underscore_filters_and_fields(owner, partner, suite):
    # IMS's Glance-compatible list takes the __ filters and returns the __ attributes.
    listed = owner.get(f"/v2/images?suite={suite['key']}").json()["images"]
    assert listed
    for image in listed:
        assert image["__imagetype"] == "private"
        assert image["__isregistered"] == "true"
        assert image["__os_type"] in ("Linux", "Windows", "Other")
        assert "__platform" in image
    assert names(owner, suite, "&__imagetype=private") == names(owner, suite)
    assert names(owner, suite, "&__imagetype=gold") == []
    assert names(owner, suite, "&__isregistered=TRUE&__os_bit=64") == names(owner, suite)

    # The seeded images: the platform comes from os_distro.
    ubuntu = owner.get("/v2/images?__platform=Ubuntu&__os_type=Linux").json()["images"]
    assert sorted(i["name"] for i in ubuntu) == ["ubuntu-22.04-server", "ubuntu-24.04-server"]
    assert all(i["__platform"] == "Ubuntu" for i in ubuntu)
    assert owner.get("/v2/images?__platform=Ubuntu&__imagetype=gold").json()["images"] == []
    # The partner sees none of the owner's private images, whatever the filter.
    assert partner.get("/v2/images?__platform=Ubuntu").json()["images"] == []
    # Paging still counts only the matches.
    first = owner.get("/v2/images?__platform=Ubuntu&limit=1").json()
    assert len(first["images"]) == 1
    assert "__platform=Ubuntu" in first["next"]
    # The image document from a GET carries them too, from the caller's point of view.
    one = suite["images"]["alpha"]["id"]
    assert owner.image(one)["__imagetype"] == "private"
