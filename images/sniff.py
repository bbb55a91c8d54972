"""What an image file really is, read from its header (and a VHD's footer).

Glance (since 30) and IMS refuse data that does not match the declared ``disk_format``; the
portal checks first, on the staged file, so a mismatch is refused before a byte goes out.
"""

from __future__ import annotations

import os
from pathlib import Path

# The formats the upload form offers, and that this module recognises.
DISK_FORMATS = ("qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso")

_VDI_MAGIC = b"\x7f\x10\xda\xbe"  # 0xbeda107f little-endian, at 0x40
_ISO_OFFSET = 0x8001  # "CD001" in the first volume descriptor (sector 16 + 1)


def sniff_bytes(head: bytes, tail: bytes = b"") -> str:
    """The format of a file given its first 64 KiB (``head``) and last 512 bytes (``tail``)."""
    if head.startswith(b"QFI\xfb"):
        return "qcow2"
    if head.startswith(b"vhdxfile"):
        return "vhdx"
    if head.startswith(b"KDMV") or head.startswith(b"# Disk DescriptorFile"):
        return "vmdk"
    if head[0x40:0x44] == _VDI_MAGIC or head.startswith(b"<<< Oracle VM VirtualBox"):
        return "vdi"
    # A dynamic VHD starts with a copy of its footer; a fixed one only has the footer.
    if head.startswith(b"conectix") or tail.startswith(b"conectix"):
        return "vhd"
    if head[_ISO_OFFSET : _ISO_OFFSET + 5] == b"CD001":
        return "iso"
    return "raw"


def sniff_file(path: str | os.PathLike) -> str:
    """Read only the header and footer: constant time whatever the file's size."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
        tail = b""
        if size >= 512:
            f.seek(size - 512)
            tail = f.read(512)
    return sniff_bytes(head, tail)


def mismatch_message(declared: str, found: str) -> str | None:
    """``None`` when the file is what the form said, else a sentence for the user."""
    if declared == found:
        return None
    return (
        f"The file is a {found} image, but the form says {declared}. Choose disk format "
        f"{found} (or convert the file) and upload again; nothing was sent to the cloud."
    )
