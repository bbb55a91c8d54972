"""Members of an image: who it is shared with, share with more projects, stop sharing.

The panel (templates/images/_members_panel.html) is the page's body and an htmx fragment;
the image detail page includes it. Changes need the operator role and the project must own
the image (Glance: only the owner adds or removes members).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from images.share_forms import (
    IMAGE_ID,
    BulkShareForm,
    ConfirmForm,
    ImageIdsField,
    MakeSharedForm,
    ShareForm,
)
from images.sharing import (
    ProjectDirectory,
    forget_pending_of,
    in_parallel,
    project_directory,
    safe,
)
from imsportal.accounts.roles import OPERATOR
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError, ConflictError, Connection, Image, NotFoundError
from imsportal.projects.access import project_view

PANEL = "images/_members_panel.html"


@dataclass
class ShareResult:
    """One (image, project) outcome of a share request."""

    image: Image
    member_id: str
    name: str
    ok: bool
    message: str


def get_image_or_404(conn: Connection, image_id: str) -> Image:
    try:
        return conn.image.get_image(image_id)
    except NotFoundError as e:
        raise Http404("No such image in this project") from e


def make_shared(request: HttpRequest, conn: Connection, image: Image) -> Image:
    """Switch a private image to ``shared`` (Glance only lets shared images have members)."""
    with audited(
        "image.update",
        conn,
        request=request,
        image=image,
        params={"visibility": "shared", "was": image.visibility},
    ):
        return conn.image.update_image(image, visibility="shared")


def share_image(
    request: HttpRequest,
    conn: Connection,
    image: Image,
    member_ids: list[str],
    directory: ProjectDirectory,
) -> list[ShareResult]:
    """``add_member`` for each project, each audited; a result per project, never raises."""
    results = []
    for member_id in member_ids:
        name = directory.name(member_id)
        try:
            with audited(
                "image.share",
                conn,
                request=request,
                image=image,
                params={"member": member_id},
            ):
                conn.image.add_member(image, member=member_id)
        except ConflictError:
            status = _existing_status(conn, image, member_id)
            results.append(
                ShareResult(image, member_id, name, True, f"already a member ({status})")
            )
        except ApiError as e:
            results.append(ShareResult(image, member_id, name, False, str(e)))
        else:
            forget_pending_of(member_id)
            results.append(ShareResult(image, member_id, name, True, "shared: pending"))
    return results


def _existing_status(conn: Connection, image: Image, member_id: str) -> str:
    try:
        return conn.image.get_member(member_id, image).status
    except ApiError:
        return "status unknown"


def share_many(
    request: HttpRequest,
    conn: Connection,
    image: Image,
    member_ids: list[str],
    directory: ProjectDirectory,
    switch: bool,
) -> list[ShareResult]:
    """Share one image with several projects, making it shared first when asked."""
    if image.visibility == "private" and switch:
        try:
            image = make_shared(request, conn, image)
        except ApiError as e:
            return [
                ShareResult(image, m, directory.name(m), False, f"not made shared: {e}")
                for m in member_ids
            ]
    if image.visibility != "shared":
        why = (
            "the image is private: make it shared first"
            if image.visibility == "private"
            else f"a {image.visibility} image has no members"
        )
        return [ShareResult(image, m, directory.name(m), False, why) for m in member_ids]
    return share_image(request, conn, image, member_ids, directory)


def report(request: HttpRequest, results: list[ShareResult], with_image: bool = False) -> None:
    """One message per result, for the plain-POST path (htmx shows them in the panel)."""
    for r in results:
        who = r.name or r.member_id
        what = f"{r.image.name or r.image.id} → {who}" if with_image else who
        (messages.success if r.ok else messages.error)(request, f"{what}: {r.message}")


def panel_context(
    request: HttpRequest,
    conn: Connection,
    image: Image,
    form: ShareForm | None = None,
    results: list[ShareResult] | None = None,
) -> dict:
    """Everything the members panel shows: the members by name, and the controls the user's
    role and the image's owner allow."""
    mine = conn.auth.project_id
    directory = project_directory(request.user, request.project)
    members, error = [], None
    if image.visibility == "shared":
        try:
            members = conn.image.members(image)
        except ApiError as e:
            error = str(e)
    is_owner = image.owner == mine
    can_share = is_owner and OPERATOR in getattr(request, "project_roles", ())
    if form is None and can_share and image.visibility in ("shared", "private"):
        taken = [mine, *(m.member_id for m in members)]
        form = ShareForm(choices=directory.choices(exclude=taken), own_id=mine)
    return {
        "image": image,
        "members": [(m, directory.name(m.member_id)) for m in members],
        "members_error": error,
        "is_owner": is_owner,
        "can_share": can_share,
        "share_form": form if can_share else None,
        "results": results or [],
    }


