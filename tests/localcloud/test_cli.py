"""The ``openstack`` and ``glance`` command-line clients, configured with the usual OS_*
variables, run image, member, project-lookup and metadef commands against the local
cloud. Each command starts a new interpreter (a second or two), so the walk is short."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.localcloud.conftest import Api
from tests.localcloud_server import LocalCloud

BIN = Path(sys.executable).parent


def run(
    cloud: LocalCloud, home: Path, user: str, project: str, tool: str, *args: str
) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no clouds.yaml or cache from the machine
        "OS_AUTH_URL": cloud.auth_url,
        "OS_USERNAME": user,
        "OS_PASSWORD": f"{user}-demo-password",
        "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_IMAGE_API_VERSION": "2",
        "OS_INTERFACE": "public",
    }
    return subprocess.run(
        [str(BIN / tool), *args], env=env, capture_output=True, text=True, timeout=120
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


def test_openstack_cli_uploads_shares_and_the_partner_accepts(
    cloud: LocalCloud, home: Path, owner: Api, partner: Api, tmp_path: Path
):
    def owner_cli(*args: str) -> str:
        return ok(run(cloud, home, "owner", "owner-project", "openstack", *args))

    data = tmp_path / "disk.raw"
    data.write_bytes(os.urandom(64 * 1024))
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = json.loads(
        owner_cli(
            "image", "create", name, "--disk-format", "raw", "--container-format", "bare",
            "--shared", "--file", str(data), "--property", "purpose=cli", "-f", "json",
        )
    )  # fmt: skip
    image_id = created["id"]
    try:
        assert created["status"] == "active"
        listed = json.loads(owner_cli("image", "list", "--name", name, "-f", "json"))
        assert [i["ID"] for i in listed] == [image_id]

        # The partner's id: the owner may not look the project up (Keystone's 403),
        # so the CLI falls back to using what it was given.
        member = json.loads(
            owner_cli("image", "add", "project", image_id, partner.project_id, "-f", "json")
        )
        assert member["status"] == "pending"
        ok(run(cloud, home, "partner", "partner-project", "openstack",
               "image", "set", "--accept", image_id))  # fmt: skip
        members = json.loads(owner_cli("image", "member", "list", image_id, "-f", "json"))
        assert [(m["Member ID"], m["Status"]) for m in members] == [
            (partner.project_id, "accepted")
        ]
        owner_cli("image", "remove", "project", image_id, partner.project_id)
        assert json.loads(owner_cli("image", "member", "list", image_id, "-f", "json")) == []
    finally:
        owner_cli("image", "delete", image_id)


def test_openstack_cli_looks_up_its_own_projects(cloud: LocalCloud, home: Path, owner: Api):
    mine = json.loads(
        ok(run(cloud, home, "owner", "owner-project", "openstack",
               "project", "list", "--my-projects", "-f", "json"))
    )  # fmt: skip
    assert [p["Name"] for p in mine] == ["owner-project"]
    shown = json.loads(
        ok(run(cloud, home, "owner", "owner-project", "openstack",
               "project", "show", owner.project_id, "-f", "json"))
    )  # fmt: skip
    assert shown["name"] == "owner-project"
    # Listing every project is an admin's call: on Keystone's 403 the CLI falls back to
    # the user's own projects.
    listed = ok(run(cloud, home, "owner", "owner-project", "openstack", "project", "list"))
    assert "owner-project" in listed
    assert "partner-project" not in listed


def test_glance_cli_lists_and_shows_metadef_namespaces(cloud: LocalCloud, home: Path):
    listed = ok(run(cloud, home, "owner", "owner-project", "glance", "md-namespace-list"))
    assert "OS::Compute::Hypervisor" in listed
    assert "OS::OperatingSystem" in listed
    shown = ok(
        run(cloud, home, "owner", "owner-project", "glance",
            "md-namespace-show", "OS::Compute::Hypervisor")
    )  # fmt: skip
    assert "hypervisor_type" in shown
    assert "Hypervisor Selection" in shown
