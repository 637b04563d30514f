"""Creating new VHD and VHDX files with Hyper-V's defaults and Hyper-V's refusals."""

from __future__ import annotations

import ntpath
import os
import uuid
from pathlib import Path

from . import vhd, vhdx
from ._fileio import MiB, atomic_output
from .disk import ParentResolver, inspect, open_disk
from .errors import RequestError
from .model import DiskFormat, DiskInfo, DiskType

VHD_BLOCK_SIZES = (512 * 1024, 2 * MiB)
SECTOR_SIZES = (512, 4096)


def default_block_size(fmt: DiskFormat, disk_type: DiskType) -> int:
    """Hyper-V's: VHD 2 MiB; VHDX 32 MiB, or 2 MiB for a differencing VHDX."""
    if fmt is DiskFormat.VHD:
        return vhd.DEFAULT_BLOCK_SIZE
    if disk_type is DiskType.DIFFERENCING:
        return vhdx.DEFAULT_DIFF_BLOCK_SIZE
    return vhdx.DEFAULT_BLOCK_SIZE


def validate_geometry(
    fmt: DiskFormat,
    disk_type: DiskType,
    virtual_size: int,
    block_size: int,
    logical_sector_size: int,
    physical_sector_size: int,
) -> None:
    """Refuse what Hyper-V refuses, naming the field, the value and what is allowed."""
    if fmt is DiskFormat.VHD:
        if logical_sector_size != 512 or physical_sector_size != 512:
            raise RequestError(
                f"{logical_sector_size}/{physical_sector_size}: a VHD has 512-byte "
                "sectors only (use VHDX for 4 KiB sectors)",
                field="sector size",
            )
        if not 0 < virtual_size <= vhd.MAX_SIZE or virtual_size % 512:
            raise RequestError(
                f"{virtual_size}: a VHD holds a positive multiple of 512 bytes up to 2040 GiB",
                field="virtual size",
            )
        if disk_type is not DiskType.FIXED and block_size not in VHD_BLOCK_SIZES:
            raise RequestError(
                f"{block_size}: a VHD's blocks are 512 KiB or 2 MiB", field="block size"
            )
        return
    if logical_sector_size not in SECTOR_SIZES or physical_sector_size not in SECTOR_SIZES:
        raise RequestError(
            f"{logical_sector_size}/{physical_sector_size}: sector sizes are 512 or 4096",
            field="sector size",
        )
    if physical_sector_size < logical_sector_size:
        raise RequestError(
            f"physical sector {physical_sector_size} is smaller than the logical "
            f"sector {logical_sector_size}",
            field="physical sector size",
        )
    if not 0 < virtual_size <= vhdx.MAX_SIZE or virtual_size % logical_sector_size:
        raise RequestError(
            f"{virtual_size}: a VHDX holds a positive multiple of its "
            f"{logical_sector_size}-byte logical sector up to 64 TiB",
            field="virtual size",
        )
    if not MiB <= block_size <= 256 * MiB or block_size & (block_size - 1):
        raise RequestError(
            f"{block_size}: VHDX blocks are a power of two from 1 MiB to 256 MiB",
            field="block size",
        )