def _panel_response(request: HttpRequest, context: dict) -> HttpResponse:
    template = PANEL if request.htmx else "images/members.html"
    return render(request, template, context)


def _changed(request: HttpRequest, context: dict) -> HttpResponse:
    """The panel after a change, with an event the detail page and lists may listen to."""
    resp = render(request, PANEL, context)
    return trigger_client_event(resp, "membersChanged", {"image": context["image"].id})


def _back(request: HttpRequest, project, image_id: str) -> HttpResponse:
    """To the members page, with the messages: a redirect, or for htmx a client redirect
    (a plain redirect would be followed and its whole page swapped into the panel)."""
    url = reverse("images:members", kwargs={"project_slug": project.slug, "image_id": image_id})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@project_view()
@vary_on_headers("HX-Request")
def members(request, project, image_id: str):
    conn = cloudapi_for(request)
    try:
        image = get_image_or_404(conn, image_id)
    except ApiError as e:
        messages.warning(request, str(e))
        return render(request, "images/members.html", {"image": None, "image_id": image_id})
    context = panel_context(request, conn, image)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, PANEL, context)
    return render(request, "images/members.html", context)


@project_view(OPERATOR, methods=("POST",))
@vary_on_headers("HX-Request")
def add_members(request, project, image_id: str):
    conn = cloudapi_for(request)
    try:
        image = get_image_or_404(conn, image_id)
        mine = conn.auth.project_id
    except ApiError as e:
        messages.error(request, str(e))
        return _back(request, project, image_id)
    directory = project_directory(request.user, request.project)
    form = ShareForm(request.POST, choices=directory.choices(exclude=[mine]), own_id=mine)
    if not form.is_valid():
        return _panel_response(request, panel_context(request, conn, image, form=form))
    results = share_many(
        request, conn, image, form.cleaned_data["members"], directory,
        switch=form.cleaned_data["make_shared"],
    )  # fmt: skip
    if request.htmx:
        image = results[0].image if results else image
        return _changed(request, panel_context(request, conn, image, results=results))
    report(request, results)
    return _back(request, project, image_id)


@project_view(OPERATOR, methods=("POST",))
@vary_on_headers("HX-Request")
def make_image_shared(request, project, image_id: str):
    conn = cloudapi_for(request)
    form = MakeSharedForm(request.POST)
    try:
        image = get_image_or_404(conn, image_id)
        if not form.is_valid():
            messages.error(request, "Nothing changed: the form was incomplete.")
        elif image.visibility == "shared":
            messages.info(request, "The image is already shared.")
        elif image.visibility != "private":
            messages.error(request, f"A {image.visibility} image is not switched to shared here.")
        else:
            image = make_shared(request, conn, image)
            messages.success(request, "The image is now shared: add the projects below.")
    except ApiError as e:
        messages.error(request, str(e))
        return _back(request, project, image_id)
    if request.htmx:
        return _changed(request, panel_context(request, conn, image))
    return _back(request, project, image_id)


