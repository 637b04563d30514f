"""Partition tables, boot verdicts and the FAT reader, on images from vhdfile.testimages."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import MiB

import vhdfile
from vhdfile import Boot, sniff_boot
from vhdfile.fat import FatVolume, make_fat
from vhdfile.testimages import gpt_uefi_image, mbr_bios_image


def verdict(path: Path) -> vhdfile.BootInfo:
    with vhdfile.open_disk(path) as disk:
        return sniff_boot(disk)


@pytest.mark.parametrize(
    ("builder", "kwargs", "expected", "loader"),
    [
        (gpt_uefi_image, {}, Boot.UEFI, r"\EFI\BOOT\BOOTX64.EFI"),
        (
            gpt_uefi_image,
            {"loader": "EFI/Microsoft/Boot/bootmgfw.efi", "fat32": False},
            Boot.UEFI,
            r"\EFI\Microsoft\Boot\bootmgfw.efi",
        ),
        (gpt_uefi_image, {"bios_boot": True}, Boot.BOTH, r"\EFI\BOOT\BOOTX64.EFI"),
        (gpt_uefi_image, {"loader": None}, Boot.UNKNOWN, None),
        (
            gpt_uefi_image,
            {"logical_sector_size": 4096, "format": "vhdx"},
            Boot.UEFI,
            r"\EFI\BOOT\BOOTX64.EFI",
        ),
        (mbr_bios_image, {}, Boot.BIOS, None),
        (mbr_bios_image, {"active": False}, Boot.UNKNOWN, None),
        (mbr_bios_image, {"boot_code": False}, Boot.UNKNOWN, None),
        (mbr_bios_image, {"esp_with_loader": True}, Boot.BOTH, r"\EFI\BOOT\BOOTX64.EFI"),
    ],
)
def test_boot_verdicts(
    tmp_path: Path, builder, kwargs: dict, expected: Boot, loader: str | None
) -> None:
    path = tmp_path / "img.vhdx"
    builder(path, **kwargs)
    boot = verdict(path)
    assert (boot.verdict, boot.efi_loader) == (expected, loader)


def test_gpt_partitions_are_listed(tmp_path: Path) -> None:
    gpt_uefi_image(tmp_path / "g.vhdx", bios_boot=True)
    table = verdict(tmp_path / "g.vhdx").table
    assert table.scheme == "gpt"
    assert [p.is_bios_boot for p in table.partitions] == [True, False, False]
    esp = table.partitions[1]
    assert esp.is_esp and esp.start == 2 * MiB and esp.size == 34 * MiB


def test_a_bad_primary_gpt_falls_back_to_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "g.vhdx"
    gpt_uefi_image(path)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(512 + 100, b"\xff" * 8)  # breaks the primary header's CRC
    assert verdict(path).verdict is Boot.UEFI


def test_no_partition_table(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "e.vhdx", "vhdx", "dynamic", 8 * MiB)
    boot = verdict(tmp_path / "e.vhdx")
    assert (boot.table.scheme, boot.verdict) == ("none", Boot.UNKNOWN)


@pytest.mark.parametrize(("size", "fat32", "kind"), [(8 * MiB, False, 16), (40 * MiB, True, 32)])
def test_fat_reader_reads_what_the_writer_wrote(size: int, fat32: bool, kind: int) -> None:
    image = bytearray(size)
    files = {"EFI/BOOT/BOOTX64.EFI": b"x" * 5000, "Long Directory Name/a file.txt": b"y"}
    for offset, data in make_fat(size, files, fat32=fat32):
        image[offset : offset + len(data)] = data
    volume = FatVolume(lambda o, n: bytes(image[o : o + n]), 0, size)
    assert volume.kind == kind
    assert volume.exists(r"\efi\boot\bootx64.efi")
    assert volume.exists("Long Directory Name/A FILE.TXT")
    assert not volume.exists("EFI/BOOT")  # a directory, not a file
    assert not volume.exists("EFI/BOOT/missing.efi")
