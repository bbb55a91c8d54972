"""``conn.compute``: the project's servers from the local cloud's compute endpoint (found
in the catalog), as typed resources, for the IMS create-from-server form."""

from __future__ import annotations

import pytest
import responses

from imsportal.cloudapi import Connection, NotFoundError, Server, StaticTokenAuth


def test_servers_lists_the_projects_servers_with_details(owner, partner):
    servers = {s.name: s for s in owner.compute.servers()}
    assert sorted(servers) == ["ecs-db-01", "ecs-web-01"]
    web = servers["ecs-web-01"]
    assert isinstance(web, Server)
    assert web.status == "ACTIVE"
    assert servers["ecs-db-01"].status == "SHUTOFF"
    assert web.project_id == owner.auth.project_id
    assert web.flavor_id == "s6.medium.2"
    assert web.image_id == ""
    assert web.metadata["image_name"] == "Ubuntu 22.04 server 64bit"
    assert web.created_at is not None
    assert [s.name for s in partner.compute.servers()] == ["ecs-app-01"]


def test_servers_pages_by_marker_and_limit_caps_the_total(owner, request_log):
    every = [s.id for s in owner.compute.servers(details=False)]
    assert [s.id for s in owner.compute.servers(limit=1)] == every[:1]
    assert [s.id for s in owner.compute.servers(status="SHUTOFF")] == [
        s.id for s in owner.compute.servers() if s.status == "SHUTOFF"
    ]


def test_get_server_and_a_missing_one(owner, partner):
    web = next(s for s in owner.compute.servers() if s.name == "ecs-web-01")
    assert owner.compute.get_server(web.id) == web
    theirs = next(iter(partner.compute.servers()))
    with pytest.raises(NotFoundError):
        owner.compute.get_server(theirs.id)


def test_the_server_ids_create_an_ims_image(owner):
    web = next(s for s in owner.compute.servers() if s.name == "ecs-web-01")
    job = owner.ims.create_cloudimage(name="from-compute-list", instance_id=web.id)
    done = owner.ims.wait_for_job(job.job_id, timeout=30, interval=0.2)
    assert done.is_success
    owner.image.delete_image(done.image_ids[0])


@responses.activate
def test_servers_follows_novas_next_links():
    compute = "https://compute.example.com/v2.1"
    conn = Connection(StaticTokenAuth("t", {"compute": compute}))
    first = {
        "servers": [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}],
        "servers_links": [{"rel": "next", "href": f"{compute}/servers/detail?marker=b"}],
    }
    responses.get(
        f"{compute}/servers/detail",
        match=[responses.matchers.query_param_matcher({})],
        json=first,
    )
    responses.get(
        f"{compute}/servers/detail",
        match=[responses.matchers.query_param_matcher({"marker": "b"})],
        json={"servers": [{"id": "c", "name": "c", "flavor": {"original_name": "m1"}}]},
    )
    servers = list(conn.compute.servers())
    assert [s.id for s in servers] == ["a", "b", "c"]
    assert servers[2].flavor_id == "m1"
