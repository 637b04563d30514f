"""Root disk size: the flavor's root_gb bounds the disk FILE, not the virtual disk.

Nova accounts a flavor's root_gb as host disk space, and a VHD/VHDX file is larger
than the disk it holds, so the root disk gets the largest virtual size whose fully
allocated file still fits in root_gb GiB. The arithmetic is a strategy (`DiskMath`):
vhdfile provides the exact one for the files the driver writes; `default_disk_math`
computes it from the formats' documented layouts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nova_hyperv.rules.errors import RuleViolation

__all__ = [
    "GIB",
    "MIB",
    "VHDX_MAX_VIRTUAL_SIZE",
    "VHD_MAX_VIRTUAL_SIZE",
    "DiskLayout",
    "DiskMath",
    "default_disk_math",
    "fully_allocated_file_size",
    "max_virtual_size",
    "minimum_root_gb",
    "root_virtual_size",
]

SECTOR = 512
MIB = 1 << 20
GIB = 1 << 30
VHD_MAX_VIRTUAL_SIZE = 2040 * GIB
VHDX_MAX_VIRTUAL_SIZE = 64 << 40
VHD_DEFAULT_BLOCK_SIZE = 2 * MIB
VHDX_DEFAULT_BLOCK_SIZE = 32 * MIB  # what Hyper-V uses for a new dynamic VHDX
# VHDX: header section + log + metadata region, 1 MiB each.
VHDX_FIXED_OVERHEAD = 3 * MIB


@dataclass(frozen=True)
class DiskLayout:
    """The shape of the root disk file the driver will write."""

    format: str  # vhd | vhdx
    block_size: int | None = None  # None: the format's default
    fixed: bool = False  # VHD only: a fixed VHD is its data plus a footer
    logical_sector_size: int = SECTOR  # VHDX: 512 or 4096

    @property
    def effective_block_size(self) -> int:
        if self.block_size is not None:
            return self.block_size
        return VHD_DEFAULT_BLOCK_SIZE if self.format == "vhd" else VHDX_DEFAULT_BLOCK_SIZE


# (layout, largest file size in bytes) -> largest virtual size in bytes (0: none fits).
DiskMath = Callable[[DiskLayout, int], int]


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def _vhd_file_size(blocks: int, block_size: int) -> int:
    # footer copy + dynamic header + BAT (4 B an entry, whole sectors)
    # + per block its sector bitmap (1 bit a sector, whole sectors) and data + footer.
    bitmap = _round_up(-(-block_size // SECTOR // 8), SECTOR)
    bat = _round_up(4 * blocks, SECTOR)
    return SECTOR + 1024 + bat + blocks * (bitmap + block_size) + SECTOR


def _vhdx_bat_entries(blocks: int, block_size: int, logical_sector_size: int) -> int:
    # One sector-bitmap entry follows every `chunk_ratio` payload entries.
    chunk_ratio = (1 << 23) * logical_sector_size // block_size
    return blocks + (blocks - 1) // chunk_ratio if blocks else 0


def _vhdx_file_size(blocks: int, block_size: int, logical_sector_size: int) -> int:
    entries = _vhdx_bat_entries(blocks, block_size, logical_sector_size)
    bat_region = _round_up(max(8 * entries, 1), MIB)
    return VHDX_FIXED_OVERHEAD + bat_region + blocks * block_size


def fully_allocated_file_size(layout: DiskLayout, virtual_size: int) -> int:
    """The file size of a disk of `virtual_size` bytes once every block is written."""
    if layout.format == "vhd" and layout.fixed:
        return _round_up(virtual_size, SECTOR) + SECTOR
    block = layout.effective_block_size
    blocks = -(-virtual_size // block)
    if layout.format == "vhd":
        return _vhd_file_size(blocks, block)
    return _vhdx_file_size(blocks, block, layout.logical_sector_size)


def default_disk_math(layout: DiskLayout, file_size_limit: int) -> int:
    """Largest virtual size whose fully allocated file fits in file_size_limit bytes.

    Dynamic disks grow a block at a time, so the answer is a whole number of blocks;
    a fixed VHD is exact to the sector. Capped at the format's largest disk.
    """
    if layout.format == "vhd" and layout.fixed:
        size = (file_size_limit - SECTOR) // SECTOR * SECTOR
        return max(0, min(size, VHD_MAX_VIRTUAL_SIZE))
    block = layout.effective_block_size
    if layout.format == "vhd":
        largest = VHD_MAX_VIRTUAL_SIZE
        per_block = block + _round_up(-(-block // SECTOR // 8), SECTOR) + 4

        def file_size(n: int) -> int:
            return _vhd_file_size(n, block)
    else:
        largest = VHDX_MAX_VIRTUAL_SIZE
        sector = layout.logical_sector_size
        per_block = block + 8 + 8  # the data, its BAT entry, its share of bitmap entries

        def file_size(n: int) -> int:
            return _vhdx_file_size(n, block, sector)

    # Estimate from the per-block growth, then settle on the exact count: only the
    # rounding of the BAT (to a sector or a MiB) separates the estimate from it.
    most = -(-largest // block)
    blocks = min(most, max(0, (file_size_limit - file_size(0)) // per_block))
    while blocks < most and file_size(blocks + 1) <= file_size_limit:
        blocks += 1
    while blocks > 0 and file_size(blocks) > file_size_limit:
        blocks -= 1
    return min(blocks * block, largest)


def max_virtual_size(layout: DiskLayout) -> int:
    return VHD_MAX_VIRTUAL_SIZE if layout.format == "vhd" else VHDX_MAX_VIRTUAL_SIZE


def minimum_root_gb(layout: DiskLayout, virtual_size: int, disk_math: DiskMath) -> int | None:
    """The smallest root_gb whose file budget holds `virtual_size`; None if none can."""
    start = max(1, -(-virtual_size // GIB))
    # Overheads are a small fraction of a disk, so a few GiB above the data suffice;
    # the bound keeps a misbehaving strategy from looping for ever.
    for root_gb in range(start, start + 1 + start // 64 + 64):
        if disk_math(layout, root_gb * GIB) >= virtual_size:
            return root_gb
    return None


def root_virtual_size(
    root_gb: int,
    layout: DiskLayout,
    image_virtual_size: int | None,
    disk_math: DiskMath,
) -> int | None:
    """The root disk's virtual size for a flavor of root_gb GiB (0: the image's own size)."""
    if root_gb == 0:
        return image_virtual_size
    size = disk_math(layout, root_gb * GIB)
    needed = image_virtual_size if image_virtual_size is not None else 1
    if size >= needed:
        return size
    minimum = minimum_root_gb(layout, needed, disk_math)
    shown = "the image" if image_virtual_size is None else f"{image_virtual_size} bytes"
    if minimum is None:
        allowed = f"no flavor: {shown} is more than a {layout.format.upper()} file can hold"
    else:
        allowed = f"root_gb >= {minimum}"
    raise RuleViolation(
        "root-disk-too-small",
        "root_gb",
        root_gb,
        allowed,
        f"a {layout.format.upper()} root disk file of at most {root_gb} GiB holds a disk of "
        f"at most {size} bytes, which is less than {shown} (the flavor's disk size bounds "
        "the disk file, which is larger than the disk it holds)",
        source="flavor",
    )
