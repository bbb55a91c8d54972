"""``conn.image``: the Glance v2 calls, with openstacksdk's method names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from imsportal.cloudapi.http import HttpClient
from imsportal.cloudapi.resources import Image


class Page(NamedTuple):
    items: list[Image]
    next_marker: str | None


def _id(value: Any) -> str:
    return value if isinstance(value, str) else value.id


class ImageProxy:
    def __init__(self, http: HttpClient, endpoint):
        self._http = http
        self._endpoint = endpoint  # callable returning the unversioned image endpoint

    @property
    def root(self) -> str:
        root = self._endpoint().rstrip("/")
        # Some catalogs register .../v2; paths below add it themselves.
        return root[: -len("/v2")] if root.endswith("/v2") else root

    def images(self, **query: Any) -> Iterator[Image]:
        """Yield images lazily, following ``next`` links.

        Args:
            **query: Glance list filters (``name``, ``status``, ``visibility``,
                ``member_status``, ``tag``, ``sort``...). ``limit`` caps the total number
                yielded; ``page_size`` sets the page size sent to the server.

        Raises:
            ApiError: on any failed page.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-images
        """
        limit = query.pop("limit", None)
        page_size = query.pop("page_size", None) or (min(int(limit), 1000) if limit else None)
        params = {k: _wire(v) for k, v in query.items() if v is not None}
        if page_size:
            params["limit"] = page_size
        url: str | None = f"{self.root}/v2/images"
        yielded = 0
        while url:
            resp = self._http.request("GET", url, params=params)
            body = resp.json()
            for item in body.get("images", []):
                if limit is not None and yielded >= int(limit):
                    return
                yield Image.from_api(item)
                yielded += 1
            if limit is not None and yielded >= int(limit):
                return
            nxt = body.get("next")
            # next is a path relative to the Glance root and already carries the query.
            url = f"{self.root}{nxt}" if nxt else None
            params = None

    def list_page(self, *, limit: int = 25, marker: str | None = None, **query: Any) -> Page:
        """Fetch one page of images (one HTTP call), for paged screens.

        Returns:
            Page: the images and the marker of the next page (``None`` on the last page).

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-images
        """
        params = {k: _wire(v) for k, v in query.items() if v not in (None, "")}
        params["limit"] = limit
        if marker:
            params["marker"] = marker
        body = self._http.request("GET", f"{self.root}/v2/images", params=params).json()
        items = [Image.from_api(item) for item in body.get("images", [])]
        next_marker = None
        if body.get("next"):
            next_marker = parse_qs(urlsplit(body["next"]).query).get("marker", [None])[-1]
        return Page(items, next_marker)

    def get_image(self, image: Any) -> Image:
        """Fetch one image.

        Args:
            image: an image id or an ``Image``.

        Raises:
            NotFoundError: the image does not exist or is not visible to the project.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image
        """
        resp = self._http.request("GET", f"{self.root}/v2/images/{_id(image)}")
        return Image.from_api(resp.json())


def _wire(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
