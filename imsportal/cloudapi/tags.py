"""``conn.image``'s tag calls: add and remove one image tag. ``ImageProxy`` (image.py)
inherits them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imsportal.cloudapi.http import HttpClient
from imsportal.cloudapi.resources import id_of


class ImageTags:
    """Glance v2 image tags; needs ``_http`` and ``_url`` from ``ImageProxy``."""

    _http: HttpClient
    _url: Callable[..., str]

    def add_tag(self, image: Any, tag: str) -> None:
        """Add a tag to an image (adding an existing tag is fine).

        Args:
            image: an image id or an ``Image``.
            tag: the tag (percent-encoded into the path here).

        Returns:
            None

        Raises:
            BadRequestError: a tag over 255 characters.
            PayloadTooLargeError: over the tag quota.
            ForbiddenError, NotFoundError: not allowed, or not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#add-image-tag
        """
        self._http.request("PUT", self._url("images", id_of(image), "tags", tag))

    def remove_tag(self, image: Any, tag: str) -> None:
        """Remove a tag from an image.

        Args:
            image: an image id or an ``Image``.
            tag: the tag.

        Returns:
            None

        Raises:
            NotFoundError: the image does not have the tag, or is not visible.
            ForbiddenError: not allowed.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#delete-image-tag
        """
        self._http.request("DELETE", self._url("images", id_of(image), "tags", tag))
