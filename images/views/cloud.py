"""Cloud images: IMS's own list (``GET /v2/cloudimages``) and its edit form (``PATCH``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.vary import vary_on_headers

from images.forms import IMS_SORT_KEYS, CloudImageEditForm, CloudImageFilterForm
from images.views.lists import paging, sort_links, wants_partial
from imsportal.accounts.roles import OPERATOR
from imsportal.audit.record import audited
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError, NotFoundError
from imsportal.projects.access import project_view

PAGE_SIZE = 20


@project_view()
@vary_on_headers("HX-Request")
def cloudimage_list(request, project):
    """IMS's view of the images, one call per page."""
    form = CloudImageFilterForm(request.GET)
    images, next_marker, error, mine = None, None, None, ""
    context = {}
    if form.is_valid():
        data = form.cleaned_data
        limit = data["limit"] or PAGE_SIZE
        query = form.cloud_query()
        if data["marker"]:
            query["marker"] = data["marker"]
        conn = cloudapi_for(request)
        try:
            mine = conn.auth.project_id
            # One more than a page tells whether a next page exists, in the same call.
            images = list(conn.ims.cloudimages(limit=limit + 1, **query))
        except ApiError as e:
            error = str(e)
        if images and len(images) > limit:
            images = images[:limit]
            next_marker = images[-1].id
        context.update(paging(request.GET, data["marker"], data["trail"], next_marker))
        context["sort"] = sort_links(request.GET, *form.sort(), IMS_SORT_KEYS)
    context.update(form=form, images=images, error=error, mine=mine)
    template = "images/cloudimage_list.html"
    if wants_partial(request):
        template += "#cloudimage-rows"
    return render(request, template, context)


@project_view(OPERATOR, methods=("GET", "POST"))
def cloudimage_edit(request, project, image_id):
    """What IMS lets a project change on its own active private image, as IMS patch ops."""
    conn = cloudapi_for(request)
    try:
        image = conn.ims.get_cloudimage(str(image_id))
    except NotFoundError:
        raise Http404("No such image") from None
    except ApiError as e:
        return render(request, "images/image_error.html", {"error": str(e), "title": "Cloud image"})
    if request.method == "GET":
        form = CloudImageEditForm(initial=CloudImageEditForm.initial_for(image))
    else:
        form = CloudImageEditForm(request.POST)
        if form.is_valid():
            changes = form.changes(image)
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect("images:cloudimages", project.slug)
            try:
                with audited(
                    "cloudimage.update",
                    conn,
                    request=request,
                    image=image,
                    params={"changes": changes},
                ):
                    updated = conn.ims.update_cloudimage(image.id, **changes)
            except ApiError as e:
                form.add_error(None, str(e))  # IMS's own IMG.xxxx message
            else:
                messages.success(request, f"Saved cloud image “{updated.name}”.")
                url = reverse("images:cloudimages", args=[project.slug])
                return redirect(f"{url}?{urlencode({'name': updated.name or ''})}")
    return render(request, "images/cloudimage_edit.html", {"image": image, "form": form})
