"""Every portal URL needs a login; every project-scoped URL checks the user's role in the
project named by the URL: no role there is a 404 (its name does not leak), a role too weak
is a 403, whatever the method and whether htmx asks."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from jobs.models import Job

PUBLIC = {"login", "logout", "healthz"}
# A seeded local-cloud image (seed.py: uuid5 of "image:cirros-0.6.2"), so that an allowed
# request to an image page is not a 404. Empty POSTs must leave it unchanged.
SEEDED_IMAGE_ID = "8ec93389-e81c-5380-b6d6-d879652b7b6a"
SAMPLES = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.uuid4()), "path": "x"}


def walk(patterns, prefix=""):
    for p in patterns:
        route = str(p.pattern)
        if isinstance(p, URLResolver):
            if route.startswith("admin/"):
                continue  # Django admin has its own login, checked separately
            yield from walk(p.url_patterns, prefix + route)
        elif isinstance(p, URLPattern):
            yield p, prefix + route


def sample_path(route: str, **values: str) -> str:
    def fill(m):
        return values.get(m.group(2)) or SAMPLES[m.group(1) or "str"]

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)
    return "/" + path.lstrip("^").rstrip("$")


# Sharing (issue 10): real ids, so an allowed request reaches the cloud and is not a 404: a
# seeded shared image of owner-project and partner-project's id (the local cloud's seed
# derives both from this namespace; see imsportal/localcloud/management/commands/seed.py).
SEED_NAMESPACE = uuid.UUID("6b0e5c8e-3f7c-4c41-9a57-5e2d3f8c2a10")
SHARING_SAMPLES = {
    "image_id": str(uuid.uuid5(SEED_NAMESPACE, "image:cirros-0.6.2")),
    "member_id": uuid.uuid5(SEED_NAMESPACE, "partner-project").hex,
}

ROUTES = [(p.name, r, p) for p, r in walk(get_resolver().url_patterns)]
PORTAL_URLS = [(name, sample_path(r)) for name, r, _ in ROUTES]
PROJECT_ROUTES = [(name, r, p) for name, r, p in ROUTES if "<slug:project_slug>" in r]


def test_the_walk_finds_the_pages():
    paths = {path for _, path in PORTAL_URLS}
    assert {"/p/x/images/", "/p/x/images/shared/", "/p/x/images/cloud/", "/p/x/jobs/"} <= paths
    assert "/p/x/jobs/1/status" in paths
    assert len(PROJECT_ROUTES) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), [u for u in PORTAL_URLS if u[0] not in PUBLIC])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, name, path, method):
    resp = getattr(client, method)(path)
    assert resp.status_code == 302, (name, path, resp.status_code)
    assert resp["Location"].startswith("/login/")


@pytest.mark.django_db
def test_admin_needs_its_own_login(client, make_user):
    assert client.get("/admin/").status_code == 302
    client.force_login(make_user("op", "operator"))
    resp = client.get("/admin/")
    assert resp.status_code == 302  # an operator is not staff
    assert "/admin/login/" in resp["Location"]


# --- the role matrix ------------------------------------------------------------------------
def required_role(pattern) -> str:
    """What a project view asks for, read from its decorator's closure."""
    view = pattern.callback
    for cell in view.__closure__ or ():
        if cell.cell_contents in ("viewer", "operator", "approver"):
            return cell.cell_contents
    raise AssertionError(f"{pattern.name} is not a project_view")


def allowed_methods(pattern) -> list[str]:
    """The methods a view takes, read from its project_view or require_http_methods closure."""
    for cell in pattern.callback.__closure__ or ():
        value = cell.cell_contents
        if (
            isinstance(value, list)
            and value
            and all(isinstance(m, str) and m.isupper() for m in value)
        ):
            return value
    raise AssertionError(f"{pattern.name} has no method list")


def page_paths(**values: str) -> list[tuple[str, str]]:
    """(name, path) of every logged-in page that answers GET, with real URL values."""
    values.setdefault("image_id", SEEDED_IMAGE_ID)
    pages = []
    for name, route, pattern in ROUTES:
        if name in PUBLIC or name == "home":
            continue
        try:
            methods = allowed_methods(pattern)
        except AssertionError:
            methods = ["GET"]
        if "GET" in methods:
            pages.append((name, sample_path(route, **values)))
    return pages


ROLE_SETS = {
    "none": (),
    "viewer": ("viewer",),
    "operator": ("operator",),
    "approver": ("approver",),
    "operator+approver": ("operator", "approver"),
}


@pytest.fixture
def owner_job(owner_project):
    return Job.objects.create(project=owner_project, kind=Job.Kind.UPLOAD, title="t")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "route", "pattern"), PROJECT_ROUTES, ids=[r[1] for r in PROJECT_ROUTES]
)
@pytest.mark.parametrize("roles", list(ROLE_SETS), ids=list(ROLE_SETS))
@pytest.mark.parametrize("where", ["own", "other"])
@pytest.mark.parametrize("method", ["GET", "POST", "HTMX"])
def test_role_matrix(
    client, make_user, partner_project, owner_job, name, route, pattern, roles, where, method
):
    """The user holds ``roles`` in the owner project and nothing in the partner project."""
    user = make_user("u", ROLE_SETS[roles])
    client.force_login(user)
    slug = "owner" if where == "own" else "partner"
    path = sample_path(route, project_slug=slug, pk=str(owner_job.pk), **SHARING_SAMPLES)
    if method == "POST":
        resp = client.post(path)
    else:
        headers = {"HX-Request": "true"} if method == "HTMX" else {}
        resp = client.get(path, headers=headers)
    needed = required_role(pattern)
    http_method = "POST" if method == "POST" else "GET"
    if where == "other" or not ROLE_SETS[roles]:
        assert resp.status_code == 404, (path, resp.status_code)
    elif needed != "viewer" and needed not in ROLE_SETS[roles]:
        assert resp.status_code == 403, (path, resp.status_code)
    elif http_method not in allowed_methods(pattern):
        assert resp.status_code == 405, (path, resp.status_code)
    else:
        assert resp.status_code not in (403, 404, 405), (path, resp.status_code)


@pytest.mark.django_db
def test_an_unknown_project_is_a_404_like_a_forbidden_one(client, make_user):
    client.force_login(make_user("u", "operator"))
    assert client.get("/p/no-such-project/images/").status_code == 404


@pytest.mark.django_db
def test_login_page_and_healthz_are_public(client):
    assert client.get("/login/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)
