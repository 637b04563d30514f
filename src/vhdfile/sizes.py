"""Exact size arithmetic: the file a virtual disk grows to, and the largest virtual disk
whose file fits a byte budget (what a Nova flavor's root_gb allows).

The figures are those of the layouts vhdfile writes (see `vhd` and `vhdx`), and the tests
check them by filling files completely. os-win's formula for dynamic VHDs leaves out the
512-byte sector bitmap in front of every block, so a disk it sizes to a budget outgrows
the budget once full; here every bitmap, table and padding byte is counted.
"""

from __future__ import annotations

from . import vhd, vhdx
from ._fileio import GiB, MiB, round_up
from .create import default_block_size
from .errors import RequestError
from .model import DiskFormat, DiskInfo, DiskType


def max_file_size(
    format: DiskFormat | str,
    type: DiskType | str,
    virtual_size: int,
    *,
    block_size: int | None = None,
    logical_sector_size: int = 512,
    parent_locator_bytes: int = 0,
) -> int:
    """The size of the file once every sector of the virtual disk has been written.

    For a differencing disk this is the worst case (every block partially written, so
    VHDX sector bitmaps are allocated too); `parent_locator_bytes` is the space of a VHD
    child's parent locators (see `vhd.build`).
    """
    fmt, dtype = DiskFormat(format), DiskType(type)
    if virtual_size <= 0:
        raise RequestError(f"{virtual_size}: a virtual size is positive", field="virtual size")
    bs = block_size or default_block_size(fmt, dtype)
    if fmt is DiskFormat.VHD:
        if dtype is DiskType.FIXED:
            return virtual_size + vhd.SECTOR
        blocks = -(-virtual_size // bs)
        return (
            3 * vhd.SECTOR
            + vhd.bat_bytes(blocks)
            + parent_locator_bytes
            + blocks * (vhd.bitmap_bytes(bs) + bs)
            + vhd.SECTOR
        )
    diff = dtype is DiskType.DIFFERENCING
    blocks, ratio, entries = vhdx.bat_layout(virtual_size, bs, logical_sector_size, diff)
    size = vhdx.BAT_OFFSET + round_up(entries * 8, MiB) + blocks * bs
    if diff:
        size += -(-blocks // ratio) * MiB
    return size


def largest_virtual_size(
    budget: int,
    format: DiskFormat | str,
    type: DiskType | str,
    *,
    block_size: int | None = None,
    logical_sector_size: int = 512,
    alignment: int | None = None,
    parent_locator_bytes: int = 0,
) -> int:
    """The largest virtual size (a multiple of `alignment`, by default the logical
    sector) whose fully written file is at most `budget` bytes; 0 if none fits.

    `max_file_size` only grows with the virtual size, so a binary search over multiples
    of the alignment finds the exact answer in about 40 steps.
    """
    fmt = DiskFormat(format)
    step = alignment or (512 if fmt is DiskFormat.VHD else logical_sector_size)
    limit = vhd.MAX_SIZE if fmt is DiskFormat.VHD else vhdx.MAX_SIZE

    def fits(units: int) -> bool:
        return (
            units == 0
            or max_file_size(
                fmt,
                type,
                units * step,
                block_size=block_size,
                logical_sector_size=logical_sector_size,
                parent_locator_bytes=parent_locator_bytes,
            )
            <= budget
        )

    lo, hi = 0, min(budget, limit) // step
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo * step


def minimum_flavor_root_gb(info: DiskInfo) -> int:
    """The smallest flavor root_gb whose budget holds this image fully written in its own
    format, type and block size (a differencing image counts as dynamic)."""
    dtype = DiskType.DYNAMIC if info.type is DiskType.DIFFERENCING else info.type
    need = max_file_size(
        info.format,
        dtype,
        info.virtual_size,
        block_size=info.block_size or None,
        logical_sector_size=info.logical_sector_size,
    )
    return -(-need // GiB)
