"""``conn.image``: the Glance v2 calls, with openstacksdk's method names.

Where openstacksdk misbehaves this proxy does not: every HTTP error raises (uploads
included), ``images(limit=N)`` yields at most N images, deleting by name deletes that image
(or says why not), and ``members`` honours its filter.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import HttpClient, query_value, request_id_of
from imsportal.cloudapi.members import ImageMembers
from imsportal.cloudapi.metadefs import ImageMetadefs
from imsportal.cloudapi.resources import Image, id_of
from imsportal.cloudapi.tags import ImageTags
from imsportal.cloudapi.upload import CHUNK_SIZE, ImageUpload

log = logging.getLogger(__name__)

PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
# Base properties of the image schema: PATCH "replace" always works on them, and they can
# never be removed (403), so ``None`` means "set to null" for these.
_BASE_PROPERTIES = frozenset(
    {
        "name",
        "visibility",
        "protected",
        "os_hidden",
        "owner",
        "container_format",
        "disk_format",
        "min_disk",
        "min_ram",
        "tags",
    }
)
# openstacksdk attribute names -> Glance wire names (for filters and updates).
_WIRE_NAMES = {"is_protected": "protected", "is_hidden": "os_hidden", "member_id": "member"}


class Page(NamedTuple):
    items: list[Image]
    next_marker: str | None


def _looks_like_id(value: str) -> bool:
    return bool(_UUID.match(value))


def _query(query: dict[str, Any]) -> dict[str, Any]:
    return {_WIRE_NAMES.get(k, k): query_value(v) for k, v in query.items() if v is not None}


def _pointer(name: str) -> str:
    return "/" + name.replace("~", "~0").replace("/", "~1")


class ImageProxy(ImageUpload, ImageTags, ImageMembers, ImageMetadefs):
    """Glance v2 images, data, tags and members for one project's credentials.

    ``upload_image`` and its machinery are in upload.py, the tag calls in tags.py and the
    member calls in members.py, the metadata-definition reads in metadefs.py.
    """

    def __init__(self, http: HttpClient, endpoint: Callable[[], str]):
        self._http = http
        self._endpoint = endpoint  # callable returning the image endpoint

    @property
    def root(self) -> str:
        """The unversioned Glance root (a path prefix such as ``/image`` is kept)."""
        root = self._endpoint().rstrip("/")
        # Some catalogs register .../v2; paths below add it themselves.
        return root[: -len("/v2")] if root.endswith("/v2") else root

    def _url(self, *parts: str) -> str:
        return "/".join([self.root, "v2", *(quote(p, safe="") for p in parts)])

    # --- images ------------------------------------------------------------------------
    def images(self, **query: Any) -> Iterator[Image]:
        """Yield images lazily, following ``next`` links.

        Unlike openstacksdk, ``limit`` caps the total: ``images(limit=10)`` makes one call
        for 10 images, not as many calls as it takes to list everything.

        Args:
            **query: Glance list filters (``name``, ``status``, ``visibility``,
                ``member_status``, ``owner``, ``tag`` (a list gives AND), ``size_min``,
                ``sort``, ``sort_key``, ``sort_dir``, ``os_hidden``/``is_hidden``,
                ``protected``/``is_protected``, and any custom property for equality).
                Booleans are sent as ``true``/``false``. ``limit`` caps the total
                number yielded; ``page_size`` sets the page size sent to the server
                (default: ``limit`` up to 1000, else the server's default).

        Returns:
            Iterator[Image]: a lazy generator; each page is fetched when needed.

        Raises:
            ApiError: on any failed page (e.g. ``BadRequestError`` for a bad filter).

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-images
        """
        limit = query.pop("limit", None)
        page_size = query.pop("page_size", None) or (min(int(limit), 1000) if limit else None)
        params = _query(query)
        if page_size:
            params["limit"] = page_size
        return self._paginate(params, None if limit is None else int(limit))

    def _paginate(self, params: dict[str, Any], limit: int | None) -> Iterator[Image]:
        if limit is not None and limit <= 0:
            return
        url: str | None = self._url("images")
        yielded = 0
        query: dict[str, Any] | None = params
        while url:
            body = self._http.request("GET", url, params=query).json()
            for item in body.get("images", []):
                yield Image.from_api(item)
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            nxt = body.get("next")
            # ``next`` is a path relative to the Glance root and carries the whole query.
            # Joined by hand: urljoin would drop a path prefix such as /image.
            url = f"{self.root}{nxt}" if nxt else None
            query = None

    def list_page(self, *, limit: int = 25, marker: str | None = None, **query: Any) -> Page:
        """Fetch one page of images (one HTTP call), for paged screens.

        Args:
            limit: the page size.
            marker: the id of the last image of the previous page.
            **query: filters, as for ``images``.

        Returns:
            Page: the images and the marker of the next page (``None`` on the last page).

        Raises:
            BadRequestError: a bad filter, or a marker that is gone.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-images
        """
        params = _query({k: v for k, v in query.items() if v != ""})
        params["limit"] = limit
        if marker:
            params["marker"] = marker
        body = self._http.request("GET", self._url("images"), params=params).json()
        items = [Image.from_api(item) for item in body.get("images", [])]
        next_marker = None
        if body.get("next"):
            next_marker = parse_qs(urlsplit(body["next"]).query).get("marker", [None])[-1]
        return Page(items, next_marker)

    def get_image(self, image: Any) -> Image:
        """Fetch one image.

        Args:
            image: an image id or an ``Image``.

        Returns:
            Image: the image as the cloud has it now.

        Raises:
            NotFoundError: the image does not exist or is not visible to the project.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image
        """
        return Image.from_api(self._http.request("GET", self._url("images", id_of(image))).json())

    def find_image(self, name_or_id: str, ignore_missing: bool = True) -> Image | None:
        """Find one image by id or exact name (hidden images included).

        Args:
            name_or_id: an image id, or an image name.
            ignore_missing: return ``None`` instead of raising when nothing matches.

        Returns:
            Image | None: the image, or ``None`` when nothing matches and
            ``ignore_missing`` is true.

        Raises:
            NotFoundError: nothing matches and ``ignore_missing`` is false.
            DuplicateResourceError: several images have that name.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-images
        """
        if _looks_like_id(name_or_id):
            try:
                return self.get_image(name_or_id)
            except exc.NotFoundError:
                pass
        return self._find_by_name(name_or_id, ignore_missing)

    def _find_by_name(self, name: str, ignore_missing: bool) -> Image | None:
        # A bare "a:b" would be parsed as operator "a"; eq: makes the colon literal.
        wire_name = f"eq:{name}" if ":" in name else name
        found: dict[str, Image] = {}
        for hidden in (False, True):
            for image in self.images(name=wire_name, os_hidden=hidden):
                if image.name == name:
                    found[image.id] = image
        if len(found) > 1:
            raise exc.DuplicateResourceError(f"{len(found)} images are named {name!r}; use the id")
        if found:
            return next(iter(found.values()))
        if ignore_missing:
            return None
        raise exc.NotFoundError(f"No image with id or name {name!r}", status_code=404)

    def create_image(self, **attrs: Any) -> Image:
        """Create an image record (status ``queued``, no data).

        Args:
            **attrs: ``name``, ``container_format``, ``disk_format``, ``visibility``,
                ``is_protected``/``protected``, ``min_disk``, ``min_ram``, ``tags``,
                ``id``, and custom properties (string values).

        Returns:
            Image: the new image.

        Raises:
            BadRequestError: a schema violation (e.g. a non-string custom property).
            ForbiddenError: a read-only or reserved attribute, or a visibility the
                project may not use.
            ConflictError: the id exists.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#create-image
        """
        body = {_WIRE_NAMES.get(k, k): v for k, v in attrs.items()}
        # Never retried: Glance has no idempotency key, a second POST is a second image.
        resp = self._http.request("POST", self._url("images"), json_body=body, retry=False)
        return Image.from_api(resp.json())

    def download_image(
        self, image: Any, output: str | os.PathLike | IO[bytes] | None = None, **options: Any
    ) -> bytes | int:
        """Download an image's data, streaming it to ``output``.

        Args:
            image: an image id or an ``Image``.
            output: a path or a binary file object to write to; ``None`` returns the bytes
                (small images only).
            **options: ``chunk_size`` (default 1 MiB).

        Returns:
            bytes | int: the data when ``output`` is ``None``, else the bytes written.

        Raises:
            NotFoundError: the image is not visible.
            ForbiddenError: the image is deactivated (non-admin) or policy denies.
            ChecksumMismatchError: the data does not match the ``Content-MD5`` header.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#download-binary-image-data
        """
        chunk_size = int(options.get("chunk_size", CHUNK_SIZE))
        resp = self._http.request(
            "GET",
            self._url("images", id_of(image), "file"),
            headers={"Accept": "application/octet-stream"},
            stream=True,
        )
        md5 = hashlib.md5(usedforsecurity=False)
        collected = bytearray()
        written = 0
        opened: IO[bytes] | None = None
        try:
            if isinstance(output, str | os.PathLike):
                opened = open(output, "wb")  # noqa: SIM115 - closed in finally
            sink = opened or output
            for chunk in resp.iter_content(chunk_size):
                md5.update(chunk)
                written += len(chunk)
                if sink is None:
                    collected += chunk
                else:
                    sink.write(chunk)  # type: ignore[union-attr]
        finally:
            resp.close()
            if opened:
                opened.close()
        expected = resp.headers.get("Content-MD5")
        # Glance sends the hex MD5 here, not RFC 1864's base64.
        if expected and len(expected) == 32 and expected != md5.hexdigest():
            raise exc.ChecksumMismatchError(
                f"Downloaded data of image {id_of(image)} does not match its MD5",
                request_id=request_id_of(resp),
            )
        return bytes(collected) if output is None else written

    def update_image(self, image: Any, **attrs: Any) -> Image:
        """Change image attributes with one JSON-patch (v2.1 media type).

        Base attributes are replaced; custom properties are added (``add`` replaces an
        existing one under v2.1); a custom property set to ``None`` is removed.

        Args:
            image: an image id or an ``Image``.
            **attrs: ``name``, ``visibility``, ``is_protected``/``protected``,
                ``is_hidden``/``os_hidden``, ``min_disk``, ``min_ram``, ``tags`` (the
                whole list), formats (queued images only), custom properties.

        Returns:
            Image: the updated image.

        Raises:
            ForbiddenError: a read-only attribute, or not the owner.
            ConflictError: removing a custom property the image does not have.
            NotFoundError: the image is not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#update-image
        """
        ops: list[dict[str, Any]] = []
        for key, value in attrs.items():
            name = _WIRE_NAMES.get(key, key)
            if name in _BASE_PROPERTIES:
                ops.append({"op": "replace", "path": _pointer(name), "value": value})
            elif value is None:
                ops.append({"op": "remove", "path": _pointer(name)})
            else:
                ops.append({"op": "add", "path": _pointer(name), "value": value})
        resp = self._http.request(
            "PATCH",
            self._url("images", id_of(image)),
            json_body=ops,
            headers={"Content-Type": PATCH_MEDIA_TYPE},
        )
        return Image.from_api(resp.json())

    def delete_image(self, image: Any, ignore_missing: bool = True) -> None:
        """Delete an image given by id, by ``Image``, or by its exact name.

        openstacksdk treats a name as an id, gets a 404 and silently does nothing; here a
        name is looked up, and several images with that name raise instead of guessing.

        Args:
            image: an image id, an ``Image``, or an image name.
            ignore_missing: return quietly when there is no such image.

        Returns:
            None

        Raises:
            NotFoundError: no such image and ``ignore_missing`` is false.
            DuplicateResourceError: a name that several images have.
            ForbiddenError: the image is protected, or not owned by the project.
            ConflictError: the store still uses the data.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#delete-image
        """
        if not isinstance(image, str):
            self._delete(id_of(image), ignore_missing)
            return
        if _looks_like_id(image):
            try:
                self._http.request("DELETE", self._url("images", image))
                return
            except exc.NotFoundError:
                pass  # no image with that id; it may still be a name
        found = self._find_by_name(image, ignore_missing)
        if found is not None:
            self._delete(found.id, ignore_missing)

    def _delete(self, image_id: str, ignore_missing: bool) -> None:
        try:
            self._http.request("DELETE", self._url("images", image_id))
        except exc.NotFoundError:
            if not ignore_missing:
                raise

    def deactivate_image(self, image: Any) -> None:
        """Deactivate an active image (its data can no longer be downloaded or booted).

        Args:
            image: an image id or an ``Image``.

        Returns:
            None

        Raises:
            ForbiddenError: the image is not active, or policy denies it.
            NotFoundError: the image is not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#deactivate-image
        """
        # A no-op when already deactivated, so retrying the POST is safe.
        self._http.request(
            "POST", self._url("images", id_of(image), "actions", "deactivate"), retry=True
        )

    def reactivate_image(self, image: Any) -> None:
        """Reactivate a deactivated image.

        Args:
            image: an image id or an ``Image``.

        Returns:
            None

        Raises:
            ForbiddenError: the image is not deactivated or active, or policy denies it.
            NotFoundError: the image is not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#reactivate-image
        """
        self._http.request(
            "POST", self._url("images", id_of(image), "actions", "reactivate"), retry=True
        )