def format_for_path(path: str | os.PathLike[str]) -> DiskFormat:
    """The format Hyper-V picks from a new file's extension (.vhd or .vhdx)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".vhdx", ".avhdx"):
        return DiskFormat.VHDX
    if suffix in (".vhd", ".avhd"):
        return DiskFormat.VHD
    raise RequestError(
        f"{suffix or 'no extension'}: the file name must end in .vhd or .vhdx", field="path"
    )


def create(
    path: str | os.PathLike[str],
    format: DiskFormat | str,
    type: DiskType | str,
    virtual_size: int | None = None,
    *,
    block_size: int | None = None,
    logical_sector_size: int | None = None,
    physical_sector_size: int | None = None,
    parent: str | os.PathLike[str] | None = None,
    parent_path_in_file: str | None = None,
    parent_resolver: ParentResolver | None = None,
    preallocate: bool = False,
    disk_id: uuid.UUID | None = None,
) -> DiskInfo:
    """Create a new disk file; an existing file is never overwritten.

    Differencing disks take their size and sector sizes from `parent` (a larger size is
    allowed for VHDX). `parent_path_in_file` overrides the absolute path recorded in the
    child (the emulated host records Windows paths). Fixed disks are sparse unless
    `preallocate` reserves their space, as Hyper-V does.
    """
    fmt, dtype = DiskFormat(format), DiskType(type)
    final = Path(path)
    if final.exists():
        raise RequestError("the file already exists", path=str(final), field="path")
    disk_id = disk_id or uuid.uuid4()
    vhd_parent: tuple[bytes, int, str, str] | None = None
    locator: dict[str, str] | None = None
    if dtype is DiskType.DIFFERENCING:
        if parent is None:
            raise RequestError("a differencing disk needs a parent", field="parent")
        with open_disk(parent, parent_resolver=parent_resolver) as base:
            if base.format is not fmt:
                raise RequestError(
                    f"the parent is a {base.format}; a {fmt} child needs a {fmt} parent",
                    field="parent",
                )
            psize, plss, ppss = (
                base.virtual_size,
                base.logical_sector_size,
                base.backend.physical_sector_size,
            )
            absolute = parent_path_in_file or os.path.abspath(parent)
            relative = _relative(os.path.abspath(parent), os.path.abspath(final))
            if fmt is DiskFormat.VHD:
                vhd_parent = (
                    base.backend.disk_id.bytes,
                    vhd.timestamp(os.stat(parent).st_mtime),
                    absolute,
                    relative,
                )
            else:
                locator = {
                    "parent_linkage": base.backend.linkage_id(),
                    "relative_path": relative,
                    "absolute_win32_path": absolute,
                }
        virtual_size = virtual_size or psize
        if virtual_size < psize or (fmt is DiskFormat.VHD and virtual_size != psize):
            raise RequestError(
                f"{virtual_size}: a differencing disk is as large as its parent "
                f"({psize})" + (" or larger" if fmt is DiskFormat.VHDX else ""),
                field="virtual size",
            )
        if logical_sector_size not in (None, plss):
            raise RequestError(
                f"{logical_sector_size}: a differencing disk has its parent's "
                f"logical sector size ({plss})",
                field="logical sector size",
            )
        logical_sector_size = plss
        physical_sector_size = physical_sector_size or ppss
    elif parent is not None:
        raise RequestError(f"a {dtype} disk has no parent", field="parent")
    if virtual_size is None:
        raise RequestError("a size is needed", field="virtual size")
    lss = logical_sector_size or 512
    pss = physical_sector_size or (512 if fmt is DiskFormat.VHD else 4096)
    if fmt is DiskFormat.VHD and dtype is DiskType.FIXED and block_size:
        raise RequestError(f"{block_size}: a fixed VHD has no blocks", field="block size")
    bs = block_size or default_block_size(fmt, dtype)
    validate_geometry(fmt, dtype, virtual_size, bs, lss, pss)
    with atomic_output(final) as tmp:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            if fmt is DiskFormat.VHD:
                vhd.build(fd, dtype, virtual_size, bs, disk_id, vhd_parent)
                data = (0, virtual_size) if dtype is DiskType.FIXED else None
            else:
                vhdx.build(fd, dtype, virtual_size, bs, lss, pss, disk_id, locator)
                data = (vhdx.BAT_OFFSET, os.fstat(fd).st_size) if dtype is DiskType.FIXED else None
            if preallocate and data is not None:
                os.posix_fallocate(fd, data[0], data[1] - data[0])
            os.fsync(fd)
        finally:
            os.close(fd)
    return inspect(final, parent_resolver=parent_resolver)


def _relative(parent: str, child: str) -> str:
    """The parent's path relative to the child's directory, the Windows way (.\\name)."""
    rel = os.path.relpath(parent, os.path.dirname(child))
    rel = rel.replace(os.sep, "\\")
    return rel if rel.startswith("..") else ntpath.join(".", rel)
