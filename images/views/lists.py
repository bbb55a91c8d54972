"""Images pages: the project's images (scopes, filters, sorting, paging, row refresh, bulk
actions), find by name or id, and the images shared with the project."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from images.forms import (
    SCOPES,
    SORT_KEYS,
    TRANSITIONAL,
    ConfirmForm,
    FindForm,
    ImageFilterForm,
    TagForm,
)
from images.owners import known_owners
from images.views.detail import load_image
from imsportal.accounts.roles import OPERATOR
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError, DuplicateResourceError, NotFoundError
from imsportal.projects.access import project_view

PAGE_SIZE = 20
# Find: at most this many list calls of FIND_PAGE images each before saying "stopped early".
FIND_CALLS = 5
FIND_PAGE = 200
FIND_SHOWN = 50


def wants_partial(request) -> bool:
    """An htmx request for rows; a history restore (Back after a cache miss) wants it all."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def paging(params: QueryDict, marker: str, trail: list[str], next_marker: str | None) -> dict:
    """Previous/Next query strings that keep the markers the user came through."""
    q = params.copy()
    for key in ("marker", "trail"):
        q.pop(key, None)

    def url(new_marker: str, new_trail: list[str]) -> str:
        page = q.copy()
        if new_marker:
            page["marker"] = new_marker
        if new_trail:
            page["trail"] = ",".join(new_trail)
        return "?" + page.urlencode()

    prev_url = url(trail[-1], trail[:-1]) if marker and trail else (url("", []) if marker else "")
    next_url = url(next_marker, [*trail, marker] if marker else trail) if next_marker else ""
    return {
        "prev_url": prev_url,
        "next_url": next_url,
        "page_number": len(trail) + (2 if marker else 1),
        "first_url": url("", []) if marker else "",
    }


def sort_links(params: QueryDict, key: str, direction: str, keys) -> dict[str, dict]:
    """Per column: the URL that sorts by it (toggling when it is the current key)."""
    links = {}
    for k in keys:
        q = params.copy()
        for drop in ("marker", "trail"):
            q.pop(drop, None)
        new_dir = ("desc" if direction == "asc" else "asc") if k == key else "asc"
        q["sort_key"], q["sort_dir"] = k, new_dir
        current = "ascending" if direction == "asc" else "descending"
        links[k] = {"url": "?" + q.urlencode(), "aria": current if k == key else "none"}
    return links


# --- the image list --------------------------------------------------------------------------
@project_view()
@vary_on_headers("HX-Request")
def image_list(request, project):
    form = ImageFilterForm(request.GET)
    page, error, mine = None, None, ""
    context: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        conn = cloudapi_for(request)
        try:
            mine = conn.auth.project_id  # from the token: no extra call once signed in
            # One API call per render: the page, filtered and sorted by Glance.
            page = conn.image.list_page(
                limit=data["limit"] or PAGE_SIZE,
                marker=data["marker"] or None,
                **form.cloud_query(mine),
            )
        except ApiError as e:
            error = str(e)
        key, direction = form.sort()
        context.update(
            paging(request.GET, data["marker"], data["trail"], page.next_marker if page else None)
        )
        context["sort"] = sort_links(request.GET, key, direction, SORT_KEYS)
    context.update(
        form=form,
        page=page,
        error=error,
        mine=mine,
        scope=form.current_scope,
        scopes=_scope_links(form.current_scope),
        owners=known_owners(request.user, project),
        transitional=TRANSITIONAL,
        tag_form=TagForm(),
        has_filters=any(
            v for k, v in request.GET.items() if k not in ("scope", "sort_key", "sort_dir", "limit")
        ),
    )
    template = "images/image_list.html"
    if wants_partial(request):
        template += "#image-rows"
    return render(request, template, context)


def _scope_links(current: str) -> list[dict]:
    """The tabs. They start each scope afresh: htmx updates the filters without re-rendering
    the tabs, so links carrying the filters of the first render would bring back stale ones."""
    return [
        {
            "url": f"?scope={scope}" if scope != "mine" else "?",
            "label": label,
            "current": scope == current,
        }
        for scope, label in SCOPES.items()
    ]


@project_view()
def image_row(request, project, image_id):
    """One row, polled while the image is in a transitional status; 286 stops the polling."""
    try:
        image = load_image(request, image_id)
        mine = cloudapi_for(request).auth.project_id
    except ApiError:
        # Keep the row as it was and stop polling rather than hammer a failing cloud.
        return HttpResponseStopPolling("")
    context = {
        "image": image,
        "mine": mine,
        "owners": known_owners(request.user, project, resolve=False),
        "transitional": TRANSITIONAL,
        "tag_form": TagForm(),
    }
    response = render(request, "images/image_list.html#image-row", context)
    if image.status not in TRANSITIONAL:
        return HttpResponseStopPolling(response.content)
    return response


