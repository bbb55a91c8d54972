"""/_admin/faults: injected latency, 503s, dropped uploads and expired tokens, switched
on and off per test against the running server."""

from __future__ import annotations

import time

import pytest
import requests

from tests.localcloud.conftest import Api
from tests.localcloud_server import start_localcloud

pytestmark = pytest.mark.usefixtures("cleanup")


def test_the_endpoint_needs_the_admin_token(cloud):
    url = f"{cloud.url}/_admin/faults"
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(url, headers={"X-Admin-Token": "wrong"}, timeout=10).status_code == 403
    assert cloud.faults()["error_count"] == 0


def test_bad_settings_are_400_and_nothing_changes(cloud, faults):
    for body in ({"error_rate": 2}, {"latency_ms": -1}, {"nope": 1}, {"error_count": "3"}):
        resp = requests.post(
            f"{cloud.url}/_admin/faults",
            json=body,
            headers={"X-Admin-Token": cloud.admin_token},
            timeout=10,
        )
        assert resp.status_code == 400, body
    assert cloud.faults()["error_rate"] == 0


def test_the_next_n_requests_get_503_with_retry_after(owner: Api, faults):
    faults.set_faults(error_count=2, retry_after=7)
    first, second, third = (owner.get("/v2/images?limit=1") for _ in range(3))
    for resp in (first, second):
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "7"
        assert resp.json()["code"] == "503 Service Unavailable"
        assert resp.headers["x-openstack-request-id"].startswith("req-")
    assert third.status_code == 200
    assert faults.faults()["error_count"] == 0


def test_a_path_prefix_limits_the_faults(owner: Api, faults):
    faults.set_faults(error_rate=1.0, error_status=502, path_prefix="/image/v2/schemas")
    assert owner.get("/v2/schemas/image").status_code == 502
    assert owner.get("/v2/images?limit=1").status_code == 200
    faults.set_faults(error_rate=0.0)
    assert owner.get("/v2/schemas/image").status_code == 200


def test_a_share_of_requests_fails(owner: Api, faults):
    faults.set_faults(error_rate=0.5)
    codes = [owner.get("/v2/images?limit=1").status_code for _ in range(40)]
    assert set(codes) == {200, 503}
    faults.clear_faults()
    assert owner.get("/v2/images?limit=1").status_code == 200


def test_latency_is_added(owner: Api, faults):
    started = time.monotonic()
    owner.get("/v2/images?limit=1")
    quick = time.monotonic() - started
    faults.set_faults(latency_ms=400)
    started = time.monotonic()
    assert owner.get("/v2/images?limit=1").status_code == 200
    assert time.monotonic() - started >= 0.4
    assert quick < 0.4


def test_tokens_can_be_expired_early(cloud, owner: Api, faults):
    api = Api(cloud, "owner", "owner-project")
    other = Api(cloud, "partner", "partner-project")
    assert api.get("/v2/images?limit=1").status_code == 200
    faults.set_faults(expire_tokens=[api.token, other.token])
    for expired in (api.get("/v2/images?limit=1"), other.get("/v2/images?limit=1")):
        assert expired.status_code == 401
        assert expired.headers["WWW-Authenticate"].startswith("Keystone uri=")
    assert owner.get("/v2/images?limit=1").status_code == 200  # not in the list
    api.login()  # a new token is not affected
    assert api.get("/v2/images?limit=1").status_code == 200


def test_expire_all_tokens(tmp_path):
    """On its own server: expiring every token would log out the session's other tests."""
    own = start_localcloud(tmp_path / "cloud")
    try:
        api = Api(own, "owner", "owner-project")
        own.set_faults(expire_tokens=True)
        assert api.get("/v2/images?limit=1").status_code == 401
        api.login()
        assert api.get("/v2/images?limit=1").status_code == 200
    finally:
        own.stop()
