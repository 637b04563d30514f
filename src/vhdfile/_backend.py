"""What both format backends share: an open file, its geometry, and run building.

A backend maps a range of the virtual disk to runs: (kind, length, file offset) with the
kinds of `model` (DATA in this file, ZERO, ABSENT). The chain logic (parents, zeros,
sector alignment of writes) lives above, in `disk.VirtualDisk`, so each format only
describes its own layout.
"""

from __future__ import annotations

import os
import uuid

from .model import DATA, DiskFormat, DiskType, ParentLocator

Run = tuple[int, int, int]  # (kind, length, file offset or 0)


def add_run(runs: list[list[int]], kind: int, length: int, file_offset: int = 0) -> None:
    """Append a run, merging it into the previous one when they continue each other."""
    if length <= 0:
        return
    if runs:
        last = runs[-1]
        if last[0] == kind and (kind != DATA or last[2] + last[1] == file_offset):
            last[1] += length
            return
    runs.append([kind, length, file_offset])


class FormatBackend:
    """One open VHD or VHDX file. Subclasses fill in the geometry in `__init__`."""

    format: DiskFormat
    type: DiskType
    virtual_size: int
    block_size: int
    logical_sector_size: int
    physical_sector_size: int
    disk_id: uuid.UUID
    parent_locator: ParentLocator | None
    creator: str

    def __init__(self, path: str, writable: bool) -> None:
        self.path = path
        self.writable = writable
        self.fd = os.open(path, (os.O_RDWR if writable else os.O_RDONLY) | os.O_CLOEXEC)

    # -- what subclasses provide ------------------------------------------------------
    def map(self, offset: int, length: int) -> list[Run]:
        raise NotImplementedError

    def write(self, offset: int, data: memoryview) -> None:
        """Store whole logical sectors at a sector-aligned offset."""
        raise NotImplementedError

    def linkage_id(self) -> str:
        """The identity a child records for this file as its parent."""
        raise NotImplementedError

    def flush(self) -> None:
        """Make every write durable, data before the tables that point to it."""

    # Ordering fsyncs matter for a file in use; a new file written under a temporary
    # name (convert) needs one fsync before it is published, so it turns them off.
    ordered_sync = True

    def sync(self) -> None:
        if self.ordered_sync:
            os.fsync(self.fd)

    # -- life cycle -------------------------------------------------------------------
    def file_size(self) -> int:
        return os.fstat(self.fd).st_size

    def close(self) -> None:
        if self.fd >= 0:
            try:
                if self.writable:
                    self.flush()
            finally:
                os.close(self.fd)
                self.fd = -1
