"""Superusers manage cloud projects in the portal: create, change, test, grant roles."""

import pytest
from django.core.management import call_command

from imsportal.audit.models import AuditEntry
from imsportal.projects.models import CloudProject, ProjectRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="Root-p-123"))
    return client


def new_project_data(localcloud, **extra) -> dict:
    return {
        "name": "Partner (demo)",
        "slug": "partner2",
        "auth_type": "password",
        "auth_url": localcloud.auth_url,
        "username": "partner",
        "user_domain_name": "Default",
        "password": "partner-demo-password",
        "project_name": "partner-project",
        "project_domain_name": "Default",
        "interface": "public",
        **extra,
    }


def test_create_a_project_then_test_its_connection(admin_client, localcloud):
    resp = admin_client.post("/projects/new/", new_project_data(localcloud))
    assert resp.status_code == 302
    assert resp["Location"] == "/projects/partner2/"
    project = CloudProject.objects.get(slug="partner2")
    entry = AuditEntry.objects.get(action="project.create")
    assert entry.username == "root"
    assert "password" in entry.params["fields"]
    assert "partner-demo-password" not in str(entry.params)

    resp = admin_client.post("/projects/partner2/test", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert resp.status_code == 200
    assert body.lstrip().startswith('<div id="connection-result"')
    assert "Connected. Project partner-project (" in body
    assert "user partner" in body
    assert f"{localcloud.url}/image" in body  # the catalog's image endpoint
    assert project.pk


def test_connection_failure_is_a_readable_reason(admin_client, owner_project):
    owner_project.password = "wrong"
    owner_project.save()
    resp = admin_client.post("/projects/owner/test", headers={"HX-Request": "true"})
    body = resp.content.decode()
    assert "Connection failed:" in body
    assert "HTTP 401" in body
    assert "request id req-" in body


def test_missing_fields_are_field_errors(admin_client, localcloud):
    data = new_project_data(localcloud, password="", auth_url="")
    resp = admin_client.post("/projects/new/", data)
    assert resp.status_code == 200
    body = resp.content.decode()
    assert body.count("Required for Keystone password authentication.") == 2
    assert not CloudProject.objects.filter(slug="partner2").exists()


def test_grant_and_revoke_roles_are_audited(admin_client, make_user, owner_project):
    bob = make_user("bob", role=None)
    resp = admin_client.post("/projects/owner/roles", {"user": "bob", "role": "approver"})
    assert resp.status_code == 302
    role = ProjectRole.objects.get(user=bob, project=owner_project)
    assert role.role == "approver"
    assert "bob" in admin_client.get("/projects/owner/").content.decode()

    admin_client.post(f"/projects/owner/roles/{role.pk}/revoke")
    assert not ProjectRole.objects.filter(user=bob).exists()
    entries = AuditEntry.objects.exclude(action="login").order_by("id")
    actions = list(entries.values_list("action", "target_id", "params"))
    assert actions == [
        ("role.grant", "bob", {"role": "approver"}),
        ("role.revoke", "bob", {"role": "approver"}),
    ]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/projects/", 403),
        ("get", "/projects/new/", 403),
        ("get", "/projects/owner/", 404),
        ("post", "/projects/owner/test", 404),
        ("post", "/projects/owner/roles", 404),
    ],
)
def test_only_superusers_manage_projects(client, make_user, method, path, status):
    client.force_login(make_user("op", ("operator", "approver")))
    assert getattr(client, method)(path).status_code == status
    assert not ProjectRole.objects.filter(user__username="op", role="viewer").exists()


def test_sync_cloud_project_registers_the_demo_projects_once(settings, localcloud):
    settings.CLOUD_PROJECT_FROM_ENV = False
    settings.LOCALCLOUD_DEMO_PROJECTS = [
        {**spec, "auth_url": localcloud.auth_url} for spec in settings.LOCALCLOUD_DEMO_PROJECTS
    ]
    call_command("sync_cloud_project")
    versions = dict(CloudProject.objects.values_list("slug", "credentials_version"))
    assert set(versions) == {"owner", "partner"}
    call_command("sync_cloud_project")
    assert dict(CloudProject.objects.values_list("slug", "credentials_version")) == versions
    assert AuditEntry.objects.filter(action="project.create").count() == 2


def test_sync_cloud_project_from_the_environment_updates_in_place(settings, localcloud):
    settings.CLOUD_PROJECT_FROM_ENV = True
    settings.CLOUD = {
        "slug": "prod",
        "name": "",
        "auth_type": "password",
        "auth_url": localcloud.auth_url,
        "username": "owner",
        "password": "owner-demo-password",
        "user_domain_name": "Default",
        "project_id": "",
        "project_name": "owner-project",
        "project_domain_name": "Default",
        "region": "",
        "interface": "public",
        "image_endpoint": "",
        "ims_endpoint": "",
        "token": "",
        "access_key": "",
        "secret_key": "",
    }
    call_command("sync_cloud_project")
    assert CloudProject.objects.get(slug="prod").name == "owner-project"
    settings.CLOUD = {**settings.CLOUD, "region": "RegionOne"}
    call_command("sync_cloud_project")
    prod = CloudProject.objects.get(slug="prod")
    assert prod.region == "RegionOne"
    assert CloudProject.objects.count() == 1
    update = AuditEntry.objects.get(action="project.update")
    assert update.params == {"fields": ["region"]}
