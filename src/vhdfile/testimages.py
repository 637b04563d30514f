"""Builders of small disk images with real partition tables, for tests of any layer:
a GPT disk whose EFI system partition (FAT) holds an EFI loader, an MBR disk with an
active partition and boot code, and the pieces to make others.

Everything is pure Python (no mkfs, no sgdisk), and only the written sectors are
allocated, so a 64 MiB dynamic image costs a few MiB.
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib

from .create import create
from .disk import VirtualDisk, open_disk
from .fat import make_fat
from .model import DiskFormat, DiskInfo, DiskType
from .partitions import BASIC_DATA_GUID, BIOS_BOOT_GUID, ESP_GUID, LINUX_FS_GUID

MiB = 1024 * 1024
BOOT_CODE = b"\xfa\x31\xc0\x8e\xd0\xbc\x00\x7c" + b"vhdfile test boot code\xf4\xeb\xfd"
EFI_STUB = b"MZ" + b"\0" * 58 + struct.pack("<I", 64) + b"PE\0\0" + b"vhdfile EFI stub"
GptPart = tuple[uuid.UUID, int, int, str]  # type, first LBA, last LBA, name


def write_mbr(
    disk: VirtualDisk, partitions: list[tuple[int, int, int, bool]], *, boot_code: bytes = BOOT_CODE
) -> None:
    """An MBR: up to four (type, first LBA, sectors, active) entries."""
    mbr = bytearray(512)
    mbr[: len(boot_code)] = boot_code
    for i, (ptype, first, count, active) in enumerate(partitions):
        struct.pack_into(
            "<B3sB3sII",
            mbr,
            446 + 16 * i,
            0x80 if active else 0,
            b"\xfe\xff\xff",
            ptype,
            b"\xfe\xff\xff",
            first,
            count,
        )
    mbr[510:512] = b"\x55\xaa"
    disk.write(0, mbr)


def write_gpt(
    disk: VirtualDisk,
    partitions: list[GptPart],
    *,
    boot_code: bytes = b"",
    attributes: dict[int, int] | None = None,
) -> uuid.UUID:
    """A protective MBR, the primary and backup GPT headers and 128 entries."""
    lba = disk.logical_sector_size
    last = disk.virtual_size // lba - 1
    entries = bytearray(128 * 128)
    for i, (ptype, first, end, name) in enumerate(partitions):
        struct.pack_into(
            "<16s16sQQQ72s",
            entries,
            128 * i,
            ptype.bytes_le,
            uuid.uuid4().bytes_le,
            first,
            end,
            (attributes or {}).get(i, 0),
            name.encode("utf-16-le"),
        )
    entry_sectors = len(entries) // lba
    disk_guid = uuid.uuid4()

    def header(current: int, backup: int, entries_lba: int) -> bytes:
        h = bytearray(lba)
        struct.pack_into(
            "<8sIIIIQQQQ16sQIII",
            h,
            0,
            b"EFI PART",
            0x00010000,
            92,
            0,
            0,
            current,
            backup,
            2 + entry_sectors,
            last - 1 - entry_sectors,
            disk_guid.bytes_le,
            entries_lba,
            128,
            128,
            zlib.crc32(entries),
        )
        struct.pack_into("<I", h, 16, zlib.crc32(h[:92]))
        return bytes(h)

    mbr = bytearray(512)
    mbr[: len(boot_code)] = boot_code
    struct.pack_into(
        "<B3sB3sII", mbr, 446, 0, b"\0\2\0", 0xEE, b"\xff\xff\xff", 1, min(last, 0xFFFFFFFF)
    )
    mbr[510:512] = b"\x55\xaa"
    disk.write(0, mbr.ljust(lba, b"\0"))
    disk.write(lba, header(1, last, 2))
    disk.write(2 * lba, entries)
    disk.write((last - entry_sectors) * lba, entries)
    disk.write(last * lba, header(last, 1, last - entry_sectors))
    return disk_guid


def write_fat(
    disk: VirtualDisk, offset: int, size: int, files: dict[str, bytes], *, fat32: bool = False
) -> None:
    for rel, data in make_fat(size, files, fat32=fat32):
        disk.write(offset + rel, data)


def gpt_uefi_image(
    path: str | os.PathLike[str],
    *,
    format: DiskFormat | str = DiskFormat.VHDX,
    type: DiskType | str = DiskType.DYNAMIC,
    size: int = 64 * MiB,
    esp_size: int = 34 * MiB,
    loader: str | None = "EFI/BOOT/BOOTX64.EFI",
    bios_boot: bool = False,
    fat32: bool = True,
    block_size: int | None = None,
    logical_sector_size: int | None = None,
) -> DiskInfo:
    """A GPT disk: an EFI system partition (FAT32 by default) holding `loader` (None for
    an empty ESP), a data partition, and optionally a BIOS boot partition with boot code
    in the protective MBR (a hybrid image that boots both ways)."""
    create(path, format, type, size, block_size=block_size, logical_sector_size=logical_sector_size)
    with open_disk(path, writable=True) as disk:
        lba = disk.logical_sector_size
        first = MiB // lba
        parts: list[GptPart] = []
        if bios_boot:
            parts.append((BIOS_BOOT_GUID, first, first + MiB // lba - 1, "BIOS boot"))
            first += MiB // lba
        esp_first = first
        parts.append((ESP_GUID, esp_first, esp_first + esp_size // lba - 1, "EFI system partition"))
        data_first = esp_first + esp_size // lba
        data_last = disk.virtual_size // lba - 34 - 1
        if data_last > data_first:
            parts.append((LINUX_FS_GUID, data_first, data_last, "root"))
        write_gpt(disk, parts, boot_code=BOOT_CODE if bios_boot else b"")
        files = {loader: EFI_STUB} if loader else {"EFI/README.TXT": b"no loader here\n"}
        write_fat(disk, esp_first * lba, esp_size, files, fat32=fat32)
    return open_info(path)


def mbr_bios_image(
    path: str | os.PathLike[str],
    *,
    format: DiskFormat | str = DiskFormat.VHD,
    type: DiskType | str = DiskType.DYNAMIC,
    size: int = 32 * MiB,
    active: bool = True,
    boot_code: bool = True,
    partition_type: int = 0x07,
    esp_with_loader: bool = False,
) -> DiskInfo:
    """An MBR disk with one partition (active, with boot code, by default); optionally a
    second partition of type 0xEF holding a FAT16 EFI loader (boots both ways)."""
    create(path, format, type, size)
    with open_disk(path, writable=True) as disk:
        sectors = disk.virtual_size // 512
        parts = [(partition_type, 2048, sectors // 2 - 2048, active)]
        if esp_with_loader:
            esp_first, esp_count = sectors // 2, sectors // 2 - 1
            parts.append((0xEF, esp_first, esp_count, False))
            write_fat(disk, esp_first * 512, esp_count * 512, {"EFI/BOOT/BOOTX64.EFI": EFI_STUB})
        write_mbr(disk, parts, boot_code=BOOT_CODE if boot_code else b"")
    return open_info(path)


def open_info(path: str | os.PathLike[str]) -> DiskInfo:
    with open_disk(path) as disk:
        return disk.info


__all__ = [
    "BASIC_DATA_GUID",
    "BOOT_CODE",
    "EFI_STUB",
    "gpt_uefi_image",
    "mbr_bios_image",
    "write_fat",
    "write_gpt",
    "write_mbr",
]
