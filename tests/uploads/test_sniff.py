"""Formats read from the header (and a VHD's footer), whatever the file's name says."""

import pytest

from images.sniff import mismatch_message, sniff_bytes, sniff_file

HEADS = {
    "qcow2": b"QFI\xfb\x00\x00\x00\x03",
    "vhdx": b"vhdxfile",
    "vmdk": b"KDMV\x01\x00\x00\x00",
    "vdi": b"<<< Oracle VM VirtualBox Disk Image >>>\n".ljust(0x40, b"\0") + b"\x7f\x10\xda\xbe",
    "vhd": b"conectix",
}


@pytest.mark.parametrize(("fmt", "head"), HEADS.items())
def test_it_recognises_each_magic(fmt, head):
    assert sniff_bytes(head.ljust(65536, b"\0")) == fmt


def test_a_text_vmdk_descriptor_is_vmdk():
    assert sniff_bytes(b"# Disk DescriptorFile\nversion=1\n") == "vmdk"


def test_a_fixed_vhd_is_found_by_its_footer(tmp_path):
    path = tmp_path / "fixed.vhd"
    path.write_bytes(b"\0" * 100_000 + b"conectix".ljust(512, b"\0"))
    assert sniff_file(path) == "vhd"


def test_an_iso_is_found_at_sector_16(tmp_path):
    path = tmp_path / "x.iso"
    path.write_bytes(b"\0" * 0x8001 + b"CD001" + b"\0" * 4000)
    assert sniff_file(path) == "iso"


def test_anything_else_is_raw(tmp_path):
    path = tmp_path / "disk.qcow2"  # the name does not matter
    path.write_bytes(b"\x00" * 2048)
    assert sniff_file(path) == "raw"


def test_the_mismatch_message_names_both_formats():
    assert mismatch_message("qcow2", "qcow2") is None
    text = mismatch_message("raw", "qcow2")
    assert "qcow2 image" in text
    assert "says raw" in text
    assert "nothing was sent" in text
