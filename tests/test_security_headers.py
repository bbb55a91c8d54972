"""Every page carries a strict Content-Security-Policy and has nothing it would block (no
inline script, style or on…= handler); logged-in pages are never cached (issue 9, Headers)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.test_access import SHARING_SAMPLES, page_paths

pytestmark = pytest.mark.django_db

# The pages of the owner project, of its job 1 and of the owner project's settings.
PAGES = [
    path
    for name, path in page_paths(project_slug="owner", slug="owner", pk="1", **SHARING_SAMPLES)
    if name != "export"  # CSV, not a page
]


class InlineFinder(HTMLParser):
    """Collects what ``script-src 'self'; style-src 'self'`` (and no eval) would block."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            executable = attrs.get("type") in (None, "", "text/javascript", "module")
            if executable and not attrs.get("src"):
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("inline <style>")
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.found.append(f"handler {name}=")
            if name == "style":
                self.found.append("style= attribute")
            if name in ("hx-vars", "data-hx-vars") or "js:" in (value or "")[:3]:
                self.found.append(f"eval in {name}=")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: in {name}=")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def assert_strict_csp(resp) -> None:
    policy = resp["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in policy


@pytest.fixture
def job(owner_project):
    from jobs.models import Job

    return Job.objects.create(
        pk=1,
        project=owner_project,
        kind=Job.Kind.UPLOAD,
        title="disk.qcow2",
        status=Job.Status.RUNNING,
    )


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("root", "operator")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("htmx", [False, True])
def test_every_page_has_the_csp_and_nothing_it_blocks(admin_client, owner_project, job, path, htmx):
    resp = admin_client.get(path, headers={"HX-Request": "true"} if htmx else {})
    assert resp.status_code in (200, 286), (path, resp.status_code)
    assert_strict_csp(resp)
    assert inline_code(resp.content.decode()) == []


@pytest.mark.parametrize("path", ["/login/", "/no-such-page/", "/admin/login/"])
def test_public_pages_have_the_csp_and_nothing_it_blocks(client, path):
    resp = client.get(path)
    assert_strict_csp(resp)
    assert inline_code(resp.content.decode()) == [], path


def test_the_403_page_has_nothing_the_csp_blocks(client, make_user):
    client.force_login(make_user("viewer", "viewer"))
    resp = client.get("/projects/")  # superusers only
    assert resp.status_code == 403
    assert_strict_csp(resp)
    assert inline_code(resp.content.decode()) == []


def test_the_500_page_has_nothing_the_csp_blocks():
    from django.template import loader

    assert inline_code(loader.get_template("500.html").render()) == []


def test_htmx_is_configured_for_the_csp(admin_client, owner_project):
    body = admin_client.get("/p/owner/jobs/").content.decode()
    assert '<meta name="htmx-config"' in body
    assert '"includeIndicatorStyles": false' in body
    assert '"allowEval": false' in body


@pytest.mark.parametrize("path", PAGES)
def test_logged_in_pages_are_not_cached(admin_client, owner_project, job, path):
    resp = admin_client.get(path)
    directives = {d.strip() for d in resp["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert "public" not in directives


def test_static_files_stay_cacheable(admin_client):
    resp = admin_client.get("/static/css/portal.css")
    assert resp.status_code == 200
    assert "no-store" not in resp.get("Cache-Control", "")


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/auth/user/", "/admin/auth/user/add/", "/admin/axes/accessattempt/"],
)
def test_the_admin_works_under_the_csp(admin_client, path):
    resp = admin_client.get(path)
    assert resp.status_code == 200
    assert_strict_csp(resp)
    assert inline_code(resp.content.decode()) == []
