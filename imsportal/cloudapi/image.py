"""``conn.image``: the Glance v2 calls, with openstacksdk's method names.

Where openstacksdk misbehaves this proxy does not: every HTTP error raises (uploads
included), ``images(limit=N)`` yields at most N images, deleting by name deletes that image
(or says why not), and ``members`` honours its filter.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import HttpClient, request_id_of
from imsportal.cloudapi.resources import Image, Member

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
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


def _id(value: Any) -> str:
    """An id from an id string or a resource (``Image``, ``Member``) or its dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id") or value.get("member_id") or ""
    return value.id


def _looks_like_id(value: str) -> bool:
    return bool(_UUID.match(value))


def _wire(value: Any) -> Any:
    """Query values as Glance wants them: lowercase booleans, lists repeated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return [_wire(v) for v in value]
    return value


def _query(query: dict[str, Any]) -> dict[str, Any]:
    return {_WIRE_NAMES.get(k, k): _wire(v) for k, v in query.items() if v is not None}


def _pointer(name: str) -> str:
    return "/" + name.replace("~", "~0").replace("/", "~1")


class ImageProxy:
    """Glance v2 images, data, tags and members for one project's credentials."""

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
        return Image.from_api(self._http.request("GET", self._url("images", _id(image))).json())

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
        # A bare "a:b" would be parsed as operator "a"; eq: makes the colon literal.
        name = f"eq:{name_or_id}" if ":" in name_or_id else name_or_id
        found: dict[str, Image] = {}
        for hidden in (False, True):
            for image in self.images(name=name, os_hidden=hidden):
                if image.name == name_or_id:
                    found[image.id] = image
        if len(found) > 1:
            raise exc.DuplicateResourceError(
                f"{len(found)} images are named {name_or_id!r}; use the id"
            )
        if found:
            return next(iter(found.values()))
        if ignore_missing:
            return None
        raise exc.NotFoundError(f"No image with id or name {name_or_id!r}", status_code=404)

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

    def upload_image(
        self,
        container_format: str | None = None,
        disk_format: str | None = None,
        data: Any = None,
        **attrs: Any,
    ) -> Image:
        """Create an image and stream its data: ``POST /v2/images`` then ``PUT /file``.

        The data is sent in ``chunk_size`` pieces (constant memory) with a Content-Length
        when the size is known; MD5 and SHA-512 are computed while sending and checked
        against the ``checksum`` and ``os_hash_value`` the cloud reports. The PUT is never
        retried (a stream cannot be replayed): callers retry the whole upload.

        Args:
            container_format: e.g. ``bare`` (required with data).
            disk_format: e.g. ``qcow2``, ``raw`` (required with data; since Glance 30 it
                must match the content, else 415).
            data: a path (``str``/``Path``), a binary file object, ``bytes``, or an
                iterable of ``bytes``; ``None`` creates the record only.
            **attrs: image attributes as for ``create_image``, plus these options:
                ``progress`` (a callable receiving the bytes sent so far),
                ``keep_on_failure`` (keep the queued image when the upload fails; by
                default it is deleted), ``size`` (bytes, for an iterable source),
                ``chunk_size`` (default 1 MiB).

        Returns:
            Image: the image after the upload (normally ``active`` with its hashes).

        Raises:
            ValueError: data without both formats.
            ChecksumMismatchError: the cloud's checksums differ from the data sent.
            PayloadTooLargeError, UnsupportedMediaTypeError, ConflictError, ApiError: the
                upload failed; the queued image was deleted unless ``keep_on_failure``.
            OSError: reading the source failed (the image is cleaned up the same way).

        # Reference: https://docs.openstack.org/api-ref/image/v2/#upload-binary-image-data
        """
        progress = attrs.pop("progress", None)
        keep_on_failure = bool(attrs.pop("keep_on_failure", False))
        size = attrs.pop("size", None)
        chunk_size = int(attrs.pop("chunk_size", CHUNK_SIZE))
        if data is not None and not (container_format and disk_format):
            raise ValueError("upload_image needs container_format and disk_format with data")
        if container_format:
            attrs["container_format"] = container_format
        if disk_format:
            attrs["disk_format"] = disk_format
        image = self.create_image(**attrs)
        if data is None:
            return image
        try:
            return self._upload_data(image, data, size, chunk_size, progress)
        except BaseException:
            if not keep_on_failure:
                self._cleanup(image)
            raise

    def _upload_data(
        self,
        image: Image,
        data: Any,
        size: int | None,
        chunk_size: int,
        progress: Callable[[int], Any] | None,
    ) -> Image:
        with _Source(data, size, chunk_size) as source:
            hashed = _HashingStream(source, progress)
            headers = {"Content-Type": "application/octet-stream"}
            if source.size is not None:
                headers["Content-Length"] = str(source.size)
                headers["x-openstack-image-size"] = str(source.size)
            self._http.request(
                "PUT",
                self._url("images", image.id, "file"),
                data=hashed.chunks(),
                headers=headers,
                retry=False,
            )
        resp = self._http.request("GET", self._url("images", image.id))
        uploaded = Image.from_api(resp.json())
        problems = []
        if uploaded.checksum and uploaded.checksum != hashed.md5.hexdigest():
            problems.append(f"MD5 {uploaded.checksum} != sent {hashed.md5.hexdigest()}")
        algo = (uploaded.os_hash_algo or "sha512").lower()
        if uploaded.os_hash_value and algo == "sha512":
            if uploaded.os_hash_value != hashed.sha512.hexdigest():
                problems.append("SHA-512 differs from the data sent")
        elif uploaded.os_hash_value:
            log.info("not verifying os_hash_value: algorithm %s", algo)
        if (
            uploaded.size is not None
            and uploaded.status == "active"
            and uploaded.size != hashed.sent
        ):
            problems.append(f"size {uploaded.size} != sent {hashed.sent}")
        if problems:
            raise exc.ChecksumMismatchError(
                f"Image {image.id} does not match the uploaded data: " + "; ".join(problems),
                request_id=request_id_of(resp),
                method="PUT",
                url=self._url("images", image.id, "file"),
            )
        return uploaded

    def _cleanup(self, image: Image) -> None:
        try:
            self._http.request("DELETE", self._url("images", image.id))
        except exc.NotFoundError:
            pass
        except exc.ApiError as e:  # keep the upload's own error as the one raised
            log.warning("could not delete image %s after a failed upload: %s", image.id, e)

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
            self._url("images", _id(image), "file"),
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
                f"Downloaded data of image {_id(image)} does not match its MD5",
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
            self._url("images", _id(image)),
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
        if not isinstance(image, str) or _looks_like_id(image):
            try:
                self._http.request("DELETE", self._url("images", _id(image)))
                return
            except exc.NotFoundError:
                if not isinstance(image, str):
                    if ignore_missing:
                        return
                    raise
        found = self.find_image(image, ignore_missing=ignore_missing)
        if found is None:
            return
        try:
            self._http.request("DELETE", self._url("images", found.id))
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
            "POST", self._url("images", _id(image), "actions", "deactivate"), retry=True
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
            "POST", self._url("images", _id(image), "actions", "reactivate"), retry=True
        )

    # --- tags --------------------------------------------------------------------------
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
        self._http.request("PUT", self._url("images", _id(image), "tags", tag))

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
        self._http.request("DELETE", self._url("images", _id(image), "tags", tag))

    # --- members -----------------------------------------------------------------------
    def add_member(self, image: Any, **attrs: Any) -> Member:
        """Share an image with a project (the image must have visibility ``shared``).

        Args:
            image: an image id or an ``Image``.
            **attrs: ``member_id`` (or ``member``): the project id to share with.

        Returns:
            Member: the new member, status ``pending``.

        Raises:
            ValueError: no member id given.
            ForbiddenError: the image is not ``shared``, or the project is not its owner.
            ConflictError: the project is already a member.
            PayloadTooLargeError: over the member quota.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#create-image-member
        """
        member = attrs.get("member_id") or attrs.get("member")
        if not member:
            raise ValueError("add_member needs member_id (the project id to share with)")
        resp = self._http.request(
            "POST",
            self._url("images", _id(image), "members"),
            json_body={"member": _id(member)},
            retry=False,
        )
        return Member.from_api(resp.json())

    def remove_member(self, member: Any, image: Any, ignore_missing: bool = True) -> None:
        """Stop sharing an image with a project (owner only).

        Args:
            member: a member (project) id or a ``Member``.
            image: an image id or an ``Image``.
            ignore_missing: return quietly when the project is not a member.

        Returns:
            None

        Raises:
            NotFoundError: not a member and ``ignore_missing`` is false.
            ForbiddenError: the caller is not the image owner.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#delete-image-member
        """
        try:
            self._http.request("DELETE", self._url("images", _id(image), "members", _id(member)))
        except exc.NotFoundError:
            if not ignore_missing:
                raise

    def find_member(
        self, name_or_id: str, image: Any, ignore_missing: bool = True
    ) -> Member | None:
        """Find one member of an image by project id (members have no names).

        Args:
            name_or_id: the member project id.
            image: an image id or an ``Image``.
            ignore_missing: return ``None`` instead of raising when not found.

        Returns:
            Member | None: the member, or ``None``.

        Raises:
            NotFoundError: not found and ``ignore_missing`` is false.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image-member-details
        """
        try:
            return self.get_member(name_or_id, image)
        except exc.NotFoundError:
            if ignore_missing:
                return None
            raise

    def get_member(self, member: Any, image: Any) -> Member:
        """Fetch one member of an image (the owner sees all, a member only itself).

        Args:
            member: a member (project) id or a ``Member``.
            image: an image id or an ``Image``.

        Returns:
            Member: the member.

        Raises:
            NotFoundError: no such member, or not visible to the caller.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#show-image-member-details
        """
        resp = self._http.request("GET", self._url("images", _id(image), "members", _id(member)))
        return Member.from_api(resp.json())

    def members(self, image: Any, *, status: str | None = None) -> list[Member]:
        """List an image's members (the owner sees all, a member only its own entry).

        Glance has no filter here; ``status`` is applied to the answer (openstacksdk
        silently ignores every filter on this call).

        Args:
            image: an image id or an ``Image``.
            status: keep only members with this status (``pending``, ``accepted``,
                ``rejected``).

        Returns:
            list[Member]: the members.

        Raises:
            ForbiddenError: the image is not ``shared``.
            NotFoundError: the image is not visible.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#list-image-members
        """
        body = self._http.request("GET", self._url("images", _id(image), "members")).json()
        members = [Member.from_api(m) for m in body.get("members", [])]
        if status is not None:
            members = [m for m in members if m.status == status]
        return members

    def update_member(self, member: Any, image: Any, **attrs: Any) -> Member:
        """Accept, reject or reset a share; called with the *member* project's credentials.

        Args:
            member: the member (project) id, normally the caller's own, or a ``Member``.
            image: an image id or an ``Image``.
            **attrs: ``status`` (``accepted``, ``rejected``, ``pending``); on IMS also
                ``vault_id`` when accepting a full-ECS image.

        Returns:
            Member: the member with its new status.

        Raises:
            ValueError: no status given.
            ForbiddenError: the caller is the owner, not the member.
            NotFoundError: not a member, or not visible.
            BadRequestError: an invalid status.

        # Reference: https://docs.openstack.org/api-ref/image/v2/#update-image-member
        """
        if not attrs.get("status"):
            raise ValueError("update_member needs status")
        body = {k: v for k, v in attrs.items() if k in ("status", "vault_id")}
        resp = self._http.request(
            "PUT", self._url("images", _id(image), "members", _id(member)), json_body=body
        )
        return Member.from_api(resp.json())


