"""Resizing in place: grow any disk; shrink a VHDX down to what holds data.

VHDX changes go through the metadata log (the header naming the log is the commit
point), so an interruption leaves the old or the new size, whole. VHD has no log: the
writes are ordered (new table and footer first, the header switch last) and any failure
rolls back what was written, so the original file is left as it was.
"""

from __future__ import annotations

import array
import os
import struct
import sys
import uuid
from dataclasses import replace

from . import vhd, vhdx
from ._fileio import MiB, file_size, fsync, is_zero, pwrite_all, round_up
from .convert import stored_extents
from .disk import ParentResolver, VirtualDisk, inspect, open_disk
from .errors import OperationFailedError, RequestError
from .model import DiskFormat, DiskInfo, DiskType


def minimum_size(disk: VirtualDisk) -> int:
    """Smallest virtual size that keeps every non-zero byte the chain holds (rounded up
    to 1 MiB, Hyper-V's granularity for a shrink). Zero blocks and unwritten space at
    the end do not count."""
    last = 0
    for extent in reversed(stored_extents(disk)):
        pos = extent.end
        while pos > extent.offset:
            n = min(MiB, pos - extent.offset)
            buf = bytearray(n)
            disk.readinto(pos - n, buf)
            if not is_zero(buf):
                stripped = bytes(buf).rstrip(b"\0")
                last = pos - n + len(stripped)
                break
            pos -= n
        if last:
            break
    return min(disk.virtual_size, max(round_up(last, MiB), MiB))


def resize(
    path: str | os.PathLike[str],
    new_size: int,
    *,
    parent_resolver: ParentResolver | None = None,
    _fail_after: int | None = None,
) -> DiskInfo:
    """Set the virtual size. Growing adds zeros at the end; shrinking (VHDX only, as on
    Hyper-V) is refused below `minimum_size`."""
    with open_disk(path, writable=True, parent_resolver=parent_resolver) as disk:
        old = disk.virtual_size
        lss = disk.logical_sector_size
        limit = vhd.MAX_SIZE if disk.format is DiskFormat.VHD else vhdx.MAX_SIZE
        if new_size <= 0 or new_size % lss or new_size > limit:
            raise RequestError(
                f"{new_size}: the size is a positive multiple of {lss} bytes up to {limit}",
                path=disk.path,
                field="virtual size",
            )
        if new_size < old:
            if disk.format is DiskFormat.VHD:
                raise RequestError(
                    f"{new_size} < {old}: Hyper-V shrinks only VHDX files",
                    path=disk.path,
                    field="virtual size",
                )
            floor = minimum_size(disk)
            if new_size < floor:
                raise RequestError(
                    f"{new_size}: data is stored up to {floor}; the disk cannot shrink below that",
                    path=disk.path,
                    field="virtual size",
                )
        if new_size != old:
            if disk.format is DiskFormat.VHD:
                _resize_vhd(disk.backend, new_size, _fail_after)  # type: ignore[arg-type]
            else:
                _resize_vhdx(disk, new_size, _fail_after)
    return inspect(path, parent_resolver=parent_resolver)


class _Undo:
    """Remembers what a VHD change overwrote, to put it back if the change fails."""

    def __init__(self, fd: int, fail_after: int | None) -> None:
        self.fd = fd
        self.size = file_size(fd)
        self.saved: list[tuple[int, bytes]] = []
        self.steps = 0
        self.fail_after = fail_after

    def write(self, data: bytes, offset: int) -> None:
        self.steps += 1
        if self.fail_after is not None and self.steps > self.fail_after:
            raise OperationFailedError(f"injected failure before write {self.steps}")
        old = os.pread(self.fd, len(data), offset)
        self.saved.append((offset, old))
        pwrite_all(self.fd, data, offset)

    def rollback(self) -> None:
        for offset, old in reversed(self.saved):
            if old:
                pwrite_all(self.fd, old, offset)
        os.ftruncate(self.fd, self.size)
        fsync(self.fd)


