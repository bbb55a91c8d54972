"""The compute subset: the seeded servers in Nova's and Huawei ECS's list formats, scoped
to the caller's project, so IMS's create-from-server has ids to use."""

from __future__ import annotations

import requests

from tests.localcloud.conftest import Api

UUID_LEN = 36


def get(api: Api, path: str, **kwargs) -> requests.Response:
    return requests.get(
        f"{api.cloud.url}{path}", headers={"X-Auth-Token": api.token}, timeout=30, **kwargs
    )


def test_the_catalog_has_a_compute_endpoint_that_answers(owner):
    catalog = requests.get(
        f"{owner.cloud.auth_url}/auth/catalog", headers={"X-Auth-Token": owner.token}, timeout=30
    ).json()["catalog"]
    [compute] = [s for s in catalog if s["type"] == "compute"]
    url = next(e["url"] for e in compute["endpoints"] if e["interface"] == "public")
    assert url == f"{owner.cloud.url}/compute/v2.1"
    version = requests.get(url, timeout=30)
    assert version.json()["version"]["id"] == "v2.1"


def test_servers_lists_the_projects_servers_in_novas_format(owner, partner):
    resp = get(owner, "/compute/v2.1/servers")
    assert resp.status_code == 200
    servers = resp.json()["servers"]
    assert sorted(s["name"] for s in servers) == ["ecs-db-01", "ecs-web-01"]
    for server in servers:
        assert set(server) == {"id", "name", "links"}
        assert len(server["id"]) == UUID_LEN
        assert [link["rel"] for link in server["links"]] == ["self", "bookmark"]
    theirs = get(partner, "/v2.1/servers").json()["servers"]
    assert [s["name"] for s in theirs] == ["ecs-app-01"]


def test_servers_detail_has_status_flavor_and_image_metadata(owner):
    resp = get(owner, "/v2.1/servers/detail")
    assert resp.status_code == 200
    by_name = {s["name"]: s for s in resp.json()["servers"]}
    web = by_name["ecs-web-01"]
    assert web["status"] == "ACTIVE"
    assert by_name["ecs-db-01"]["status"] == "SHUTOFF"
    assert by_name["ecs-db-01"]["OS-EXT-STS:vm_state"] == "stopped"
    assert web["tenant_id"] == owner.project_id
    assert web["flavor"]["id"] == "s6.medium.2"
    assert web["image"] == ""  # booted from a volume, as ECS servers are
    assert web["metadata"]["image_name"] == "Ubuntu 22.04 server 64bit"
    assert web["metadata"]["os_type"] == "Linux"
    shown = get(owner, f"/compute/v2.1/servers/{web['id']}")
    assert shown.json()["server"] == web

    filtered = get(owner, "/v2.1/servers/detail", params={"status": "SHUTOFF"})
    assert [s["name"] for s in filtered.json()["servers"]] == ["ecs-db-01"]
    assert len(get(owner, "/v2.1/servers", params={"limit": 1}).json()["servers"]) == 1


def test_another_projects_server_is_not_found(owner, partner):
    theirs = get(partner, "/v2.1/servers").json()["servers"][0]["id"]
    resp = get(owner, f"/v2.1/servers/{theirs}")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["code"] == 404


def test_servers_need_a_token(owner):
    resp = requests.get(f"{owner.cloud.url}/v2.1/servers", timeout=30)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401


def test_ecs_lists_cloudservers_of_the_project_in_the_path(owner, partner):
    resp = get(owner, f"/v1/{owner.project_id}/cloudservers/detail")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 2
    web = next(s for s in body["servers"] if s["name"] == "ecs-web-01")
    assert web["flavor"] == {
        "id": "s6.medium.2",
        "name": "s6.medium.2",
        "vcpus": "1",
        "ram": "2048",
        "disk": "0",
    }
    assert web["metadata"]["image_name"] == "Ubuntu 22.04 server 64bit"
    other = get(owner, f"/v1/{partner.project_id}/cloudservers/detail")
    assert other.status_code == 403
