"""Small but real disk images (raw with an MBR, qcow2, fixed VHD) for the seeded servers and
buckets, and the format sniffing an import uses to describe what it stored."""

from __future__ import annotations

import hashlib
import struct

KIB = 1024
GIB = 1024**3


def pattern(seed: str, size: int) -> bytes:
    """Deterministic, non-trivial bytes (a SHA-512 chain seeded by ``seed``)."""
    out = bytearray()
    block = hashlib.sha512(seed.encode()).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha512(block).digest()
    return bytes(out[:size])


def make_raw(seed: str, size: int = 256 * KIB) -> bytes:
    """A raw disk: an MBR with one bootable Linux partition over the rest of the disk."""
    disk = bytearray(pattern(seed, size))
    sectors = size // 512
    disk[446:510] = bytes(64)
    # status, CHS first (unused), type 0x83, CHS last (unused), first LBA, sector count
    disk[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\0\0", 0x83, b"\0\0\0", 1, sectors - 1)
    disk[510:512] = b"\x55\xaa"
    return bytes(disk)


def make_qcow2(seed: str, virtual_size: int = GIB) -> bytes:
    """A valid qcow2 (version 2, 64 KiB clusters) whose first cluster holds data.

    Clusters: 0 header, 1 L1 table, 2 refcount table, 3 refcount block, 4 L2 table, 5 data.
    """
    cluster = 64 * KIB
    copied = 1 << 63  # OFLAG_COPIED: refcount is exactly one
    l1_size = -(-virtual_size // (cluster * (cluster // 8)))
    out = bytearray(6 * cluster)
    header = struct.pack(
        ">IIQIIQIIQQIIQ",
        0x514649FB,  # "QFI\xfb"
        2,  # version
        0,  # backing file offset
        0,  # backing file size
        16,  # cluster bits
        virtual_size,
        0,  # no encryption
        l1_size,
        1 * cluster,  # L1 table offset
        2 * cluster,  # refcount table offset
        1,  # refcount table clusters
        0,  # snapshots
        0,  # snapshots offset
    )
    out[: len(header)] = header
    out[cluster : cluster + 8] = struct.pack(">Q", (4 * cluster) | copied)
    out[2 * cluster : 2 * cluster + 8] = struct.pack(">Q", 3 * cluster)
    out[3 * cluster : 3 * cluster + 12] = struct.pack(">6H", *([1] * 6))
    out[4 * cluster : 4 * cluster + 8] = struct.pack(">Q", (5 * cluster) | copied)
    out[5 * cluster :] = make_raw(seed, cluster)
    return bytes(out)


def _chs(size: int) -> tuple[int, int, int]:
    """The VHD footer geometry (algorithm from the VHD specification)."""
    total = min(size // 512, 65535 * 16 * 255)
    if total >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cyl_heads = total // spt
    else:
        spt = 17
        cyl_heads = total // spt
        heads = max((cyl_heads + 1023) // 1024, 4)
        if cyl_heads >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cyl_heads = total // spt
        if cyl_heads >= heads * 1024:
            spt, heads = 63, 16
            cyl_heads = total // spt
    return cyl_heads // heads, heads, spt


def make_vhd(seed: str, size: int = 256 * KIB) -> bytes:
    """A fixed VHD: the raw disk followed by its 512-byte footer."""
    cylinders, heads, spt = _chs(size)
    footer = bytearray(512)
    struct.pack_into(
        ">8sIIQI4sI4sQQHBBI",
        footer,
        0,
        b"conectix",
        2,  # features: reserved bit always set
        0x00010000,  # format version
        0xFFFFFFFFFFFFFFFF,  # data offset: none for a fixed disk
        0,  # timestamp
        b"lcld",  # creator application
        0x00010000,
        b"Wi2k",
        size,  # original size
        size,  # current size
        cylinders,
        heads,
        spt,
        2,  # disk type: fixed
    )
    footer[68:84] = hashlib.md5(seed.encode(), usedforsecurity=False).digest()
    checksum = ~sum(footer) & 0xFFFFFFFF
    struct.pack_into(">I", footer, 64, checksum)
    return make_raw(seed, size) + bytes(footer)


# Enough of the start of a file for every signature sniff() looks at (ISO's is at 32 KiB).
SNIFF_HEAD = 64 * KIB
# A fixed VHD's footer: its last 512 bytes.
SNIFF_TAIL = 512


def sniff(head: bytes, tail: bytes, size: int) -> tuple[str, int]:
    """(disk_format, virtual size in bytes) of an image file of ``size`` bytes, from its
    first SNIFF_HEAD bytes and its last SNIFF_TAIL bytes."""
    if head[:4] == b"QFI\xfb" and len(head) >= 32:
        return "qcow2", struct.unpack(">Q", head[24:32])[0]
    if size >= SNIFF_TAIL and tail[:8] == b"conectix":
        return "vhd", struct.unpack(">Q", tail[48:56])[0]
    if head[:8] == b"vhdxfile":
        return "vhdx", size
    if head[:4] == b"KDMV":
        return "vmdk", struct.unpack("<Q", head[12:20])[0] * 512
    if head[0x8001:0x8006] == b"CD001":
        return "iso", size
    return "raw", size
