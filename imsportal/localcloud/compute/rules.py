"""What the compute subset says about a seeded server, in Nova's and Huawei ECS's shapes.

The servers are the IMS sources (models.ims.Server). Like ECS servers they boot from a
volume, so Nova's ``image`` is ``""`` and the image facts are in ``metadata``; every seeded
server has the same small flavor.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from imsportal.localcloud.models import Server

FLAVOR = {"id": "s6.medium.2", "name": "s6.medium.2", "vcpus": 1, "ram": 2048}
AVAILABILITY_ZONE = "az1"
POWER_STATES = {"ACTIVE": (1, "active"), "SHUTOFF": (4, "stopped")}
HOST_NAMESPACE = uuid.UUID("5b0f0c6e-6f44-4b3e-8d7e-2f4a1c0e9a11")


def _ts(server: Server) -> str:
    return server.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def links(server: Server) -> list[dict[str, str]]:
    base = f"{settings.PUBLIC_URL}/compute"
    return [
        {"rel": "self", "href": f"{base}/v2.1/{server.project_id}/servers/{server.id}"},
        {"rel": "bookmark", "href": f"{base}/{server.project_id}/servers/{server.id}"},
    ]


def metadata(server: Server) -> dict[str, str]:
    # ECS keeps the source image's facts in the server metadata.
    return {
        "image_name": server.os_version,
        "os_type": server.os_type,
        "os_bit": server.os_bit,
        "__platform": server.platform,
        "charging_mode": "0",
    }


def nova_summary(server: Server) -> dict[str, Any]:
    return {"id": server.id, "name": server.name, "links": links(server)}


def nova_detail(server: Server, user_id: str) -> dict[str, Any]:
    power, vm_state = POWER_STATES.get(server.status, (0, "error"))
    return {
        "id": server.id,
        "name": server.name,
        "status": server.status,
        "tenant_id": server.project_id,
        "user_id": user_id,
        "metadata": metadata(server),
        "hostId": uuid.uuid5(HOST_NAMESPACE, server.project_id).hex,
        "image": "",
        "flavor": {
            "id": FLAVOR["id"],
            "links": [
                {
                    "rel": "bookmark",
                    "href": f"{settings.PUBLIC_URL}/compute/flavors/{FLAVOR['id']}",
                }
            ],
        },
        "created": _ts(server),
        "updated": _ts(server),
        "addresses": {},
        "accessIPv4": "",
        "accessIPv6": "",
        "progress": 0,
        "key_name": None,
        "config_drive": "",
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": AVAILABILITY_ZONE,
        "OS-EXT-STS:power_state": power,
        "OS-EXT-STS:task_state": None,
        "OS-EXT-STS:vm_state": vm_state,
        "OS-SRV-USG:launched_at": server.created_at.strftime("%Y-%m-%dT%H:%M:%S.000000"),
        "OS-SRV-USG:terminated_at": None,
        "os-extended-volumes:volumes_attached": [],
        "security_groups": [{"name": "default"}],
        "links": links(server),
    }


def ecs_detail(server: Server, user_id: str) -> dict[str, Any]:
    """A server as Huawei ECS ``GET /v1/{project_id}/cloudservers/detail`` lists it."""
    body = nova_detail(server, user_id)
    body["flavor"] = {
        "id": FLAVOR["id"],
        "name": FLAVOR["name"],
        "vcpus": str(FLAVOR["vcpus"]),
        "ram": str(FLAVOR["ram"]),
        "disk": "0",
    }
    body["image"] = {"id": ""}
    body["metadata"] |= {"image_id": ""}
    body["enterprise_project_id"] = "0"
    body["description"] = ""
    body["os-extended-volumes:volumes_attached"] = [
        {"id": str(uuid.uuid5(HOST_NAMESPACE, server.id)), "bootIndex": "0", "device": "/dev/vda"}
    ]
    return body
