"""Images pages: the project's images and IMS's cloud images (the shared-with-me inbox is
in inbox.py)."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from images.forms import CloudImageFilterForm, ImageFilterForm
from imsportal.cloud import cloudapi_for
from imsportal.cloudapi import ApiError
from imsportal.projects.access import project_view

PAGE_SIZE = 20


def _render_list(request, template: str, partial: str, context: dict):
    """Render a list page, or only its rows partial for htmx; pager links keep the filters.

    A history-restore request (Back after htmx's history cache missed) wants the whole
    page, and ``Vary: HX-Request`` keeps browsers and proxies from caching one as the other.
    """
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        template = f"{template}#{partial}"
    filters = request.GET.copy()
    filters.pop("marker", None)
    response = render(request, template, {**context, "filters": filters.urlencode()})
    patch_vary_headers(response, ["HX-Request"])
    return response


@project_view()
def image_list(request, project):
    form = ImageFilterForm(request.GET)
    page, error = None, None
    if form.is_valid():
        query = form.cloud_query()
        try:
            page = cloudapi_for(request).image.list_page(
                limit=PAGE_SIZE, marker=form.cleaned_data.get("marker"), **query
            )
        except ApiError as e:
            error = str(e)
    context = {"form": form, "page": page, "error": error}
    return _render_list(request, "images/image_list.html", "image-rows", context)


@project_view()
def cloudimage_list(request, project):
    """IMS's view of the images (``GET /v2/cloudimages``), one call per page."""
    form = CloudImageFilterForm(request.GET)
    images, next_marker, error = None, None, None
    if form.is_valid():
        query = form.cloud_query()
        marker = form.cleaned_data.get("marker")
        if marker:
            query["marker"] = str(marker)
        try:
            # One more than a page tells whether a next page exists, in the same call.
            images = list(cloudapi_for(request).ims.cloudimages(limit=PAGE_SIZE + 1, **query))
        except ApiError as e:
            error = str(e)
        if images and len(images) > PAGE_SIZE:
            images = images[:PAGE_SIZE]
            next_marker = images[-1].id
    context = {"form": form, "images": images, "next_marker": next_marker, "error": error}
    return _render_list(request, "images/cloudimage_list.html", "cloudimage-rows", context)
