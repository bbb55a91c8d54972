"""The shared-with-me inbox: offers to one project by member status (pending, accepted,
rejected) with exact counts, accept/reject per row and in bulk; the same for every project
where the user is an approver on one page (``/inbox/``); the navigation's pending badge.

Counting: see ``images.sharing.scan_offers``. A project's inbox page costs one list call
per status while each status (with the project's own shared images) stays under 1,000
images, at most SCAN_MAX_PAGES per status, plus one ``get_member`` per shown row (the date
offered), made in parallel. The badge is its own small htmx request, cached per project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from images.share_forms import TABS, AnswerForm, InboxForm
from images.sharing import (
    MEMBER_STATUSES,
    Offers,
    ProjectDirectory,
    forget_pending,
    in_parallel,
    pending_count,
    project_directory,
    remember_pending,
    safe,
    scan_offers,
)
from imsportal.accounts.roles import APPROVER
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for, connection_for
from imsportal.cloudapi import ApiError, Connection, Image
from imsportal.projects.access import project_view
from imsportal.projects.models import CloudProject

PAGE_SIZE = 20
ALL_INBOX_ROWS = 25  # rows per project on the cross-project inbox
MAX_ANSWER_ALL = 200  # offers answered by one "accept all" / "reject all"
ACTION = {"accepted": "image.accept", "rejected": "image.reject"}
VERB = {"accepted": "Accepted", "rejected": "Rejected"}


@dataclass
class Row:
    image: Image
    owner_name: str
    offered: datetime | None


def _rows(conn: Connection, images: list[Image], directory: ProjectDirectory) -> list[Row]:
    """The rows of one page, with the date each was offered (the member's created_at)."""
    mine = conn.auth.project_id
    members = in_parallel(lambda i: safe(conn.image.get_member, mine, i.id), images)
    return [
        Row(i, directory.name(i.owner), None if isinstance(m, ApiError) else m.created_at)
        for i, m in zip(images, members, strict=True)
    ]


def inbox_context(request: HttpRequest, project: CloudProject, tab: str, page: int) -> dict:
    conn = cloudapi_for(request)
    try:
        scans = {s: scan_offers(conn, s) for s in MEMBER_STATUSES}
    except ApiError as e:
        return {"error": str(e), "tab": tab, "tabs": []}
    remember_pending(project, scans["pending"])
    offers = scans[tab]
    pages = max(1, -(-offers.count // PAGE_SIZE))
    page = min(page, pages)
    shown = offers.images[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    directory = project_directory(request.user, request.project)
    tabs = [(s, label, scans[s]) for s, label in TABS]
    return {
        "tab": tab,
        "tabs": tabs,
        "offers": offers,
        "rows": _rows(conn, shown, directory),
        "page": page,
        "pages": pages,
        "prev_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
        "error": None,
    }


@project_view()
@vary_on_headers("HX-Request")
def inbox(request, project):
    form = InboxForm(request.GET)
    form.is_valid()  # a bad tab or page falls back to the defaults
    tab = form.cleaned_data.get("status") or "pending"
    page = form.cleaned_data.get("page") or 1
    context = inbox_context(request, project, tab, page)
    if context["error"]:
        messages.warning(request, context["error"])
    template = "images/inbox.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#inbox"
    return render(request, template, context)


def _answer(request, conn: Connection, image_id: str, name: str, status: str) -> tuple[str, str]:
    """Accept or reject one offer as this project: (the image's name or id, "" or the error)."""
    try:
        with audited(
            ACTION[status],
            conn,
            request=request,
            target_id=image_id,
            target_name=name,
            params={"status": status},
        ) as target:
            if not name:
                # Selected by id: fetch it for its name (and a 404 for an unknown id).
                target.target_name = name = conn.image.get_image(image_id).name or ""
            conn.image.update_member(conn.auth.project_id, image_id, status=status)
        return name or image_id, ""
    except ApiError as e:
        return name or image_id, str(e)


def _targets(conn: Connection, data: dict) -> tuple[list[tuple[str, str]], Offers | None]:
    """(image id, name) pairs to answer: the selected ids, or a whole tab (bounded)."""
    if data.get("every"):
        offers = scan_offers(conn, data["every"])
        return [(i.id, i.name or "") for i in offers.images[:MAX_ANSWER_ALL]], offers
    return [(i, "") for i in data["image"]], None


@project_view(APPROVER, methods=("POST",))
@vary_on_headers("HX-Request")
def answer(request, project):
    """Accept or reject offers (one, the selected, or all of a tab) for this project."""
    form = AnswerForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    if not form.is_valid():
        errors = " ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"Nothing changed: {errors}")
    else:
        conn = cloudapi_for(request)
        try:
            targets, offers = _targets(conn, data)
        except ApiError as e:
            targets, offers = [], None
            messages.error(request, str(e))
        status = data["status"]
        done, failed = [], []
        for image_id, name in targets:
            shown, error = _answer(request, conn, image_id, name, status)
            if error:
                failed.append((shown, error))
            else:
                done.append(shown)
        forget_pending(project)
        if done:
            messages.success(request, f"{VERB[status]} {len(done)}: {', '.join(done[:10])}"
                             + ("…" if len(done) > 10 else ""))  # fmt: skip
        for what, error in failed:
            messages.error(request, f"{what}: {error}")
        if offers is not None and offers.count > len(targets):
            messages.info(
                request,
                f"{len(targets)} of {offers.count} answered at once; answer again for the rest.",
            )
    return _after_answer(request, project, data)


def _after_answer(request, project: CloudProject, data: dict) -> HttpResponse:
    tab = data.get("tab") or "pending"
    page = data.get("page") or 1
    if data.get("next") == "all":
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("inbox:all")
    if request.htmx:
        resp = render(
            request, "images/inbox.html#inbox", inbox_context(request, project, tab, page)
        )
        return trigger_client_event(resp, "inboxChanged", {"project": project.slug})
    query = urlencode({"status": tab, "page": page})
    return redirect(reverse("images:shared", kwargs={"project_slug": project.slug}) + "?" + query)


# --- across projects (outside /p/<slug>/: every project where the user is an approver) -------
def approver_projects(user) -> list[CloudProject]:
    return list(
        CloudProject.objects.filter(roles__user=user, roles__role=APPROVER)
        .distinct()
        .order_by("name")
    )


@dataclass
class ProjectOffers:
    project: CloudProject
    offers: Offers | None
    rows: list[Row]
    error: str


def _project_offers(request: HttpRequest, project: CloudProject) -> ProjectOffers:
    directory = project_directory(request.user, project)
    try:
        conn = connection_for(project)
        offers = scan_offers(conn, "pending")
        remember_pending(project, offers)
        rows = _rows(conn, offers.images[:ALL_INBOX_ROWS], directory)
        return ProjectOffers(project, offers, rows, "")
    except ApiError as e:
        return ProjectOffers(project, None, [], str(e))


@login_required
@require_GET
def all_inbox(request):
    """Every pending offer of every project where the user is an approver, by project.
    Each row's actions post to that project's own URL (and its role check)."""
    groups = [_project_offers(request, p) for p in approver_projects(request.user)]
    total = sum(g.offers.count for g in groups if g.offers)
    return render(
        request,
        "images/inbox_all.html",
        {"groups": groups, "total": total, "shown_rows": ALL_INBOX_ROWS},
    )


@login_required
@require_GET
def badge(request):
    """The navigation's pending count over the user's approver projects (cached per
    project for a minute; the inbox pages and every answer refresh it)."""
    total, exact, failed = 0, True, False
    for project in approver_projects(request.user):
        counted = pending_count(project)
        if counted is None:
            failed = True
            continue
        total += counted[0]
        exact = exact and counted[1]
    return render(
        request,
        "images/_inbox_badge.html",
        {"total": total, "exact": exact, "failed": failed},
    )
