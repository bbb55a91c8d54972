"""``conn.image.upload_image`` and its machinery: open the data source, stream it in chunks
while hashing it, then check the cloud's checksums against the data sent. ``ImageProxy``
(image.py) inherits ``ImageUpload``."""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from imsportal.cloudapi import exceptions as exc
from imsportal.cloudapi.http import HttpClient, request_id_of
from imsportal.cloudapi.resources import Image

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024


class ImageUpload:
    """Glance v2 image upload; needs ``_http``, ``_url`` and ``create_image`` from
    ``ImageProxy``."""

    _http: HttpClient
    _url: Callable[..., str]
    create_image: Callable[..., Image]

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
            try:
                self._http.request(
                    "PUT",
                    self._url("images", image.id, "file"),
                    data=hashed.chunks(),
                    headers=headers,
                    retry=False,
                )
            except exc.ConnectionFailed:
                if hashed.source_error is not None:
                    raise hashed.source_error from None
                raise
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
    """Yields the source's chunks, counting them and reporting progress, while MD5 and
    SHA-512 of the same chunks are computed.

    With a second CPU to use, two helper threads hash: hashlib releases the GIL on large
    buffers, so hashing overlaps with the socket send instead of stalling it (serial
    hashing cost a third of the throughput on a 2-core machine); the queues are bounded,
    at most ``_AHEAD`` chunks wait to be hashed. A process held to one CPU hashes in line:
    there the threads only added hand-offs (about 15% slower in bench/upload_pipeline.py).
    """

    _AHEAD = 4

    def __init__(self, source: _Source, progress: Callable[[int], Any] | None):
        self.source = source
        self.progress = progress
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha512 = hashlib.sha512()
        self.sent = 0
        # requests reports an OSError raised while sending the body as a broken
        # connection; a failed read of the source is kept here to be raised as itself.
        self.source_error: OSError | None = None

    @staticmethod
    def _hash(digest: Any, chunks: queue.Queue[bytes | None]) -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    def chunks(self) -> Iterator[bytes]:
        # Helper threads only pay off with a second CPU to run on; on one they add a queue
        # hand-off and a GIL switch per chunk, and hashing in line is faster.
        if _usable_cpus() > 1:
            yield from self._chunks_hashed_alongside()
        else:
            yield from self._chunks_hashed_in_line()

    def _checked(self) -> Iterator[bytes]:
        """The source's chunks, checked against the size given; the count and the progress
        move as each chunk is taken by the sender."""
        expected = self.source.size
        try:
            for chunk in self.source:
                if expected is not None and self.sent + len(chunk) > expected:
                    raise exc.ApiError(
                        f"The data source holds more than the {expected} bytes given"
                    )
                yield chunk
                self.sent += len(chunk)
                if self.progress:
                    self.progress(self.sent)
            if expected is not None and self.sent != expected:
                # Stopping short of the Content-Length would leave the server waiting.
                raise exc.ApiError(f"The data source ended after {self.sent} of {expected} bytes")
        except OSError as e:
            self.source_error = e
            raise

    def _chunks_hashed_in_line(self) -> Iterator[bytes]:
        for chunk in self._checked():
            self.md5.update(chunk)
            self.sha512.update(chunk)
            yield chunk

    def _chunks_hashed_alongside(self) -> Iterator[bytes]:
        # One thread per digest: MD5 and SHA-512 run side by side, each in order.
        queues: list[queue.Queue[bytes | None]] = [queue.Queue(self._AHEAD) for _ in range(2)]
        hashers = [
            threading.Thread(target=self._hash, args=(digest, q), daemon=True)
            for digest, q in zip((self.md5, self.sha512), queues, strict=True)
        ]
        for hasher in hashers:
            hasher.start()
        try:
            for chunk in self._checked():
                for q in queues:
                    q.put(chunk)
                yield chunk
        finally:
            for q, hasher in zip(queues, hashers, strict=True):
                q.put(None)
                hasher.join()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
