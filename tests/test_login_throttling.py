"""Login throttling (django-axes): a lockout per account and per client address after a
configurable number of failures, the same answer for unknown users, /admin/login/ too, and
superusers can unlock (issue 9, Login throttling)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

RIGHT = "Right-pass-123"
LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def attempt(path="/login/", username="alice", password="wrong", ip="10.0.0.1", **meta):
    client = Client(REMOTE_ADDR=ip, **meta)
    resp = client.post(path, {"username": username, "password": password})
    return resp, client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def alice(make_user):
    return make_user("alice", "viewer", password=RIGHT)


def test_the_right_password_is_refused_once_the_account_is_locked(alice):
    for _ in range(LIMIT - 1):
        resp, _ = attempt()
        assert resp.status_code == 200  # the form again, with its error
    resp, _ = attempt()
    assert resp.status_code == 429
    # From another address too: the account itself is locked.
    resp, client = attempt(password=RIGHT, ip="10.9.9.9")
    assert resp.status_code == 429
    assert "Too many failed logins" in resp.content.decode()
    assert not logged_in(client)


def test_below_the_limit_the_right_password_works_and_resets_the_count(alice):
    for _ in range(LIMIT - 1):
        attempt()
    resp, client = attempt(password=RIGHT)
    assert resp.status_code == 302
    assert logged_in(client)
    for _ in range(LIMIT - 1):
        assert attempt()[0].status_code == 200


def test_an_unknown_user_gets_the_same_answers(alice):
    known = [attempt(username="alice", ip="10.0.0.1")[0] for _ in range(LIMIT + 1)]
    unknown = [attempt(username="nobody-here", ip="10.0.0.2")[0] for _ in range(LIMIT + 1)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert without_csrf_token(known[-1]) == without_csrf_token(unknown[-1])


def without_csrf_token(resp) -> str:
    return re.sub(r'"x-csrftoken": "[^"]+"', "", resp.content.decode())


def test_one_address_trying_many_accounts_is_locked(alice):
    for i in range(LIMIT):
        attempt(username=f"guess-{i}", ip="10.0.0.7")
    resp, client = attempt(password=RIGHT, ip="10.0.0.7")
    assert resp.status_code == 429
    assert not logged_in(client)
    resp, client = attempt(password=RIGHT, ip="10.0.0.8")  # alice herself, elsewhere
    assert resp.status_code == 302
    assert logged_in(client)


def test_the_admin_login_is_protected_too(make_user):
    root = make_user("root", None, password=RIGHT)
    root.is_staff = root.is_superuser = True
    root.save()
    for _ in range(LIMIT):
        attempt("/admin/login/", username="root")
    resp, client = attempt("/admin/login/", username="root", password=RIGHT, ip="10.1.1.1")
    assert resp.status_code == 429
    assert not logged_in(client)


def test_a_superuser_can_unlock_an_account(alice):
    for _ in range(LIMIT):
        attempt()
    assert attempt(password=RIGHT, ip="10.5.5.5")[0].status_code == 429
    call_command("axes_reset_username", "alice")
    resp, client = attempt(password=RIGHT, ip="10.5.5.5")
    assert resp.status_code == 302
    assert logged_in(client)


def test_the_lockout_ends_after_the_cool_off(alice, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(LIMIT):
        attempt()
    assert attempt(password=RIGHT)[0].status_code == 429
    import time

    time.sleep(1.2)
    assert attempt(password=RIGHT)[0].status_code == 302


def test_a_lockout_is_logged_and_audited(alice, caplog):
    from imsportal.audit.models import AuditEntry

    for _ in range(LIMIT):
        attempt(ip="10.3.3.3")
    assert "login locked out: user 'alice' from 10.3.3.3" in caplog.text
    (entry,) = AuditEntry.objects.filter(action="login.lockout")
    assert (entry.username, entry.client_addr, entry.outcome) == ("alice", "10.3.3.3", "failure")


def test_behind_proxies_the_address_comes_from_x_forwarded_for(rf, settings):
    from imsportal.accounts.lockout import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.2")
    request.META["REMOTE_ADDR"] = "10.0.0.3"
    assert client_ip(request) == "10.0.0.3"  # no trusted proxy: the peer
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.9"  # what the outer proxy saw; 6.6.6.6 is forged
