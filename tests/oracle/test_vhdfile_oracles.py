"""vhdfile against independent readers and writers: qemu-img (Debian qemu-utils),
dissect.hypervisor, sfdisk and mtools. Files stay a few MiB."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import vhdfile
from vhdfile.testimages import gpt_uefi_image, mbr_bios_image

pytestmark = pytest.mark.oracle
MiB = 1024 * 1024
KINDS = [("vhd", "fixed"), ("vhd", "dynamic"), ("vhdx", "fixed"), ("vhdx", "dynamic")]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup installs it)")
    return path


def qemu_fmt(path: Path) -> str:
    return "vhdx" if vhdfile.detect_format(path) is vhdfile.DiskFormat.VHDX else "vpc"


def qemu_info(path: Path) -> dict:
    out = subprocess.run(
        [tool("qemu-img"), "info", "--output=json", "-f", qemu_fmt(path), str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def reference_writes(size: int) -> list[tuple[int, bytes]]:
    return [
        (0, b"A" * 1000),
        (MiB + 3, os.urandom(2 * MiB + 5)),
        (size // 2 - 100, os.urandom(300)),
        (size - 700, b"Z" * 700),
    ]


@pytest.mark.parametrize(("fmt", "dtype"), KINDS)
@pytest.mark.parametrize("size", [8 * MiB, 8 * MiB + 512 * 7])
def test_qemu_reads_our_files(tmp_path: Path, fmt: str, dtype: str, size: int) -> None:
    path, raw = tmp_path / f"ours.{fmt}", tmp_path / "ref.raw"
    vhdfile.create(path, fmt, dtype, size, block_size=MiB if fmt == "vhdx" else None)
    ref = bytearray(size)
    with vhdfile.open_disk(path, writable=True) as disk:
        for offset, data in reference_writes(size):
            disk.write(offset, data)
            ref[offset : offset + len(data)] = data
    raw.write_bytes(ref)
    info = qemu_info(path)
    assert info["virtual-size"] == size
    subprocess.run(
        [tool("qemu-img"), "compare", "-f", qemu_fmt(path), "-F", "raw", str(path), str(raw)],
        check=True,
        capture_output=True,
    )
    if fmt == "vhdx":
        subprocess.run(
            [tool("qemu-img"), "check", "-f", "vhdx", str(path)], check=True, capture_output=True
        )


QEMU_FILES = [
    ("vpc", "subformat=dynamic", 8 * MiB),
    ("vpc", "subformat=dynamic,force_size=on", 8 * MiB),
    ("vpc", "subformat=fixed", 8 * MiB),
    ("vpc", "subformat=fixed,force_size=on", 10 * MiB + 512),
    ("vhdx", "subformat=dynamic,block_size=1M", 8 * MiB),
    ("vhdx", "subformat=dynamic,block_size=8M", 20 * MiB),
    ("vhdx", "subformat=fixed,block_size=2M", 8 * MiB),
    ("vhdx", "subformat=fixed,block_size=1M,block_state_zero=off", 6 * MiB),
]


@pytest.mark.parametrize(("qfmt", "options", "size"), QEMU_FILES)
def test_we_read_qemu_files(tmp_path: Path, qfmt: str, options: str, size: int) -> None:
    path, raw = tmp_path / f"q.{qfmt}", tmp_path / "q.raw"
    qemu_img, qemu_io = tool("qemu-img"), tool("qemu-io")
    subprocess.run(
        [qemu_img, "create", "-q", "-f", qfmt, "-o", options, str(path), str(size)], check=True
    )
    for offset, length, byte in ((0, 4096, 0x11), (MiB + 512, 3 * MiB, 0x22), (5 * MiB, 512, 0x33)):
        subprocess.run(
            [qemu_io, "-f", qfmt, "-c", f"write -P {byte} {offset} {length}", str(path)],
            check=True,
            capture_output=True,
        )
    subprocess.run([qemu_img, "convert", "-f", qfmt, "-O", "raw", str(path), str(raw)], check=True)
    qsize = qemu_info(path)["virtual-size"]
    with vhdfile.open_disk(path) as disk:
        assert disk.virtual_size == qsize  # CHS-rounded for qemu's own creator, like qemu
        assert disk.read(0, qsize) == raw.read_bytes()


@pytest.mark.parametrize(("fmt", "dtype"), KINDS)
def test_dissect_reads_our_files(tmp_path: Path, fmt: str, dtype: str) -> None:
    disk_mod = pytest.importorskip("dissect.hypervisor.disk." + fmt)
    path = tmp_path / f"d.{fmt}"
    size = 6 * MiB
    vhdfile.create(path, fmt, dtype, size, block_size=MiB if fmt == "vhdx" else None)
    with vhdfile.open_disk(path, writable=True) as disk:
        for offset, data in reference_writes(size):
            disk.write(offset, data)
        expected = disk.read(0, size)
    with open(path, "rb") as fh:
        other = disk_mod.VHDX(fh) if fmt == "vhdx" else disk_mod.VHD(fh)
        assert other.size == size
        assert other.read(size) == expected


def test_dissect_follows_our_differencing_vhdx(tmp_path: Path) -> None:
    from dissect.hypervisor.disk.vhdx import VHDX

    base, child = tmp_path / "b.vhdx", tmp_path / "c.vhdx"
    vhdfile.create(base, "vhdx", "dynamic", 4 * MiB, block_size=MiB)
    with vhdfile.open_disk(base, writable=True) as disk:
        disk.write(0, b"b" * (2 * MiB))
    vhdfile.create(child, "vhdx", "differencing", parent=base)
    with vhdfile.open_disk(child, writable=True) as disk:
        disk.write(1000 * 512, b"c" * 4096)
        expected = disk.read(0, 4 * MiB)
    other = VHDX(child)
    assert other.size == 4 * MiB and other.read(4 * MiB) == expected


def test_qemu_replays_the_log_we_write_as_we_do(tmp_path: Path) -> None:
    from vhdfile.vhdx import _InjectedFailure

    path = tmp_path / "log.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB, block_size=MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(MiB, b"x" * MiB)
    with pytest.raises(_InjectedFailure):
        vhdfile.resize(path, 24 * MiB, _fail_after=2)  # committed, not applied
    ours = vhdfile.inspect(path).virtual_size
    subprocess.run(
        [tool("qemu-img"), "check", "-r", "all", "-f", "vhdx", str(path)],
        check=True,
        capture_output=True,
    )
    assert ours == qemu_info(path)["virtual-size"] == 24 * MiB


def raw_copy(path: Path, tmp_path: Path) -> Path:
    raw = tmp_path / "disk.raw"
    subprocess.run(
        [tool("qemu-img"), "convert", "-f", qemu_fmt(path), "-O", "raw", str(path), str(raw)],
        check=True,
    )
    return raw


def test_test_images_read_by_sfdisk_and_mtools(tmp_path: Path) -> None:
    path = tmp_path / "g.vhdx"
    gpt_uefi_image(path, loader="EFI/Microsoft/Boot/bootmgfw.efi", bios_boot=True)
    raw = raw_copy(path, tmp_path)
    table = json.loads(
        subprocess.run(
            [tool("sfdisk"), "--json", str(raw)], check=True, capture_output=True, text=True
        ).stdout
    )["partitiontable"]
    assert table["label"] == "gpt"
    types = [p["type"] for p in table["partitions"]]
    assert types[:2] == [
        "21686148-6449-6E6F-744E-656564454649",
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    ]
    esp = table["partitions"][1]
    listing = subprocess.run(
        [tool("mdir"), "-i", f"{raw}@@{esp['start'] * 512}", "-/", "-b", "::/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "::/EFI/Microsoft/Boot/bootmgfw.efi" in listing
    part = tmp_path / "esp.img"
    with open(raw, "rb") as src, open(part, "wb") as dst:
        src.seek(esp["start"] * 512)
        dst.write(src.read(esp["size"] * 512))
    subprocess.run([tool("fsck.fat"), "-n", str(part)], check=True, capture_output=True)


def test_mbr_image_read_by_sfdisk(tmp_path: Path) -> None:
    path = tmp_path / "m.vhd"
    mbr_bios_image(path)
    raw = raw_copy(path, tmp_path)
    table = json.loads(
        subprocess.run(
            [tool("sfdisk"), "--json", str(raw)], check=True, capture_output=True, text=True
        ).stdout
    )["partitiontable"]
    assert table["label"] == "dos"
    assert table["partitions"][0]["bootable"] is True