# --- bulk actions ------------------------------------------------------------------------------
def _safe_next(request, project) -> str:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}):
        return nxt
    return reverse("images:list", args=[project.slug])


@project_view(OPERATOR, methods=("POST",))
def bulk_action(request, project):
    """Delete or tag the selected images; one message (result) per image."""
    back = _safe_next(request, project)
    ids = list(dict.fromkeys(i for i in request.POST.getlist("ids") if i))[:100]
    action = request.POST.get("action")
    if not ids or action not in ("delete", "tag"):
        messages.warning(request, "Select images and an action first.")
        return redirect(back)
    conn = cloudapi_for(request)
    if action == "tag":
        form = TagForm(request.POST)
        if not form.is_valid():
            messages.warning(request, f"Tag: {' '.join(form.errors.get('tag', []))}")
            return redirect(back)
        tag = form.cleaned_data["tag"]
        for image_id in ids:
            _bulk_one(request, conn, image_id, "image.tag.add", {"tag": tag})
        return redirect(back)
    if not ConfirmForm(request.POST).is_valid():
        # No JS (or no dialog): ask on a page of its own; nothing is deleted yet.
        images = []
        for image_id in ids:
            try:
                images.append(conn.image.get_image(image_id))
            except ApiError as e:
                images.append({"id": image_id, "name": str(e)})
        return render(request, "images/bulk_delete.html", {"images": images, "back": back})
    for image_id in ids:
        _bulk_one(request, conn, image_id, "image.delete", {})
    return redirect(back)


def _bulk_one(request, conn, image_id: str, action: str, params: dict) -> None:
    try:
        image = conn.image.get_image(image_id)
    except ApiError as e:
        messages.warning(request, f"{image_id}: {e}")
        return
    label = image.name or image.id
    if action == "image.delete" and image.is_protected:
        messages.warning(request, f"“{label}” is protected; remove its protection to delete it.")
        return
    try:
        with audited(
            action,
            conn,
            request=request,
            image=image,
            params=params,
        ):
            if action == "image.delete":
                conn.image.delete_image(image.id, ignore_missing=False)
            elif params["tag"] not in image.tags:
                conn.image.add_tag(image.id, params["tag"])
    except ApiError as e:
        messages.warning(request, f"“{label}”: {e}")
        return
    done = "deleted" if action == "image.delete" else f"tagged “{params['tag']}”"
    messages.success(request, f"“{label}”: {done}.")


# --- find --------------------------------------------------------------------------------------
@project_view()
def find_image(request, project):
    """An id or an exact name goes to the image; else prefix and substring matches."""
    form = FindForm(request.GET)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "images/image_find.html", context)
    q = form.cleaned_data["q"]
    conn = cloudapi_for(request)
    try:
        try:
            found = conn.image.find_image(q)
        except DuplicateResourceError:
            context["same_name"] = list(conn.image.images(name=f"eq:{q}", limit=FIND_SHOWN))
            return render(request, "images/image_find.html", context)
        if found is not None:
            return redirect("images:detail", project.slug, found.id)
        context.update(_scan(conn, q))
    except NotFoundError:
        context["matches"] = []
    except ApiError as e:
        context["error"] = str(e)
    return render(request, "images/image_find.html", context)


def _scan(conn, q: str) -> dict[str, Any]:
    """Prefix, then substring matches (case-insensitive) in at most FIND_CALLS list calls."""
    needle = q.casefold()
    prefix, inside = [], []
    marker, calls, scanned = None, 0, 0
    while calls < FIND_CALLS:
        page = conn.image.list_page(limit=FIND_PAGE, marker=marker, sort_key="name", sort_dir="asc")
        calls += 1
        scanned += len(page.items)
        for image in page.items:
            name = (image.name or "").casefold()
            if name.startswith(needle):
                prefix.append(image)
            elif needle in name:
                inside.append(image)
        marker = page.next_marker
        if not marker:
            break
    matches = (prefix + inside)[:FIND_SHOWN]
    return {
        "matches": matches,
        "more_matches": len(prefix) + len(inside) > FIND_SHOWN,
        "stopped_early": bool(marker),
        "scanned": scanned,
    }
