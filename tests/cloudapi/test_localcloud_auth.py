"""Keystone v3 auth against the real local cloud: scoping, catalog, tokens, re-auth."""

from __future__ import annotations

import time

import pytest
import requests

from imsportal import cloudapi
from imsportal.cloudapi import Connection, StaticTokenAuth
from imsportal.cloudapi.http import new_session
from tests.localcloud_server import start_localcloud


def test_it_scopes_by_project_name_and_domain_and_finds_the_image_endpoint(owner, localcloud):
    assert owner.auth.project_id
    assert owner.image.root == localcloud.image_url  # catalog URL, /image prefix kept
    assert any(image.name == "cirros-0.6.2" for image in owner.image.images())


def test_it_scopes_by_project_id(connect, owner):
    by_id = connect("owner", "", project_id=owner.auth.project_id)
    assert by_id.auth.project_id == owner.auth.project_id
    assert next(iter(by_id.image.images(limit=1))).owner == owner.auth.project_id


def test_the_two_projects_are_different(owner, partner):
    assert owner.auth.project_id != partner.auth.project_id


def test_a_bad_password_raises_unauthorized_with_keystones_message(connect):
    conn = connect("owner", "owner-project", password="wrong")
    with pytest.raises(cloudapi.UnauthorizedError) as info:
        conn.image.get_image("8ec93389-e81c-5380-b6d6-d879652b7b6a")
    assert info.value.message == "The request you have made requires authentication."
    assert info.value.status_code == 401


def test_a_missing_region_or_interface_raises_endpoint_not_found(connect):
    with pytest.raises(cloudapi.EndpointNotFound, match="region 'Mars'"):
        connect(region_name="Mars").image.root  # noqa: B018
    assert connect(region_name="RegionOne", interface="internal").image.root


def test_an_endpoint_override_wins_over_the_catalog(connect, localcloud):
    conn = connect(image_endpoint=localcloud.image_url + "/v2/")
    assert conn.image.root == localcloud.image_url
    assert next(iter(conn.image.images(limit=1))).id


def test_a_static_token_and_explicit_endpoint_work(owner, localcloud):
    token = owner.auth.get_token()
    conn = Connection(
        StaticTokenAuth(token, {"image": localcloud.image_url}, project_id=owner.auth.project_id)
    )
    assert [i.id for i in conn.image.images(limit=3)] == [i.id for i in owner.image.images(limit=3)]


def test_the_token_is_reused_across_requests(owner, request_log):
    list(owner.image.images(limit=2))
    list(owner.image.images(limit=2))
    assert request_log.count("POST", "/auth/tokens") == 1


def test_a_revoked_token_triggers_one_reauth_and_one_retry(owner, request_log, localcloud):
    list(owner.image.images(limit=1))
    old = owner.auth.get_token()
    revoke = requests.delete(
        f"{localcloud.auth_url}/auth/tokens",
        headers={"X-Auth-Token": old, "X-Subject-Token": old},
        timeout=10,
    )
    assert revoke.status_code == 204
    images = list(owner.image.images(limit=1))
    assert images
    assert owner.auth.get_token() != old
    statuses = [(m, s) for m, p, s in request_log.calls if "/v2/images" in p]
    assert statuses[-2:] == [("GET", 401), ("GET", 200)]
    assert request_log.count("POST", "/auth/tokens") == 2


def test_expired_tokens_are_renewed_through_a_401(owner, request_log, faults):
    list(owner.image.images(limit=1))
    faults.set(expire_tokens=True)
    assert list(owner.image.images(limit=1))
    assert request_log.count("POST", "/auth/tokens") == 2


@pytest.fixture(scope="module")
def short_ttl_cloud(tmp_path_factory):
    cloud = start_localcloud(tmp_path_factory.mktemp("ttl"), LOCALCLOUD_TOKEN_TTL="2")
    yield cloud
    cloud.stop()


def test_a_token_that_expires_between_calls_is_renewed_once(short_ttl_cloud, request_log):
    from datetime import timedelta

    session = new_session()
    session.hooks["response"].append(request_log.hook)
    conn = Connection.from_config(short_ttl_cloud.cloud_config(), session)
    # As if the client's clock were a minute behind the server's: the client still trusts
    # the token, so the server is the one that finds it expired.
    conn.auth.min_token_life = timedelta(seconds=-60)
    assert list(conn.image.images(limit=1))
    time.sleep(2.5)
    assert list(conn.image.images(limit=1))
    image_calls = [s for m, p, s in request_log.calls if "/v2/images" in p]
    assert image_calls == [200, 401, 200]
    assert request_log.count("POST", "/auth/tokens") == 2


def test_near_expiry_tokens_are_refreshed_before_use(short_ttl_cloud, request_log):
    session = new_session()
    session.hooks["response"].append(request_log.hook)
    conn = Connection.from_config(short_ttl_cloud.cloud_config(), session)
    # The default keeps 120 s in hand: a 2 s token is always renewed first, never a 401.
    for _ in range(3):
        assert list(conn.image.images(limit=1))
    assert [s for m, p, s in request_log.calls if "/v2/images" in p] == [200, 200, 200]
    assert request_log.count("POST", "/auth/tokens") >= 3  # one fresh token per call
