"""Glance v2 image data: ``PUT /v2/images/{id}/file`` and ``GET /v2/images/{id}/file``.

Uploads stream in constant memory: the body is read in large chunks (Content-Length or
chunked transfer, which gunicorn de-chunks) into a temporary file beside the images,
hashed (md5 + sha512) on the way, and renamed into place on success. No database
transaction is held while the bytes flow: the image is claimed with one conditional
UPDATE (queued -> saving) and finished with another (saving -> active), so a DELETE or
a list never waits for an upload.
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

from imsportal.localcloud.errors import glance_error
from imsportal.localcloud.glance.routing import image_not_found
from imsportal.localcloud.glance.rules import Caller, find_image, now
from imsportal.localcloud.glance.uploads import partial_path, reset_to_queued
from imsportal.localcloud.models import FaultConfig, Image

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024  # 4 MiB reads were ~25% faster but held ~19 MB more during an upload
HEAD = 64 * 1024  # enough of the start of the data to recognise every disk format
NO_FORMATS = "Properties disk_format, container_format must be set prior to saving data."
DISCONNECTED = "Client disconnected before sending all data to backend"
DRAIN_LIMIT = 64 * 1024 * 1024
# Hashing threads shared by all uploads: md5 and sha512 run beside the disk write.
_hashers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lc-hash")


class UploadAborted(Exception):
    def __init__(self, status: int, message: str, drop: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.drop = drop


# ---------------------------------------------------------------------------------------
# Format inspection (Glance >= 30 refuses data that does not match disk_format)

_SIGNATURES: dict[str, list[tuple[int, bytes]]] = {
    "qcow2": [(0, b"QFI\xfb")],
    "vmdk": [(0, b"KDMV"), (0, b"# Disk DescriptorFile")],
    "vhdx": [(0, b"vhdxfile")],
    "vhd": [(0, b"conectix")],
    "vdi": [(64, b"\x7f\x10\xda\xbe")],
    "iso": [(32769, b"CD001"), (32769, b"BEA01")],
}


def format_matches(disk_format: str, head: bytes) -> bool:
    """raw, ami, ari, aki and ploop are not inspected; the others need their magic."""
    signatures = _SIGNATURES.get(disk_format)
    if signatures is None:
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in signatures)


# The largest value the image table (SQLite INTEGER) holds.
MAX_VIRTUAL_SIZE = 2**63 - 1


def virtual_size(disk_format: str, head: bytes, size: int) -> int | None:
    """The disk's virtual size read from its header, as Glance's format inspector does;
    None when it cannot tell (no data, a header that is not the declared format's, or a
    size no disk has)."""
    if size == 0 or not format_matches(disk_format, head):
        return None
    found = _header_size(disk_format, head, size)
    return found if found is not None and 0 <= found <= MAX_VIRTUAL_SIZE else None


def _header_size(disk_format: str, head: bytes, size: int) -> int | None:
    try:
        if disk_format in ("raw", "iso"):
            return size
        if disk_format == "qcow2":
            return struct.unpack(">Q", head[24:32])[0]
        if disk_format == "vmdk" and head[:4] == b"KDMV":
            return struct.unpack("<Q", head[12:20])[0] * 512
        if disk_format == "vdi":
            return struct.unpack("<Q", head[368:376])[0]
        if disk_format == "vhd":
            return struct.unpack(">Q", head[48:56])[0]
    except struct.error:
        return None
    return None


# ---------------------------------------------------------------------------------------
# Upload


def _declared_size(request: HttpRequest, header: str) -> int | None:
    raw = request.headers.get(header)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise UploadAborted(400, f"Invalid {header} header: {raw}") from None


def _drop_connection(request: HttpRequest) -> None:
    """Close the client's socket so it sees the connection drop mid-body."""
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        raise ConnectionAbortedError("upload dropped by fault injection")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _body(request: HttpRequest) -> IO[bytes]:
    # Django bounds its stream by CONTENT_LENGTH (0 for chunked bodies), so a chunked
    # body is read from the WSGI input, which gunicorn de-chunks.
    return request.environ["wsgi.input"] if _is_chunked(request) else request


def _drain(request: HttpRequest) -> None:
    """Read and discard what is left of a refused body (up to DRAIN_LIMIT), so a client
    that sends its whole body before reading the answer gets the 413, not a reset."""
    left = DRAIN_LIMIT
    try:
        while left > 0:
            chunk = _body(request).read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
    except Exception:  # the client went away; nothing to answer
        return


def _stream(
    request: HttpRequest, target: Path, expected: int | None, drop_after: int | None
) -> tuple[int, str, str, bytes]:
    """Copy the body into ``target``; returns (size, md5, sha512, first bytes)."""
    chunked = _is_chunked(request)
    stream = _body(request)
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha512()
    head = b""
    total = 0
    pending = None
    with open(target, "wb") as out:
        while True:
            want = CHUNK if drop_after is None else min(CHUNK, drop_after - total)
            if want <= 0:
                raise UploadAborted(400, "upload dropped by fault injection", drop=True)
            chunk = stream.read(want)
            if not chunk:
                break
            total += len(chunk)
            if total > settings.MAX_IMAGE_SIZE:
                raise UploadAborted(
                    413,
                    f"Image exceeds the storage quota: the maximum image size is "
                    f"{settings.MAX_IMAGE_SIZE} bytes",
                )
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            if pending is not None:
                for future in pending:
                    future.result()
            # Hash this chunk in two threads while this one writes it and reads the next.
            pending = (_hashers.submit(md5.update, chunk), _hashers.submit(sha.update, chunk))
            out.write(chunk)
        if pending is not None:
            for future in pending:
                future.result()
    if expected is not None and total != expected:
        if not chunked and total < expected:
            raise UploadAborted(400, DISCONNECTED)
        raise UploadAborted(400, f"Image size mismatch: expected {expected}, received {total}")
    return total, md5.hexdigest(), sha.hexdigest(), head


