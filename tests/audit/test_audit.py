"""The audit trail: what is recorded, with the cloud's request ids, and who can read it."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from imsportal import cloud
from imsportal.audit.models import AuditEntry
from imsportal.audit.record import audited, record
from imsportal.cloudapi import NotFoundError

pytestmark = pytest.mark.django_db


def test_logins_and_failed_logins_are_recorded(client, make_user):
    make_user("carol", "viewer", password="Carol-pass-123")
    assert (
        client.post("/login/", {"username": "carol", "password": "nope-guess"}).status_code == 200
    )
    client.post("/login/", {"username": "carol", "password": "Carol-pass-123"})
    failed, ok = AuditEntry.objects.filter(action="login").order_by("id")
    assert (failed.username, failed.outcome, failed.client_addr) == (
        "carol",
        "failure",
        "127.0.0.1",
    )
    assert (ok.username, ok.outcome) == ("carol", "success")
    assert "nope-guess" not in repr(list(AuditEntry.objects.values()))


def test_a_cloud_change_records_the_clouds_request_id(owner_project, make_user):
    conn = cloud.connection_for(owner_project)
    image = conn.image.find_image("cirros-0.6.2")
    user = make_user("op")
    with audited(
        "image.tag.add", conn, user=user, project=owner_project, target_id=image.id,
        target_name=image.name, params={"tag": "audited", "password": "hunter2"},
    ):  # fmt: skip
        conn.image.add_tag(image, "audited")
    rid = conn.http.last_request_id
    conn.image.remove_tag(image, "audited")
    entry = AuditEntry.objects.get(action="image.tag.add")
    assert entry.request_id == rid
    assert rid.startswith("req-")
    assert (entry.username, entry.project_name, entry.target_name) == (
        "op", "owner-project", "cirros-0.6.2",
    )  # fmt: skip
    assert entry.params == {"tag": "audited", "password": "[redacted]"}
    assert entry.outcome == "success"


def test_a_failed_cloud_change_records_the_error_and_reraises(owner_project):
    conn = cloud.connection_for(owner_project)
    missing = "00000000-0000-4000-8000-000000000000"
    with (
        pytest.raises(NotFoundError) as e,
        audited("image.tag.add", conn, project=owner_project, target_id=missing),
    ):
        conn.image.add_tag(missing, "x")
    entry = AuditEntry.objects.get(action="image.tag.add")
    assert entry.outcome == "failure"
    assert entry.request_id == e.value.request_id
    assert entry.request_id.startswith("req-")
    assert "HTTP 404" in entry.error


def test_entries_cannot_be_changed():
    entry = record("login", username="x")
    entry.action = "other"
    with pytest.raises(ValueError, match="never changed"):
        entry.save()


def test_the_admin_is_read_only(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="R-pass-123"))
    entry = record("login", username="x")
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403


@pytest.fixture
def entries(owner_project, partner_project):
    record("image.delete", username="alice", project=owner_project, target_name="img-a")
    record("image.share", username="bob", project=partner_project, target_name="img-b",
           outcome="failure", error="HTTP 409")  # fmt: skip
    old = record("image.tag.add", username="alice", project=owner_project, target_name="=cmd()")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=400))
    record("role.grant", username="root", target_name="alice")


def test_superusers_filter_everything(client, django_user_model, entries):
    client.force_login(django_user_model.objects.create_superuser("root", password="R-pass-123"))
    body = client.get("/audit/").content.decode()
    for name in ("img-a", "img-b", "=cmd()", "role.grant"):
        assert name in body
    body = client.get("/audit/", {"project": "partner", "outcome": "failure"}).content.decode()
    assert "img-b" in body
    assert "img-a" not in body
    assert "HTTP 409" in body
    today = timezone.localdate().isoformat()
    body = client.get("/audit/", {"user": "alice", "since": today}).content.decode()
    assert "img-a" in body
    assert "=cmd()" not in body
    rows = client.get("/audit/", {"action": "image.delete"}, headers={"HX-Request": "true"})
    assert rows.content.decode().lstrip().startswith('<div id="audit-rows">')


def test_others_see_only_their_projects_entries(client, make_user, entries):
    client.force_login(make_user("viewer", "viewer"))
    body = client.get("/audit/").content.decode()
    assert "img-a" in body
    assert "img-b" not in body  # partner project: no role there
    assert "role.grant" not in body.split('id="audit-rows"')[1]  # portal-level entries
    csv_text = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    assert "img-b" not in csv_text


def test_csv_export_has_the_filtered_rows_and_defuses_formulas(client, django_user_model, entries):
    client.force_login(django_user_model.objects.create_superuser("root", password="R-pass-123"))
    resp = client.get("/audit/export.csv", {"user": "alice"})
    assert resp["Content-Type"].startswith("text/csv")
    assert "attachment" in resp["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(resp.streaming_content).decode())))
    assert [r["target_name"] for r in rows] == ["img-a", "'=cmd()"]
    assert rows[0]["project_name"] == "owner-project"


def test_paging(client, django_user_model, owner_project):
    client.force_login(django_user_model.objects.create_superuser("root", password="R-pass-123"))
    for i in range(60):
        record("image.delete", username="bulk", project=owner_project, target_name=f"n{i:02d}")
    first = client.get("/audit/", {"user": "bulk"}).content.decode()
    assert "n59" in first
    assert "n09" not in first
    assert "Page 1 of 2 (60 entries)" in first
    second = client.get("/audit/", {"user": "bulk", "page": 2}).content.decode()
    assert "n09" in second
    assert "n59" not in second


def test_bad_filters_are_form_errors(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="R-pass-123"))
    resp = client.get("/audit/", {"since": "2026-12-02", "until": "2026-01-01", "outcome": "x"})
    assert resp.status_code == 200
    assert "Invalid filter" in resp.content.decode()


def test_prune_deletes_only_entries_past_retention(settings, entries, capsys):
    settings.AUDIT_RETENTION_DAYS = 365
    call_command("prune_audit")
    assert "Deleted 1 audit entries older than 365 days." in capsys.readouterr().out
    assert not AuditEntry.objects.filter(target_name="=cmd()").exists()
    assert AuditEntry.objects.count() == 3
