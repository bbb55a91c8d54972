"""One image: its page, edit, delete (with unprotect), deactivate/reactivate and tags.

Every change runs inside ``audited(...)``; destructive POSTs need ``confirm=yes`` (the
dialog or the confirmation page sets it), so an empty POST changes nothing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from images.forms import (
    ConfirmForm,
    ImageEditForm,
    RemoveTagForm,
    TagForm,
)
from images.metadefs import definitions_for
from images.owners import known_owners
from images.views.members import panel_context
from imsportal.accounts.roles import OPERATOR
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError, Image, NotFoundError
from imsportal.projects.access import project_view
from jobs.models import Job


# --- helpers -------------------------------------------------------------------------------
def load_image(request, image_id: UUID | str) -> Image:
    """The image, or ``Http404`` when the cloud does not know it (other errors propagate)."""
    try:
        return cloudapi_for(request).image.get_image(str(image_id))
    except NotFoundError:
        raise Http404("No such image") from None


def _back(request, project, image_id) -> str:
    """Where a plain POST returns: a same-site ``next``, else the image's page."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}):
        return nxt
    return reverse("images:detail", args=[project.slug, image_id])


def _done(request, url: str) -> HttpResponse:
    """The end of an action: a redirect, a client-side one for htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _cloud_error_page(request, error: ApiError, title: str = "Image") -> HttpResponse:
    """A readable page for a cloud that failed (down, slow, refusing), never a 500."""
    return render(request, "images/image_error.html", {"error": str(error), "title": title})


# --- the page -----------------------------------------------------------------------------
@project_view()
def image_detail(request, project, image_id: UUID):
    try:
        image = load_image(request, image_id)
    except ApiError as e:
        return _cloud_error_page(request, e)
    owners = known_owners(request.user, project)
    props = sorted(image.properties.items())
    context = {
        # The members panel (one more call, for members, when the image is shared).
        **panel_context(request, cloudapi_for(request), image),
        "image": image,
        # Only the owner may change an image: others' images show no change controls.
        "is_mine": image.owner == cloudapi_for(request).auth.project_id,
        "owners": owners,
        "custom_properties": [(k, v) for k, v in props if not k.startswith("__")],
        "ims_properties": [(k, v) for k, v in props if k.startswith("__")],
        "jobs": Job.objects.filter(project=project, image_id=str(image_id))[:50],
        "tag_form": TagForm(),
    }
    return render(request, "images/image_detail.html", context)


# --- edit -----------------------------------------------------------------------------------
# update_image keyword -> (the name the cloud uses in its messages, the form field)
_EDIT_NAMES = {"is_protected": ("protected", "protected"), "is_hidden": ("os_hidden", "hidden")}


def _field_for(error: str, changes: dict[str, Any]) -> str | None:
    """The form field a cloud refusal is about, when its message names a changed attribute
    (Glance quotes it: "Attribute 'checksum' is read-only."); else the whole form."""
    named = set(re.findall(r"'([^']+)'", error))
    for attr in changes:
        wire, field = _EDIT_NAMES.get(attr, (attr, attr))
        if wire in named:
            return field if field in ImageEditForm.base_fields else "properties"
    return None


@project_view(OPERATOR, methods=("GET", "POST"))
def image_edit(request, project, image_id: UUID):
    try:
        image = load_image(request, image_id)
    except ApiError as e:
        return _cloud_error_page(request, e)
    # Suggestions and value checks from the cloud's metadefs; none where it serves none.
    definitions = definitions_for(project, cloudapi_for(request))
    if request.method == "GET":
        form = ImageEditForm(initial=ImageEditForm.initial_for(image), definitions=definitions)
        return render(request, "images/image_edit.html", {"image": image, "form": form})
    form = ImageEditForm(request.POST, definitions=definitions)
    if form.is_valid():
        changes = form.changes(image)
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("images:detail", project.slug, image.id)
        conn = cloudapi_for(request)
        try:
            # One JSON patch with every change: Glance applies all of it or none.
            with audited(
                "image.update",
                conn,
                request=request,
                image=image,
                params={"changes": changes},
            ):
                updated = conn.image.update_image(image.id, **changes)
        except NotFoundError:
            raise Http404("No such image") from None
        except ApiError as e:
            # Read-only and reserved attributes: the cloud's own words, as a form error.
            form.add_error(_field_for(str(e), changes), str(e))
        else:
            messages.success(request, f"Saved image “{updated.name}”.")
            return redirect("images:detail", project.slug, image.id)
    return render(request, "images/image_edit.html", {"image": image, "form": form})


# --- delete, unprotect, deactivate, reactivate -------------------------------------------------
@project_view(OPERATOR, methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def image_delete(request, project, image_id: UUID):
    """GET or an unconfirmed POST shows the confirmation page (the no-JS path)."""
    try:
        image = load_image(request, image_id)
    except ApiError as e:
        return _cloud_error_page(request, e)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and not image.is_protected:
        conn = cloudapi_for(request)
        try:
            with audited(
                "image.delete",
                conn,
                request=request,
                image=image,
            ):
                conn.image.delete_image(image.id, ignore_missing=False)
        except ApiError as e:
            messages.warning(request, str(e))
        else:
            messages.success(request, f"Deleted image “{image.name or image.id}”.")
            return _done(request, reverse("images:list", args=[project.slug]))
    return render(request, "images/image_delete.html", {"image": image})


@project_view(OPERATOR, methods=("POST",))
def image_unprotect(request, project, image_id: UUID):
    """Remove protection, then go back to the delete confirmation."""
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.warning(request, "Confirm removing the protection.")
        return redirect("images:delete", project.slug, image_id)
    conn = cloudapi_for(request)
    try:
        image = load_image(request, image_id)
        if image.is_protected:
            with audited(
                "image.update",
                conn,
                request=request,
                image=image,
                params={"changes": {"is_protected": False}},
            ):
                conn.image.update_image(image.id, is_protected=False)
        messages.success(request, f"“{image.name or image.id}” is no longer protected.")
    except ApiError as e:
        messages.warning(request, str(e))
    return redirect("images:delete", project.slug, image_id)


_EXPLAIN = {
    "deactivate": "Its data can no longer be downloaded or booted until it is reactivated.",
    "reactivate": "Its data can be downloaded and booted again.",
}


def _status_action(request, project, image_id, action: str) -> HttpResponse:
    back = _back(request, project, image_id)
    if not ConfirmForm(request.POST).is_valid():
        # No JS (or no dialog): ask on a page of its own; nothing changes yet.
        try:
            image = load_image(request, image_id)
        except ApiError as e:
            return _cloud_error_page(request, e)
        label = image.name or image.id
        context = {
            "question": f"{action.capitalize()} image “{label}”?",
            "explanation": _EXPLAIN[action],
            "action": request.path,
            "button": action.capitalize(),
            "back": back,
        }
        return render(request, "images/image_confirm.html", context)
    conn = cloudapi_for(request)
    target = "deactivated" if action == "deactivate" else "active"
    try:
        image = load_image(request, image_id)
        label = image.name or image.id
        if image.status == target:  # already there: nothing to do, nothing to audit
            messages.info(request, f"“{label}” is already {target}.")
            return _done(request, back)
        with audited(
            f"image.{action}",
            conn,
            request=request,
            image=image,
        ):
            getattr(conn.image, f"{action}_image")(image.id)
        messages.success(request, f"{action.capitalize()}d image “{label}”.")
    except ApiError as e:
        messages.warning(request, str(e))
    return _done(request, back)


@project_view(OPERATOR, methods=("POST",))
def image_deactivate(request, project, image_id: UUID):
    return _status_action(request, project, image_id, "deactivate")


@project_view(OPERATOR, methods=("POST",))
def image_reactivate(request, project, image_id: UUID):
    return _status_action(request, project, image_id, "reactivate")


# --- tags -------------------------------------------------------------------------------------
def _tags_response(
    request,
    image: Image,
    tags: list[str],
    form,
    back: str,
    changed: bool,
    error: str = "",
    announce: str = "",
):
    """The tag chips fragment for htmx (with a ``tagsChanged`` event), else a redirect."""
    shown = dataclasses.replace(image, tags=tags)
    context = {
        "image": shown,
        "tag_form": form,
        "back": back,
        "tag_error": error,
        "announce": announce,  # read out by screen readers: the chips changed in place
        # the list's chips fold the add form away; the detail page shows it
        "compact": request.POST.get("compact") == "1" and request.htmx,
    }
    if request.htmx:
        resp = render(request, "includes/_tags.html", context)
        if changed:
            trigger_client_event(resp, "tagsChanged", {"id": image.id, "tags": tags})
        return resp
    if form is not None and form.errors:
        # No JS: the field error on a small page of its own (200, like any invalid form).
        return render(request, "images/image_tags.html", context)
    return redirect(back)


@project_view(OPERATOR, methods=("GET", "POST"))
@vary_on_headers("HX-Request")
def image_tags(request, project, image_id: UUID):
    """GET: the tags page (the row menu's "Tags"); POST: add one tag."""
    back = _back(request, project, image_id)
    try:
        image = load_image(request, image_id)
    except ApiError as e:
        return _cloud_error_page(request, e)
    if request.method == "GET":
        return render(
            request,
            "images/image_tags.html",
            {"image": image, "tag_form": TagForm(), "back": back},
        )
    form = TagForm(request.POST, existing=image.tags)
    if not form.is_valid():
        return _tags_response(request, image, image.tags, form, back, False)
    tag = form.cleaned_data["tag"]
    conn = cloudapi_for(request)
    try:
        with audited(
            "image.tag.add",
            conn,
            request=request,
            image=image,
            params={"tag": tag},
        ):
            conn.image.add_tag(image.id, tag)
    except ApiError as e:
        form.add_error("tag", str(e))
        return _tags_response(request, image, image.tags, form, back, False)
    if not request.htmx:
        messages.success(request, f"Added tag “{tag}” to “{image.name or image.id}”.")
    tags = [*image.tags, tag]
    return _tags_response(request, image, tags, TagForm(), back, True, announce=f"Added tag {tag}.")


@project_view(OPERATOR, methods=("POST",))
@vary_on_headers("HX-Request")
def image_tag_remove(request, project, image_id: UUID):
    back = _back(request, project, image_id)
    try:
        image = load_image(request, image_id)
    except ApiError as e:
        return _cloud_error_page(request, e)
    form = RemoveTagForm(request.POST)
    if not form.is_valid() or form.cleaned_data["tag"] not in image.tags:
        error = "The image does not have that tag."
        if not request.htmx:
            messages.warning(request, error)
        return _tags_response(request, image, image.tags, TagForm(), back, False, error)
    tag = form.cleaned_data["tag"]
    conn = cloudapi_for(request)
    try:
        with audited(
            "image.tag.remove",
            conn,
            request=request,
            image=image,
            params={"tag": tag},
        ):
            conn.image.remove_tag(image.id, tag)
    except ApiError as e:
        if not request.htmx:
            messages.warning(request, str(e))
        return _tags_response(request, image, image.tags, TagForm(), back, False, str(e))
    if not request.htmx:
        messages.success(request, f"Removed tag “{tag}” from “{image.name or image.id}”.")
    tags = [t for t in image.tags if t != tag]
    return _tags_response(
        request, image, tags, TagForm(), back, True, announce=f"Removed tag {tag}."
    )
