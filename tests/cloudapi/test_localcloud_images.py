"""Glance calls against the real local cloud: paging, limits, find/delete by name, updates,
tags, errors, retries and timeouts through fault injection."""

from __future__ import annotations

import uuid

import pytest

from imsportal import cloudapi

SEEDED = 12


def test_paging_follows_next_under_the_image_path_prefix(owner, request_log):
    names = [image.name for image in owner.image.images(page_size=5)]
    assert len(names) >= SEEDED
    assert len(set(names)) == len(names)
    pages = [p for m, p, _ in request_log.calls if m == "GET" and "/v2/images" in p]
    assert len(pages) >= 3
    assert all(p.startswith("/image/v2/images") for p in pages)  # prefix kept on next links
    assert any("marker=" in p for p in pages)


def test_limit_caps_the_total_and_fetches_only_what_it_needs(owner, request_log):
    assert len(list(owner.image.images(limit=4))) == 4
    assert request_log.count("GET", "/v2/images") == 1
    request_log.calls.clear()
    assert len(list(owner.image.images(limit=7, page_size=3))) == 7
    assert request_log.count("GET", "/v2/images") == 3


def test_images_is_lazy(owner, request_log):
    gen = owner.image.images(limit=2)
    assert request_log.count("GET", "/v2/images") == 0
    next(gen)
    assert request_log.count("GET", "/v2/images") == 1


def test_list_page_returns_a_marker_until_the_last_page(owner):
    first = owner.image.list_page(limit=5)
    assert len(first.items) == 5
    assert first.next_marker == first.items[-1].id
    second = owner.image.list_page(limit=5, marker=first.next_marker)
    assert not {i.id for i in first.items} & {i.id for i in second.items}


def test_filters_are_sent_as_glance_wants_them(owner):
    raw = list(owner.image.images(disk_format="raw"))
    assert raw
    assert all(i.disk_format == "raw" for i in raw)
    assert [i.name for i in owner.image.images(name="cirros-0.6.2")] == ["cirros-0.6.2"]
    assert all(not i.is_protected for i in owner.image.images(protected=False))


def test_get_and_find_image(owner):
    cirros = owner.image.find_image("cirros-0.6.2")
    assert cirros is not None
    assert cirros.name == "cirros-0.6.2"
    assert owner.image.get_image(cirros).id == cirros.id
    assert owner.image.find_image(cirros.id).id == cirros.id
    assert cirros.properties["os_distro"] == "cirros"  # custom properties kept
    assert owner.image.find_image("no-such-image") is None
    with pytest.raises(cloudapi.NotFoundError):
        owner.image.find_image("no-such-image", ignore_missing=False)
    with pytest.raises(cloudapi.NotFoundError) as info:
        owner.image.get_image(str(uuid.uuid4()))
    assert info.value.request_id
    assert "No image found" in info.value.message
    assert "<br" not in info.value.message


def test_find_image_refuses_to_guess_between_duplicates(owner, scratch_images):
    name = f"dup-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        scratch_images.append(owner.image.create_image(name=name).id)
    with pytest.raises(cloudapi.DuplicateResourceError):
        owner.image.find_image(name)
    with pytest.raises(cloudapi.DuplicateResourceError):
        owner.image.delete_image(name)


def test_delete_by_name_deletes_that_image(owner, request_log):
    name = f"byname-{uuid.uuid4().hex[:8]}"
    image = owner.image.create_image(name=name, disk_format="raw", container_format="bare")
    assert owner.image.delete_image(name) is None
    with pytest.raises(cloudapi.NotFoundError):
        owner.image.get_image(image.id)
    request_log.calls.clear()
    owner.image.delete_image(image.id)  # gone: one DELETE, then one name lookup (two lists)
    assert [(m, s) for m, p, s in request_log.calls] == [
        ("DELETE", 404),
        ("GET", 200),
        ("GET", 200),
    ]
    owner.image.delete_image(name)  # gone: ignored
    with pytest.raises(cloudapi.NotFoundError):
        owner.image.delete_image(name, ignore_missing=False)
    with pytest.raises(cloudapi.NotFoundError):
        owner.image.delete_image(image, ignore_missing=False)


def test_update_image_patches_base_and_custom_properties(owner, scratch_images):
    image = owner.image.create_image(name="before", os_distro="x")
    scratch_images.append(image.id)
    updated = owner.image.update_image(
        image, name="after", min_ram=512, os_version="1", os_distro=None
    )
    assert updated.name == "after"
    assert updated.min_ram == 512
    assert updated.properties.get("os_version") == "1"
    assert "os_distro" not in updated.properties
    with pytest.raises(cloudapi.ForbiddenError):
        owner.image.update_image(image, status="active")


def test_tags_are_added_and_removed(owner, scratch_images):
    image = owner.image.create_image(name="tagged")
    scratch_images.append(image.id)
    owner.image.add_tag(image, "a b=c")
    owner.image.add_tag(image.id, "plain")
    owner.image.add_tag(image.id, "plain")  # idempotent
    assert sorted(owner.image.get_image(image).tags) == ["a b=c", "plain"]
    owner.image.remove_tag(image, "a b=c")
    assert owner.image.get_image(image).tags == ["plain"]
    with pytest.raises(cloudapi.NotFoundError):
        owner.image.remove_tag(image, "never-there")


