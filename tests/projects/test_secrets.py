"""Project secrets: encrypted at rest, rotated keys still read, never rendered or logged."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from imsportal.audit.models import AuditEntry
from imsportal.projects.models import CloudProject

pytestmark = pytest.mark.django_db
SECRET = "hunter2-Very-Secret-value"


def raw_column(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM projects_cloudproject WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_secrets_are_encrypted_in_the_database(owner_project):
    owner_project.password = SECRET
    owner_project.secret_key = SECRET + "-sk"
    owner_project.save()
    for column in ("password", "secret_key"):
        raw = raw_column(owner_project.pk, column)
        assert SECRET not in raw
        assert raw.startswith("gAAAA")  # a Fernet token
    assert CloudProject.objects.get(pk=owner_project.pk).password == SECRET


def test_a_rotated_key_still_reads_and_save_reencrypts(settings, owner_project):
    old_key = settings.ENCRYPTION_KEYS[0]
    owner_project.password = SECRET
    owner_project.save()
    old_token = raw_column(owner_project.pk, "password")

    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    project = CloudProject.objects.get(pk=owner_project.pk)
    assert project.password == SECRET  # read with the old key
    project.save()
    new_token = raw_column(owner_project.pk, "password")
    assert new_token != old_token
    assert Fernet(new_key.encode()).decrypt(new_token.encode()).decode() == SECRET

    settings.ENCRYPTION_KEYS = [new_key]  # the old key retired: still readable
    assert CloudProject.objects.get(pk=owner_project.pk).password == SECRET


def test_a_missing_key_is_a_clear_error_without_the_token(settings, owner_project):
    from django.core.exceptions import ImproperlyConfigured

    owner_project.password = SECRET
    owner_project.save()
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted") as e:
        CloudProject.objects.get(pk=owner_project.pk)
    assert "gAAAA" not in str(e.value)


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="Root-pass-123")
    client.force_login(admin)
    return client


def test_secrets_never_in_pages_logs_or_audit(admin_client, owner_project, caplog):
    """Save secrets through the form, run every project page and action, then look for them
    in the HTML, the captured logs and the audit entries."""
    caplog.set_level(logging.DEBUG)
    pages = []
    resp = admin_client.post(
        "/projects/owner/",
        {
            "name": "owner-project",
            "slug": "owner",
            "auth_type": "password",
            "auth_url": owner_project.auth_url,
            "username": "owner",
            "user_domain_name": "Default",
            "password": "owner-demo-password",
            "project_name": "owner-project",
            "project_domain_name": "Default",
            "interface": "public",
        },
        follow=True,
    )
    pages.append(resp.content.decode())
    pages.append(admin_client.get("/projects/").content.decode())
    pages.append(admin_client.get("/projects/owner/").content.decode())
    pages.append(admin_client.post("/projects/owner/test", follow=True).content.decode())
    pages.append(admin_client.get("/audit/").content.decode())
    pages.append(b"".join(admin_client.get("/audit/export.csv").streaming_content).decode())
    # A wrong password: the failure is shown, the password is not.
    admin_client.post("/projects/owner/", {**_form(owner_project), "password": SECRET})
    pages.append(admin_client.post("/projects/owner/test", follow=True).content.decode())
    text = "\n".join(pages) + caplog.text + repr(list(AuditEntry.objects.values()))
    assert "Connected to project owner-project" in pages[3]
    assert "Connection failed" in pages[-1]
    for secret in ("owner-demo-password", SECRET):
        assert secret not in text


def _form(project) -> dict:
    return {
        "name": project.name,
        "slug": project.slug,
        "auth_type": project.auth_type,
        "auth_url": project.auth_url,
        "username": project.username,
        "user_domain_name": project.user_domain_name,
        "project_name": project.project_name,
        "project_domain_name": project.project_domain_name,
        "interface": project.interface,
    }


def test_blank_secret_keeps_the_stored_one(admin_client, owner_project):
    resp = admin_client.post("/projects/owner/", {**_form(owner_project), "region": "RegionOne"})
    assert resp.status_code == 302
    project = CloudProject.objects.get(pk=owner_project.pk)
    assert project.password == "owner-demo-password"
    assert project.region == "RegionOne"
    page = admin_client.get("/projects/owner/").content.decode()
    assert "Stored; leave blank to keep it." in page


def test_changing_the_auth_type_drops_the_old_secret(admin_client, owner_project):
    data = {
        **_form(owner_project),
        "auth_type": "aksk",
        "access_key": "OWNERDEMOACCESSKEY01",
        "secret_key": "ownerDemoSecretKey0000000000000000000001",
        "project_id": "p-1",
        "image_endpoint": "http://127.0.0.1:1/image",
    }
    assert admin_client.post("/projects/owner/", data).status_code == 302
    project = CloudProject.objects.get(pk=owner_project.pk)
    assert project.password == ""
    assert project.secret_key == "ownerDemoSecretKey0000000000000000000001"
    page = admin_client.get("/projects/owner/").content.decode()
    assert "ownerDemoSecretKey" not in page
    assert "OWNERDEMOACCESSKEY01" in page  # the access key is an identifier, not a secret