def upload_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    if request.content_type != "application/octet-stream":
        return glance_error(
            request,
            415,
            f"The request media type {request.content_type or 'None'} is not supported "
            "by this server.",
        )
    image = find_image(caller, image_id)
    if image is None:
        return image_not_found(request, image_id)
    if not (caller.can_write and caller.owns(image)):
        return glance_error(request, 403, "You are not authorized to complete upload_image action.")
    if not (image.disk_format and image.container_format):
        return glance_error(request, 400, NO_FORMATS)
    try:
        length = _declared_size(request, "Content-Length")
        declared = _declared_size(request, "X-Openstack-Image-Size")
    except UploadAborted as e:
        return glance_error(request, e.status, e.message)
    for value in (length, declared):
        if value is not None and value > settings.MAX_IMAGE_SIZE:
            _drain(request)
            return glance_error(
                request,
                413,
                f"Image exceeds the storage quota: the maximum image size is "
                f"{settings.MAX_IMAGE_SIZE} bytes",
            )
    # Claim the image: one conditional UPDATE, so two uploads cannot both win.
    claimed = Image.objects.filter(pk=image.pk, status="queued").update(
        status="saving", updated_at=now()
    )
    if not claimed:
        status = Image.objects.filter(pk=image.pk).values_list("status", flat=True).first()
        return glance_error(
            request, 409, f"Image status transition from {status} to saving is not allowed"
        )
    fault = FaultConfig.current()
    images_dir = Path(settings.IMAGES_DIR)
    images_dir.mkdir(parents=True, exist_ok=True)
    temp = partial_path(image.pk)
    final = images_dir / image.pk
    try:
        size, md5, sha, head = _stream(
            request, temp, declared or length, fault.drop_upload_after_bytes
        )
        if image.container_format == "bare" and not format_matches(image.disk_format, head):
            raise UploadAborted(
                415, f"Image data does not match the declared disk_format {image.disk_format}"
            )
    except UploadAborted as e:
        temp.unlink(missing_ok=True)
        reset_to_queued([image.pk])
        if e.drop:
            _drop_connection(request)
        elif e.status == 413:
            _drain(request)
        return glance_error(request, e.status, e.message)
    except Exception:
        # The client went away (short read, truncated chunked body, reset socket).
        log.info("upload of %s interrupted", image.pk, exc_info=True)
        temp.unlink(missing_ok=True)
        reset_to_queued([image.pk])
        return glance_error(request, 400, DISCONNECTED)
    try:
        temp.replace(final)
        finished = Image.objects.filter(pk=image.pk, status="saving").update(
            status="active",
            size=size,
            virtual_size=virtual_size(image.disk_format, head, size),
            checksum=md5,
            os_hash_algo="sha512",
            os_hash_value=sha,
            updated_at=now(),
        )
    except Exception:
        # Whatever fails after the bytes arrived, the image must not stay in saving
        # with a file nobody will finish: back to queued, no file.
        temp.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        if not reset_to_queued([image.pk]):
            # Deleted while the bytes were flowing (the delete removed the partial file).
            return glance_error(request, 410, f"Image {image.pk} could not be found after upload.")
        log.exception("finishing the upload of %s failed", image.pk)
        return glance_error(request, 500, "The image data could not be stored.")
    if not finished:
        # Deleted while the bytes were flowing.
        final.unlink(missing_ok=True)
        return glance_error(request, 410, f"Image {image.pk} could not be found after upload.")
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------------
# Download

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _offset(digits: str) -> int:
    """A Range offset; one of thousands of digits (which int() refuses to parse) is
    simply larger than any file."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 19 else MAX_VIRTUAL_SIZE + 1


def _file_region(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        while length > 0:
            chunk = f.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def download_image(request: HttpRequest, caller: Caller, image_id: str) -> HttpResponse:
    image = find_image(caller, image_id) if caller.can_read else None
    if image is None:
        return image_not_found(request, image_id)
    if image.status == "deactivated" and not caller.is_admin:
        return glance_error(
            request,
            403,
            "The requested image has been deactivated. Image data download is forbidden.",
        )
    path = Path(settings.IMAGES_DIR) / image.pk
    if image.status not in ("active", "deactivated") or image.size is None or not path.exists():
        return HttpResponse(status=204)
    size = image.size
    wanted = request.headers.get("Range")
    if wanted:
        match = _RANGE.match(wanted.strip())
        start = end = -1
        if match and (match[1] or match[2]):
            if match[1]:
                start = _offset(match[1])
                end = min(_offset(match[2]), size - 1) if match[2] else size - 1
            else:
                start, end = max(size - _offset(match[2]), 0), size - 1
        if start < 0 or start > end or start >= size:
            resp = glance_error(request, 416, "Requested range not satisfiable")
            resp["Content-Range"] = f"bytes */{size}"
            return resp
        resp = StreamingHttpResponse(
            _file_region(path, start, end - start + 1),
            status=206,
            content_type="application/octet-stream",
        )
        resp["Content-Range"] = f"bytes {start}-{end}/{size}"
        resp["Content-Length"] = str(end - start + 1)
    else:
        # FileResponse hands the file to gunicorn's sendfile: flat memory, fast.
        resp = FileResponse(open(path, "rb"), content_type="application/octet-stream")  # noqa: SIM115
        resp.headers.pop("Content-Disposition", None)
        resp["Content-Length"] = str(size)
    if image.checksum:
        resp["Content-MD5"] = image.checksum
    return resp