@project_view(OPERATOR, methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def remove_member(request, project, image_id: str, member_id: str):
    """GET asks for confirmation (naming the project and its status); POST with the
    confirmation stops sharing."""
    conn = cloudapi_for(request)
    try:
        image = get_image_or_404(conn, image_id)
        member = conn.image.find_member(member_id, image) if image.visibility == "shared" else None
    except ApiError as e:
        messages.error(request, str(e))
        return _back(request, project, image_id)
    name = project_directory(request.user, request.project).name(member_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and member is not None:
        try:
            with audited(
                "image.unshare",
                conn,
                request=request,
                image=image,
                params={"member": member_id},
            ):
                conn.image.remove_member(member_id, image, ignore_missing=False)
            messages.success(request, f"Stopped sharing with {name or member_id}.")
        except ApiError as e:
            messages.error(request, str(e))
        if request.htmx:
            return _changed(request, panel_context(request, conn, image))
        return _back(request, project, image_id)
    context = {"image": image, "member": member, "member_id": member_id, "name": name}
    context["form"] = form if request.method == "POST" else ConfirmForm(initial={"confirm": True})
    return render(request, "images/member_remove.html", context)


# --- outbox: what this project shares, and who has answered ---------------------------------
OUTBOX_PAGE = 20


@project_view()
def outbox(request, project):
    """This project's shared images, a page at a time, each with every member's status
    (one list call, then the members of the page's images in parallel)."""
    conn = cloudapi_for(request)
    marker = request.GET.get("marker") or None
    if marker and not IMAGE_ID.match(marker):
        marker = None
    entries, next_marker, error = [], None, None
    try:
        page = conn.image.list_page(
            limit=OUTBOX_PAGE, marker=marker, owner=conn.auth.project_id, visibility="shared"
        )
        next_marker = page.next_marker
        directory = project_directory(request.user, request.project)
        found = in_parallel(lambda i: safe(conn.image.members, i), page.items)
        for image, members in zip(page.items, found, strict=True):
            failed = isinstance(members, ApiError)
            rows = [] if failed else [(m, directory.name(m.member_id)) for m in members]
            entries.append(
                {
                    "image": image,
                    "members": rows,
                    "error": str(members) if failed else "",
                    "accepted": sum(1 for m, _ in rows if m.status == "accepted"),
                    "waiting": sum(1 for m, _ in rows if m.status == "pending"),
                }
            )
    except ApiError as e:
        error = str(e)
    context = {"entries": entries, "next_marker": next_marker, "marker": marker, "error": error}
    return render(request, "images/outbox.html", context)


# --- bulk sharing: several images with several projects -----------------------------------
@project_view(OPERATOR, methods=("GET", "POST"))
def bulk_share(request, project):
    """``?image=<id>&image=<id>`` names the images (the image list's selection posts here
    too); POST shares each with every chosen project, with a result per pair."""
    conn = cloudapi_for(request)
    data = request.POST if request.method == "POST" else request.GET
    # The image list's "Share…" posts its selected rows (``ids``) here: show the form, unbound.
    from_list = request.method == "POST" and data.get("action") == "share"
    sharing = request.method == "POST" and not from_list
    chosen = data.getlist("ids") if from_list else data.getlist("image")
    try:
        mine = conn.auth.project_id
    except ApiError as e:
        messages.error(request, str(e))
        return render(request, "images/bulk_share.html", {"images": [], "form": None})
    directory = project_directory(request.user, request.project)
    form = BulkShareForm(
        data if sharing else None,
        initial={"image": chosen},
        choices=directory.choices(exclude=[mine]),
        own_id=mine,
    )
    ids_field = ImageIdsField(required=False)
    try:
        ids = ids_field.clean(chosen)
    except forms.ValidationError as e:
        ids = []
        messages.error(request, " ".join(e.messages))
    found = in_parallel(lambda i: safe(conn.image.get_image, i), ids)
    images = [i for i in found if isinstance(i, Image)]
    missing = [(i, str(f)) for i, f in zip(ids, found, strict=True) if isinstance(f, ApiError)]
    if sharing and form.is_valid() and images:
        results: list[ShareResult] = []
        for image in images:
            results += share_many(
                request, conn, image, form.cleaned_data["members"], directory,
                switch=form.cleaned_data["make_shared"],
            )  # fmt: skip
        messages.info(request, f"{sum(r.ok for r in results)} of {len(results)} shares done.")
        report(request, results, with_image=True)
        url = reverse("images:bulk_share", kwargs={"project_slug": project.slug})
        return redirect(url + "?" + urlencode([("image", i.id) for i in images]))
    context = {
        "images": images,
        "missing": missing,
        "form": form,
        "any_private": any(i.visibility == "private" for i in images),
    }
    return render(request, "images/bulk_share.html", context)