def _resize_vhd(b: vhd.VhdBackend, new_size: int, fail_after: int | None) -> None:
    b.flush()
    undo = _Undo(b.fd, fail_after)
    new_footer = b.footer.resized(new_size)
    try:
        end = file_size(b.fd)
        if b.type is DiskType.FIXED:
            # New footer at the new end first, then zeros over the old one.
            undo.write(new_footer.pack(), new_size)
            fsync(b.fd)
            undo.write(bytes(vhd.SECTOR), b.virtual_size)
            fsync(b.fd)
        else:
            blocks = -(-new_size // b.block_size)
            header = b.header
            if blocks > header.max_table_entries:
                # Room after the BAT up to the first structure that follows it?
                used = [e * vhd.SECTOR for e in b.bat if e != vhd.UNUSED]
                used += [loc.offset for loc in header.locators] + [end - vhd.SECTOR]
                room = min(o for o in used if o > header.table_offset) - header.table_offset
                table = bytearray(b"\xff" * (4 * blocks))
                arr = b.bat[:]
                if sys.byteorder == "little":
                    arr.byteswap()
                old = arr.tobytes()
                table[: len(old)] = old
                if 4 * blocks <= room:
                    table_offset = header.table_offset
                    undo.write(bytes(table), table_offset)
                else:
                    # Move the BAT behind the last block: footer at the new end first.
                    table_offset = end - vhd.SECTOR
                    new_end = table_offset + vhd.bat_bytes(blocks)
                    undo.write(b.footer.pack(), new_end)
                    undo.write(bytes(table).ljust(vhd.bat_bytes(blocks), b"\0"), table_offset)
                fsync(b.fd)
                new_header = replace(header, table_offset=table_offset, max_table_entries=blocks)
                undo.write(new_header.pack(), b.footer.data_offset)  # the switch
                fsync(b.fd)
                b.header = new_header
            end = file_size(b.fd)
            undo.write(new_footer.pack(), end - vhd.SECTOR)
            fsync(b.fd)
            undo.write(new_footer.pack(), 0)
            fsync(b.fd)
    except BaseException:
        undo.rollback()
        raise
    b.footer = new_footer
    b.virtual_size = new_size


def _resize_vhdx(disk: VirtualDisk, new_size: int, fail_after: int | None) -> None:
    b: vhdx.VhdxBackend = disk.backend  # type: ignore[assignment]
    b.flush()
    old_size = file_size(b.fd)
    diff = b.meta.has_parent
    blocks, ratio, entries = vhdx.bat_layout(new_size, b.block_size, b.logical_sector_size, diff)
    old_entries = len(b.bat)
    region = b.regions[vhdx.BAT_GUID]
    bat = array.array("Q", b.bat)
    bat.extend([0] * max(0, entries - len(bat)))
    try:
        if new_size < b.virtual_size and new_size % b.block_size:
            # The block across the new end keeps bytes past it: zero them, so a later
            # grow shows zeros there as it must.
            n = min(b.block_size - new_size % b.block_size, b.virtual_size - new_size)
            if disk.extents(start=new_size, length=n):
                disk.write(new_size, bytes(n))
                b.flush()
        if b.type is DiskType.FIXED:
            for block in range(b._blocks, blocks):
                offset = b._allocate(b.block_size)
                bat[block + block // ratio] = (offset // MiB) << 20 | vhdx.FULLY_PRESENT
        if sys.byteorder == "big":
            bat.byteswap()
        writes: list[tuple[int, bytes]] = []
        if entries * 8 > region.length:
            # A larger BAT region at the end of the file, written before the commit.
            length = round_up(entries * 8, MiB)
            offset = b._allocate(length)
            pwrite_all(b.fd, bat[:entries].tobytes(), offset)
            regions = [
                vhdx.Region(vhdx.BAT_GUID, offset, length, True),
                b.regions[vhdx.METADATA_GUID],
            ]
            table = vhdx.pack_region_table(regions)
            writes += [(off, table) for off in vhdx.REGION_OFFSETS]
        elif entries > old_entries:
            # Entries past the old table are invisible until the size changes.
            pwrite_all(b.fd, bat[old_entries:entries].tobytes(), region.offset + 8 * old_entries)
        fsync(b.fd)
        item = _metadata_item_offset(b, vhdx.VIRTUAL_DISK_SIZE)
        writes.append((b.regions[vhdx.METADATA_GUID].offset + item, struct.pack("<Q", new_size)))
        b.commit(writes, last_file_offset=file_size(b.fd), fail_after=fail_after)
    except BaseException:
        if b.header.log_guid.int == 0:  # not committed: drop what was appended
            os.ftruncate(b.fd, old_size)
            fsync(b.fd)
        raise
    if entries < old_entries:
        # Forget the blocks past the new end, so a later grow shows zeros there.
        pwrite_all(b.fd, bytes(8 * (old_entries - entries)), region.offset + 8 * entries)
        fsync(b.fd)


def _metadata_item_offset(b: vhdx.VhdxBackend, guid: object) -> int:
    base = b.regions[vhdx.METADATA_GUID].offset
    table = b.read_struct(64 * 1024, base, "VHDX metadata table")
    _sig, _r, count = struct.unpack_from("<8sHH", table)
    for i in range(count):
        raw_guid, offset, _length, _flags, _ = struct.unpack_from("<16sIIII", table, 32 + 32 * i)
        if uuid.UUID(bytes_le=raw_guid) == guid:
            return offset
    raise RequestError(f"metadata item {guid} not found", path=b.path, field="VHDX metadata")
