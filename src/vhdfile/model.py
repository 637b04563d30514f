"""The public vocabulary: formats, types, what `inspect` reports, extents."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class DiskFormat(enum.StrEnum):
    VHD = "vhd"
    VHDX = "vhdx"


class DiskType(enum.StrEnum):
    FIXED = "fixed"
    DYNAMIC = "dynamic"
    DIFFERENCING = "differencing"


@dataclass(frozen=True)
class ParentLocator:
    """Where a differencing disk says its parent is, as stored in the file.

    `linkage` is the parent identity the child was made against: the parent's VHD
    unique id, or the parent's VHDX DataWriteGuid (the `parent_linkage` entry).
    Paths are stored the way Hyper-V stores them (Windows separators for the
    relative path); `absolute_path` is the path given when the link was made.
    """

    absolute_path: str | None
    relative_path: str | None
    volume_path: str | None
    linkage: str | None
    linkage2: str | None = None


@dataclass(frozen=True)
class DiskInfo:
    """Everything Msvm_VirtualHardDiskSettingData / GetVirtualHardDiskState report.

    `virtual_disk_id` is the VHDX page-83 id or the VHD footer's unique id.
    `parent_path` is the parent file actually used (resolved from the locator), or
    the stored absolute path when the parent could not be opened (see `inspect`).
    `minimum_size` is the smallest virtual size a shrink can go down to without
    losing data (and, on a GPT disk, without cutting partitions).
    """

    path: str
    format: DiskFormat
    type: DiskType
    virtual_size: int
    block_size: int
    logical_sector_size: int
    physical_sector_size: int
    virtual_disk_id: uuid.UUID
    file_size: int
    parent_path: str | None
    parent_locator: ParentLocator | None
    creator: str


@dataclass(frozen=True)
class Extent:
    """A byte range of the virtual disk."""

    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


# Kinds of runs a format backend maps a guest range to.
DATA = 0  # stored in this file at the given file offset
ZERO = 1  # reads as zeros, hiding any parent
ABSENT = 2  # not in this file: zeros, or the parent's data for a differencing disk
