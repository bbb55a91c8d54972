"""The read-only metadata-definition catalogue, shaped as Glance 33 answers it."""

from __future__ import annotations

from tests.localcloud.conftest import Api

NS = "/v2/metadefs/namespaces"


def test_namespaces_list_with_glances_links_and_associations(owner: Api):
    resp = owner.get(NS)
    assert resp.status_code == 200
    body = resp.json()
    assert body["first"] == NS
    assert body["schema"] == "/v2/schemas/metadefs/namespaces"
    assert "next" not in body
    by_name = {n["namespace"]: n for n in body["namespaces"]}
    assert {"OS::OperatingSystem", "OS::Compute::Hypervisor", "OS::Compute::LibvirtImage"} <= set(
        by_name
    )
    hyper = by_name["OS::Compute::Hypervisor"]
    assert hyper["display_name"] == "Hypervisor Selection"
    assert hyper["visibility"] == "public"
    assert hyper["protected"] is True
    assert hyper["owner"] == "admin"
    assert hyper["self"] == f"{NS}/OS::Compute::Hypervisor"
    assert hyper["schema"] == "/v2/schemas/metadefs/namespace"
    assert [a["name"] for a in hyper["resource_type_associations"]] == ["OS::Glance::Image"]
    # Listed namespaces do not carry their properties.
    assert "properties" not in hyper


def test_namespaces_filter_by_resource_type_and_page(owner: Api):
    flavors = owner.get(NS, params={"resource_types": "OS::Nova::Flavor"}).json()["namespaces"]
    assert flavors
    assert all(
        "OS::Nova::Flavor" in [a["name"] for a in n["resource_type_associations"]] for n in flavors
    )
    first = owner.get(NS, params={"limit": 2}).json()
    assert len(first["namespaces"]) == 2
    assert first["next"].startswith(f"{NS}?limit=2&marker=")
    second = owner.get(first["next"]).json()
    seen = [n["namespace"] for n in first["namespaces"] + second["namespaces"]]
    assert len(set(seen)) == 4


def test_a_namespace_shows_properties_with_allowed_values(owner: Api):
    resp = owner.get(f"{NS}/OS::Compute::Hypervisor")
    assert resp.status_code == 200
    props = resp.json()["properties"]
    assert "kvm" in props["hypervisor_type"]["enum"]
    assert props["hypervisor_type"]["type"] == "string"
    os_props = owner.get(f"{NS}/OS::OperatingSystem/properties").json()["properties"]
    assert {"os_distro", "os_version"} <= set(os_props)
    one = owner.get(f"{NS}/OS::OperatingSystem/properties/os_distro").json()
    assert one["name"] == "os_distro"
    assert one["title"] == "OS Distro"


def test_a_resource_type_prefixes_the_property_names(owner: Api):
    plain = owner.get(f"{NS}/OS::Compute::VirtCPUTopology").json()["properties"]
    image = owner.get(
        f"{NS}/OS::Compute::VirtCPUTopology", params={"resource_type": "OS::Glance::Image"}
    ).json()["properties"]
    assert "cpu_sockets" in plain
    assert "hw_cpu_sockets" in image
    assert set(image) == {f"hw_{name}" for name in plain}


def test_objects_and_resource_types(owner: Api):
    objects = owner.get(f"{NS}/OS::Software::DBMS/objects").json()
    assert objects["schema"] == "v2/schemas/metadefs/objects"
    names = [o["name"] for o in objects["objects"]]
    assert "MySQL" in names
    mysql = owner.get(f"{NS}/OS::Software::DBMS/objects/MySQL").json()
    assert mysql["self"] == f"{NS}/OS::Software::DBMS/objects/MySQL"
    assert mysql["properties"]
    types = [t["name"] for t in owner.get("/v2/metadefs/resource_types").json()["resource_types"]]
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= set(types)
    assocs = owner.get(f"{NS}/OS::Compute::VirtCPUTopology/resource_types").json()
    image = next(
        a for a in assocs["resource_type_associations"] if a["name"] == "OS::Glance::Image"
    )
    assert image["prefix"] == "hw_"


def test_missing_namespaces_and_writes(owner: Api):
    missing = owner.get(f"{NS}/OS::Nope")
    assert missing.status_code == 404
    assert "OS::Nope" in missing.json()["message"]
    assert owner.post(NS, json={"namespace": "mine"}).status_code == 405
    assert owner.delete(f"{NS}/OS::OperatingSystem").status_code == 405
    schema = owner.get("/v2/schemas/metadefs/namespace").json()
    assert schema["name"] == "namespace"
    assert "properties" in schema["properties"]


def test_metadefs_are_served_at_the_root_too(owner: Api):
    resp = requests_get_root(owner, NS)
    assert resp.status_code == 200
    assert resp.json()["namespaces"]


def requests_get_root(api: Api, path: str):
    return api.session.get(
        f"{api.cloud.url}{path}",
        headers={"X-Auth-Token": api.token, "Accept": "application/json"},
        timeout=30,
    )