class _Source:
    """Opens the upload's data source and knows its size when it can be known."""

    def __init__(self, data: Any, size: int | None, chunk_size: int):
        self.data = data
        self.size = size
        self.chunk_size = chunk_size
        self._opened: IO[bytes] | None = None

    def __enter__(self) -> _Source:
        data = self.data
        if isinstance(data, str | os.PathLike):
            path = Path(data)
            self._opened = open(path, "rb")  # noqa: SIM115 - closed in __exit__
            self.size = path.stat().st_size
        elif isinstance(data, bytes | bytearray | memoryview):
            self.size = len(data)
        elif hasattr(data, "read") and self.size is None:
            self.size = _remaining(data)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._opened:
            self._opened.close()

    def __iter__(self) -> Iterator[bytes]:
        data = self._opened or self.data
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data)
            for start in range(0, len(view), self.chunk_size):
                yield bytes(view[start : start + self.chunk_size])
        elif hasattr(data, "read"):
            while True:
                chunk = data.read(self.chunk_size)
                if not chunk:
                    return
                yield chunk
        else:
            yield from _as_bytes(data)


def _as_bytes(chunks: Iterable[Any]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield bytes(chunk)


def _remaining(fileobj: Any) -> int | None:
    """Bytes left in a file object, when it is a regular file or seekable."""
    try:
        pos = fileobj.tell()
    except (AttributeError, OSError, ValueError):
        return None
    try:
        return max(os.fstat(fileobj.fileno()).st_size - pos, 0)
    except (AttributeError, OSError, ValueError):
        pass
    try:
        end = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(pos)
        return max(end - pos, 0)
    except (AttributeError, OSError, ValueError):
        return None


class _HashingStream:
    """Yields the source's chunks, counting them and reporting progress, while two helper
    threads compute MD5 and SHA-512 of the same chunks.

    hashlib releases the GIL on large buffers, so hashing overlaps with the socket send
    instead of stalling it (serial hashing cost a third of the throughput on a 2-core
    machine). The queue is bounded: at most ``_AHEAD`` chunks wait to be hashed.
    """

    _AHEAD = 4

    def __init__(self, source: _Source, progress: Callable[[int], Any] | None):
        self.source = source
        self.progress = progress
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha512 = hashlib.sha512()
        self.sent = 0

    @staticmethod
    def _hash(digest: Any, chunks: queue.Queue[bytes | None]) -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    def chunks(self) -> Iterator[bytes]:
        expected = self.source.size
        # One thread per digest: MD5 and SHA-512 run side by side, each in order.
        queues: list[queue.Queue[bytes | None]] = [queue.Queue(self._AHEAD) for _ in range(2)]
        hashers = [
            threading.Thread(target=self._hash, args=(digest, q), daemon=True)
            for digest, q in zip((self.md5, self.sha512), queues, strict=True)
        ]
        for hasher in hashers:
            hasher.start()
        try:
            for chunk in self.source:
                if expected is not None and self.sent + len(chunk) > expected:
                    raise exc.ApiError(
                        f"The data source holds more than the {expected} bytes given"
                    )
                for q in queues:
                    q.put(chunk)
                yield chunk
                self.sent += len(chunk)
                if self.progress:
                    self.progress(self.sent)
            if expected is not None and self.sent != expected:
                # Stopping short of the Content-Length would leave the server waiting.
                raise exc.ApiError(f"The data source ended after {self.sent} of {expected} bytes")
        finally:
            for q, hasher in zip(queues, hashers, strict=True):
                q.put(None)
                hasher.join()