def test_protected_images_cannot_be_deleted(owner, scratch_images):
    image = owner.image.create_image(name="guarded", is_protected=True)
    scratch_images.append(image.id)
    assert image.is_protected
    with pytest.raises(cloudapi.ForbiddenError):
        owner.image.delete_image(image.id)
    owner.image.update_image(image, is_protected=False)


def test_deactivate_and_reactivate(owner, scratch_images):
    image = owner.image.upload_image("bare", "raw", data=b"\0" * 4096, name="deact")
    scratch_images.append(image.id)
    owner.image.deactivate_image(image)
    assert owner.image.get_image(image).status == "deactivated"
    owner.image.deactivate_image(image)  # no-op
    with pytest.raises(cloudapi.ForbiddenError):
        owner.image.download_image(image)
    owner.image.reactivate_image(image)
    assert owner.image.get_image(image).status == "active"
    queued = owner.image.create_image(name="q")
    scratch_images.append(queued.id)
    with pytest.raises(cloudapi.ForbiddenError):
        owner.image.deactivate_image(queued)


def test_bad_filters_and_create_errors_map_to_exceptions(owner):
    with pytest.raises(cloudapi.BadRequestError):
        list(owner.image.images(limit=5, marker="not-an-image"))
    with pytest.raises(cloudapi.BadRequestError):
        owner.image.create_image(name="x", min_ram=-1)
    with pytest.raises(cloudapi.ForbiddenError):
        owner.image.create_image(name="x", status="active")
    image_id = str(uuid.uuid4())
    owner.image.create_image(id=image_id, name="once")
    try:
        with pytest.raises(cloudapi.ConflictError):
            owner.image.create_image(id=image_id, name="twice")
    finally:
        owner.image.delete_image(image_id)


def test_a_get_is_retried_through_503s(owner, faults, request_log):
    list(owner.image.images(limit=1))  # authenticate first
    request_log.calls.clear()
    faults.set(error_count=2, error_status=503, path_prefix="/image/v2/images")
    assert len(list(owner.image.images(limit=2))) == 2
    assert [s for m, p, s in request_log.calls] == [503, 503, 200]


def test_a_post_create_is_not_retried_on_503(owner, faults, request_log):
    list(owner.image.images(limit=1))
    before = {i.id for i in owner.image.images()}
    request_log.calls.clear()
    faults.set(error_count=1, error_status=503, path_prefix="/image/v2/images")
    with pytest.raises(cloudapi.ServiceUnavailableError):
        owner.image.create_image(name="never")
    assert [(m, s) for m, p, s in request_log.calls] == [("POST", 503)]
    faults.clear()
    assert {i.id for i in owner.image.images()} == before


def test_retry_after_from_the_server_is_honoured(localcloud, connect, faults):
    sleeps: list[float] = []
    conn = connect(retries=2)
    conn.http._sleep = sleeps.append
    list(conn.image.images(limit=1))
    faults.set(error_count=1, error_status=429, retry_after=3, path_prefix="/image/v2/images")
    assert list(conn.image.images(limit=1))
    assert sleeps == [3.0]


def test_persistent_503s_end_in_a_transient_error(connect, faults):
    conn = connect(retries=2)
    conn.http._sleep = lambda s: None
    list(conn.image.images(limit=1))
    faults.set(error_rate=1.0, error_status=503, path_prefix="/image/v2/images")
    with pytest.raises(cloudapi.TransientError) as info:
        list(conn.image.images(limit=1))
    assert info.value.status_code == 503


def test_the_read_timeout_applies(connect, faults):
    conn = connect(read_timeout=0.3, retries=0)
    conn.auth.timeout = (5.0, 30.0)  # Keystone hashes the password: slower than 0.3 s
    list(conn.image.images(limit=1))
    faults.set(latency_ms=1500, path_prefix="/image/v2/images")
    with pytest.raises(cloudapi.ConnectionFailed, match="timed out"):
        list(conn.image.images(limit=1))


def test_an_unreachable_cloud_is_a_connection_failure(localcloud):
    from tests.localcloud_server import free_port

    conn = cloudapi.Connection(
        cloudapi.StaticTokenAuth("t", {"image": f"http://127.0.0.1:{free_port()}/image"}),
        retries=1,
        sleep=lambda s: None,
    )
    with pytest.raises(cloudapi.ConnectionFailed, match="connection refused"):
        list(conn.image.images())


def test_a_wrong_endpoint_path_is_reported_as_such(localcloud, owner):
    conn = cloudapi.Connection(
        cloudapi.StaticTokenAuth(owner.auth.get_token(), {"image": localcloud.url + "/image/v9"})
    )
    with pytest.raises(cloudapi.ApiError, match="endpoint URL is wrong") as info:
        list(conn.image.images())
    assert info.value.status_code == 300
