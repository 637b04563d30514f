"""The VHD format (Virtual Hard Disk Image Format Specification, 2006): fixed, dynamic
and differencing disks.

Layout this module writes (the same as qemu's, so both read each other's files):

    fixed:        [data ............................][footer 512]
    dynamic:      [footer copy 512][dynamic header 1024][BAT, 4 bytes a block, padded
                  to 512][parent locator data, differencing only][blocks ...][footer]
    block:        [sector bitmap, padded to 512][block_size bytes of data]

Writes are ordered so a crash never leaves a table pointing at unwritten data: a new
block and the footer behind it are written first, its BAT entry only at `flush`, after
an fsync. The footer copy at offset 0 never changes for a data write, and it is what a
reader falls back on when the footer at the end is torn.
"""

from __future__ import annotations

import array
import datetime as _dt
import os
import struct
import sys
import uuid
from dataclasses import dataclass, replace

from . import _bitmap
from ._backend import FormatBackend, Run, add_run
from ._fileio import GiB, file_size, fsync, pread_exact, pwrite_all, round_up, zeros
from .errors import CorruptImageError, UnsupportedImageError
from .model import ABSENT, DATA, DiskFormat, DiskType, ParentLocator

SECTOR = 512
FOOTER_COOKIE = b"conectix"
HEADER_COOKIE = b"cxsparse"
FIXED_DATA_OFFSET = 0xFFFFFFFFFFFFFFFF
UNUSED = 0xFFFFFFFF
MAX_SIZE = 2040 * GiB  # Hyper-V's VHD limit
DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024
CREATOR = b"win "  # Hyper-V's creator: qemu then reads current_size exactly
CREATOR_VERSION = 0x000A0000
HOST_OS_WINDOWS = 0x5769326B  # "Wi2k"
DISK_TYPES = {2: DiskType.FIXED, 3: DiskType.DYNAMIC, 4: DiskType.DIFFERENCING}
TYPE_CODES = {v: k for k, v in DISK_TYPES.items()}
PLATFORM_W2KU = 0x57326B75  # absolute path, UTF-16LE
PLATFORM_W2RU = 0x57327275  # relative path, UTF-16LE
EPOCH = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
MAX_LOCATOR_BYTES = 64 * 1024

_FOOTER = struct.Struct(">8sIIQI4sII QQHBBII16sB427x")
_HEADER = struct.Struct(">8sQQIIII16sII512s192s256x")
_LOCATOR = struct.Struct(">IIIIQ")


def checksum(data: bytes, skip: int) -> int:
    """One's complement of the byte sum, with the 4-byte checksum field at `skip` as zero."""
    return ~(sum(data) - sum(data[skip : skip + 4])) & 0xFFFFFFFF


def timestamp(when: float | None = None) -> int:
    now = _dt.datetime.now(_dt.UTC) if when is None else _dt.datetime.fromtimestamp(when, _dt.UTC)
    return max(0, int((now - EPOCH).total_seconds())) & 0xFFFFFFFF


def geometry(size: int) -> tuple[int, int, int]:
    """Cylinders, heads, sectors per track: the algorithm of the VHD specification."""
    total = min(size // SECTOR, 65535 * 16 * 255)
    if total >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = total // spt
    else:
        spt = 17
        cth = total // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = total // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = total // spt
    return cth // heads, heads, spt


@dataclass(frozen=True)
class Footer:
    features: int
    version: int
    data_offset: int
    timestamp: int
    creator_app: bytes
    creator_version: int
    creator_os: int
    original_size: int
    current_size: int
    cylinders: int
    heads: int
    sectors: int
    disk_type: int
    unique_id: bytes
    saved_state: int

    @classmethod
    def parse(cls, raw: bytes, *, path: str, offset: int) -> Footer:
        (
            cookie,
            features,
            version,
            data_offset,
            ts,
            app,
            app_ver,
            host_os,
            orig,
            cur,
            cyl,
            heads,
            spt,
            dtype,
            csum,
            uid,
            saved,
        ) = _FOOTER.unpack(raw)
        if cookie != FOOTER_COOKIE:
            raise CorruptImageError(
                f"cookie is {cookie!r}, expected {FOOTER_COOKIE!r}",
                path=path,
                field="VHD footer",
                offset=offset,
            )
        if checksum(raw, 64) != csum:
            raise CorruptImageError(
                f"checksum is {csum:#010x}, the footer sums to {checksum(raw, 64):#010x}",
                path=path,
                field="VHD footer checksum",
                offset=offset + 64,
            )
        return cls(
            features,
            version,
            data_offset,
            ts,
            app,
            app_ver,
            host_os,
            orig,
            cur,
            cyl,
            heads,
            spt,
            dtype,
            uid,
            saved,
        )

    def pack(self) -> bytes:
        fields = [
            FOOTER_COOKIE,
            self.features,
            self.version,
            self.data_offset,
            self.timestamp,
            self.creator_app,
            self.creator_version,
            self.creator_os,
            self.original_size,
            self.current_size,
            self.cylinders,
            self.heads,
            self.sectors,
            self.disk_type,
            0,
            self.unique_id,
            self.saved_state,
        ]
        raw = _FOOTER.pack(*fields)
        fields[14] = checksum(raw, 64)
        return _FOOTER.pack(*fields)

    @classmethod
    def new(cls, disk_type: DiskType, size: int, unique_id: uuid.UUID) -> Footer:
        cyl, heads, spt = geometry(size)
        return cls(
            2,
            0x00010000,
            FIXED_DATA_OFFSET if disk_type is DiskType.FIXED else SECTOR,
            timestamp(),
            CREATOR,
            CREATOR_VERSION,
            HOST_OS_WINDOWS,
            size,
            size,
            cyl,
            heads,
            spt,
            TYPE_CODES[disk_type],
            unique_id.bytes,
            0,
        )

    def resized(self, size: int) -> Footer:
        cyl, heads, spt = geometry(size)
        return replace(self, current_size=size, cylinders=cyl, heads=heads, sectors=spt)


@dataclass(frozen=True)
class Locator:
    code: int
    space: int
    length: int
    offset: int


@dataclass(frozen=True)
class DynamicHeader:
    table_offset: int
    max_table_entries: int
    block_size: int
    parent_unique_id: bytes
    parent_timestamp: int
    parent_name: str
    locators: tuple[Locator, ...]

    @classmethod
    def parse(cls, raw: bytes, *, path: str, offset: int) -> DynamicHeader:
        (
            cookie,
            _data_offset,
            table,
            version,
            entries,
            bsize,
            csum,
            puid,
            pts,
            _res,
            pname,
            locs,
        ) = _HEADER.unpack(raw)
        if cookie != HEADER_COOKIE:
            raise CorruptImageError(
                f"cookie is {cookie!r}, expected {HEADER_COOKIE!r}",
                path=path,
                field="VHD dynamic header",
                offset=offset,
            )
        if checksum(raw, 36) != csum:
            raise CorruptImageError(
                f"checksum is {csum:#010x}, the header sums to {checksum(raw, 36):#010x}",
                path=path,
                field="VHD dynamic header checksum",
                offset=offset + 36,
            )
        if version >> 16 != 1:
            raise UnsupportedImageError(
                f"header version {version:#x}; only 1.x is known",
                path=path,
                field="VHD header version",
                offset=offset + 24,
            )
        locators = tuple(
            Locator(code, space, length, loc_offset)
            for code, space, length, _r, loc_offset in _LOCATOR.iter_unpack(locs)
            if code != 0
        )
        name = pname.decode("utf-16-be", errors="replace").split("\x00", 1)[0]
        return cls(table, entries, bsize, puid, pts, name, locators)

    def pack(self) -> bytes:
        locs = b"".join(
            _LOCATOR.pack(loc.code, loc.space, loc.length, 0, loc.offset) for loc in self.locators
        )
        name = self.parent_name.encode("utf-16-be")[:512]
        fields = [
            HEADER_COOKIE,
            FIXED_DATA_OFFSET,
            self.table_offset,
            0x00010000,
            self.max_table_entries,
            self.block_size,
            0,
            self.parent_unique_id,
            self.parent_timestamp,
            0,
            name,
            locs.ljust(192, b"\0"),
        ]
        raw = _HEADER.pack(*fields)
        fields[6] = checksum(raw, 36)
        return _HEADER.pack(*fields)


def bitmap_bytes(block_size: int) -> int:
    """Size of a block's sector bitmap on disk: one bit a sector, padded to 512."""
    return round_up(block_size // SECTOR // 8, SECTOR)


def bat_bytes(entries: int) -> int:
    return round_up(entries * 4, SECTOR)


class VhdBackend(FormatBackend):
    format = DiskFormat.VHD

    def __init__(self, path: str, writable: bool = False) -> None:
        super().__init__(path, writable)
        try:
            self._load()
        except BaseException:
            os.close(self.fd)
            self.fd = -1
            raise

    # -- reading the structures ---------------------------------------------------------
    def _load(self) -> None:
        path = self.path
        size = file_size(self.fd)
        if size < SECTOR:
            raise CorruptImageError(
                f"the file is {size} bytes, too short for a VHD footer",
                path=path,
                field="VHD footer",
                offset=0,
            )
        self._footer_at_end = True
        try:
            footer = Footer.parse(
                pread_exact(self.fd, SECTOR, size - SECTOR, path=path, field="VHD footer"),
                path=path,
                offset=size - SECTOR,
            )
        except CorruptImageError as end_error:
            # A torn end footer: dynamic disks keep a copy at offset 0.
            try:
                footer = Footer.parse(
                    pread_exact(self.fd, SECTOR, 0, path=path, field="VHD footer copy"),
                    path=path,
                    offset=0,
                )
            except CorruptImageError:
                raise end_error from None
            if footer.disk_type == 2:
                raise end_error from None
            self._footer_at_end = False
        self.footer = footer
        if footer.version >> 16 != 1:
            raise UnsupportedImageError(
                f"format version {footer.version:#x}; only 1.x is known",
                path=path,
                field="VHD footer version",
                offset=12,
            )
        if footer.disk_type not in DISK_TYPES:
            raise UnsupportedImageError(
                f"disk type {footer.disk_type}; known: 2 (fixed), 3 (dynamic), 4 (differencing)",
                path=path,
                field="VHD footer disk type",
                offset=60,
            )
        self.type = DISK_TYPES[footer.disk_type]
        self.virtual_size = footer.current_size
        if self.virtual_size % SECTOR or self.virtual_size <= 0:
            raise CorruptImageError(
                f"current size {self.virtual_size} is not a positive multiple of 512",
                path=path,
                field="VHD current size",
                offset=48,
            )
        self.logical_sector_size = self.physical_sector_size = SECTOR
        self.disk_id = uuid.UUID(bytes=footer.unique_id)
        self.creator = footer.creator_app.decode("latin-1")
        self.parent_locator = None
        self._bitmap_cache: dict[int, list[tuple[int, int]]] = {}
        self._dirty_bitmaps: dict[int, bytearray] = {}
        self._pending_bat: set[int] = set()
        if self.type is DiskType.FIXED:
            self.block_size = 0
            if self.virtual_size + SECTOR > size:
                raise CorruptImageError(
                    f"a fixed disk of {self.virtual_size} bytes needs a file of "
                    f"{self.virtual_size + SECTOR} bytes; the file has {size}",
                    path=path,
                    field="VHD current size",
                    offset=size - SECTOR + 48,
                )
            return
        self._load_dynamic(size)

    def _load_dynamic(self, size: int) -> None:
        path, footer = self.path, self.footer
        if footer.data_offset % SECTOR or footer.data_offset + 1024 > size:
            raise CorruptImageError(
                f"data offset {footer.data_offset:#x} is outside the file",
                path=path,
                field="VHD footer data offset",
                offset=16,
            )
        header = DynamicHeader.parse(
            pread_exact(self.fd, 1024, footer.data_offset, path=path, field="VHD dynamic header"),
            path=path,
            offset=footer.data_offset,
        )
        self.header = header
        bs = header.block_size
        if bs < 4096 or bs & (bs - 1) or bs > 256 * 1024 * 1024:
            raise CorruptImageError(
                f"block size {bs} is not a power of two from 4 KiB to 256 MiB",
                path=path,
                field="VHD block size",
                offset=footer.data_offset + 32,
            )
        self.block_size = bs
        self._bitmap_len = bitmap_bytes(bs)
        blocks = -(-self.virtual_size // bs)
        if header.max_table_entries < blocks:
            raise CorruptImageError(
                f"the BAT has {header.max_table_entries} entries; a disk of "
                f"{self.virtual_size} bytes in {bs}-byte blocks needs {blocks}",
                path=path,
                field="VHD max table entries",
                offset=footer.data_offset + 28,
            )
        if header.table_offset % SECTOR or header.table_offset + 4 * blocks > size:
            raise CorruptImageError(
                f"BAT at {header.table_offset:#x} ({blocks} entries) is outside the file "
                f"of {size} bytes",
                path=path,
                field="VHD table offset",
                offset=footer.data_offset + 16,
            )
        bat = array.array("I")
        bat.frombytes(
            pread_exact(self.fd, 4 * blocks, header.table_offset, path=path, field="VHD BAT")
        )
        if sys.byteorder == "little":
            bat.byteswap()
        self.bat = bat
        self._blocks = blocks
        self._data_end = size - SECTOR if self._footer_at_end else size
        if self.type is DiskType.DIFFERENCING:
            self.parent_locator = self._read_locators(size)

    def _read_locators(self, size: int) -> ParentLocator:
        found: dict[int, str] = {}
        for loc in self.header.locators:
            if loc.code not in (PLATFORM_W2KU, PLATFORM_W2RU):
                continue
            if loc.length > MAX_LOCATOR_BYTES or loc.offset + loc.length > size:
                raise CorruptImageError(
                    f"locator data ({loc.length} bytes at {loc.offset:#x}) is outside the file",
                    path=self.path,
                    field="VHD parent locator",
                    offset=self.footer.data_offset + 576,
                )
            raw = pread_exact(
                self.fd, loc.length, loc.offset, path=self.path, field="VHD parent locator data"
            )
            try:
                found[loc.code] = raw.decode("utf-16-le").rstrip("\x00")
            except UnicodeDecodeError as exc:
                raise CorruptImageError(
                    f"locator path is not UTF-16: {exc}",
                    path=self.path,
                    field="VHD parent locator data",
                    offset=loc.offset,
                ) from None
        absolute = found.get(PLATFORM_W2KU) or self.header.parent_name or None
        return ParentLocator(
            absolute_path=absolute,
            relative_path=found.get(PLATFORM_W2RU),
            volume_path=None,
            linkage=str(uuid.UUID(bytes=self.header.parent_unique_id)),
        )

    def linkage_id(self) -> str:
        return str(self.disk_id)

    # -- mapping ------------------------------------------------------------------------
    def _block_runs(self, block: int, entry: int) -> list[tuple[int, int]]:
        """Runs of present sectors in a block, from its bitmap (cached)."""
        runs = self._bitmap_cache.get(block)
        if runs is None:
            start = entry * SECTOR
            raw = pread_exact(
                self.fd,
                self._bitmap_len,
                start,
                path=self.path,
                field=f"VHD sector bitmap of block {block}",
            )
            sectors = self.block_size // SECTOR
            runs = _bitmap.set_runs(raw, sectors, msb_first=True)
            if len(self._bitmap_cache) > 8192:
                self._bitmap_cache.clear()
            self._bitmap_cache[block] = runs
        return runs

    def _entry(self, block: int) -> int:
        entry = self.bat[block]
        if entry == UNUSED:
            return entry
        start = entry * SECTOR
        used = min(self.block_size, self.virtual_size - block * self.block_size)
        if start < SECTOR or start + self._bitmap_len + used > self._data_end:
            raise CorruptImageError(
                f"block {block} is at {start:#x}, outside the data area of the file "
                f"(which ends at {self._data_end:#x})",
                path=self.path,
                field=f"VHD BAT entry {block}",
                offset=self.header.table_offset + 4 * block,
            )
        return entry

    def map(self, offset: int, length: int) -> list[Run]:
        runs: list[list[int]] = []
        if self.type is DiskType.FIXED:
            add_run(runs, DATA, length, offset)
            return runs  # type: ignore[return-value]
        bs = self.block_size
        spb = bs // SECTOR
        while length > 0:
            block, within = divmod(offset, bs)
            n = min(length, bs - within)
            entry = self._entry(block)
            if entry == UNUSED:
                add_run(runs, ABSENT, n)
            else:
                data = entry * SECTOR + self._bitmap_len
                present = self._block_runs(block, entry)
                if len(present) == 1 and present[0] == (0, spb):
                    add_run(runs, DATA, n, data + within)
                else:
                    pos = within
                    end = within + n
                    for first, count in present:
                        a, b = max(first * SECTOR, pos), min((first + count) * SECTOR, end)
                        if a >= b:
                            continue
                        add_run(runs, ABSENT, a - pos)
                        add_run(runs, DATA, b - a, data + a)
                        pos = b
                    add_run(runs, ABSENT, end - pos)
            offset += n
            length -= n
        return runs  # type: ignore[return-value]

    # -- writing ------------------------------------------------------------------------
    def write(self, offset: int, data: memoryview) -> None:
        if self.type is DiskType.FIXED:
            pwrite_all(self.fd, data, offset)
            return
        bs = self.block_size
        pos = 0
        while pos < len(data):
            block, within = divmod(offset + pos, bs)
            n = min(len(data) - pos, bs - within)
            entry = self._entry(block)
            if entry == UNUSED:
                entry = self._allocate(block, within, n)
            elif self.type is DiskType.DIFFERENCING:
                self._mark_present(block, entry, within, n)
            pwrite_all(self.fd, data[pos : pos + n], entry * SECTOR + self._bitmap_len + within)
            pos += n

    def _allocate(self, block: int, within: int, n: int) -> int:
        start = round_up(self._data_end, SECTOR)
        if self.type is DiskType.DIFFERENCING:
            bitmap = bytearray(self._bitmap_len)
            _bitmap.set_range(bitmap, within // SECTOR, n // SECTOR, msb_first=True)
        else:
            bitmap = bytearray(b"\xff" * (self.block_size // SECTOR // 8)).ljust(
                self._bitmap_len, b"\0"
            )
        end = start + self._bitmap_len + self.block_size
        # The footer first, at the new end (the file grows with zeros), then the bitmap
        # over the old footer: the end of the file always holds a valid footer or the
        # copy at offset 0 is used. The BAT entry waits for flush().
        pwrite_all(self.fd, self.footer.pack(), end)
        pwrite_all(self.fd, bitmap, start)
        self._data_end = end
        self._footer_at_end = True
        self.bat[block] = start // SECTOR
        self._pending_bat.add(block)
        self._bitmap_cache.pop(block, None)
        return start // SECTOR

    def _mark_present(self, block: int, entry: int, within: int, n: int) -> None:
        bitmap = self._dirty_bitmaps.get(block)
        if bitmap is None:
            bitmap = bytearray(
                pread_exact(
                    self.fd,
                    self._bitmap_len,
                    entry * SECTOR,
                    path=self.path,
                    field=f"VHD sector bitmap {block}",
                )
            )
            self._dirty_bitmaps[block] = bitmap
        _bitmap.set_range(bitmap, within // SECTOR, n // SECTOR, msb_first=True)
        self._bitmap_cache.pop(block, None)

    def flush(self) -> None:
        if not (self._pending_bat or self._dirty_bitmaps):
            return
        self.sync()  # data before the tables that point to it
        for block, bitmap in sorted(self._dirty_bitmaps.items()):
            pwrite_all(self.fd, bitmap, self.bat[block] * SECTOR)
            self._bitmap_cache.pop(block, None)
        self._dirty_bitmaps.clear()
        if self._pending_bat:
            blocks = sorted(self._pending_bat)
            first, last = blocks[0], blocks[-1]
            chunk = self.bat[first : last + 1]
            if sys.byteorder == "little":
                chunk.byteswap()
            pwrite_all(self.fd, chunk.tobytes(), self.header.table_offset + 4 * first)
            self._pending_bat.clear()
        self.sync()

    # -- in-place metadata changes (resize, reconnect) -----------------------------------
    def rewrite_footer(self, footer: Footer) -> None:
        """Write a new footer: at the end first, then the copy at offset 0."""
        raw = footer.pack()
        end = file_size(self.fd)
        pwrite_all(self.fd, raw, end - SECTOR if self._footer_at_end else end)
        fsync(self.fd)
        if self.type is not DiskType.FIXED:
            pwrite_all(self.fd, raw, 0)
            fsync(self.fd)
        self.footer = footer
        self.virtual_size = footer.current_size


def build(
    fd: int,
    disk_type: DiskType,
    size: int,
    block_size: int,
    unique_id: uuid.UUID,
    parent: tuple[bytes, int, str, str] | None = None,
) -> None:
    """Lay out a new, empty VHD in an empty file.

    `parent` is (parent unique id, parent timestamp, absolute path, relative path) for a
    differencing disk.
    """
    footer = Footer.new(disk_type, size, unique_id)
    if disk_type is DiskType.FIXED:
        os.ftruncate(fd, size)
        pwrite_all(fd, footer.pack(), size)
        return
    blocks = -(-size // block_size)
    table_offset = 3 * SECTOR
    pos = table_offset + bat_bytes(blocks)
    locators: list[Locator] = []
    payloads: list[tuple[int, bytes]] = []
    puid, pts, pname = bytes(16), 0, ""
    if parent is not None:
        puid, pts, absolute, relative = parent
        pname = absolute
        for code, text in ((PLATFORM_W2KU, absolute), (PLATFORM_W2RU, relative)):
            raw = text.encode("utf-16-le")
            space = round_up(max(len(raw), 1), SECTOR)
            locators.append(Locator(code, space, len(raw), pos))
            payloads.append((pos, raw))
            pos += space
    header = DynamicHeader(table_offset, blocks, block_size, puid, pts, pname, tuple(locators))
    raw_footer = footer.pack()
    pwrite_all(fd, raw_footer, 0)
    pwrite_all(fd, header.pack(), SECTOR)
    pwrite_all(fd, b"\xff" * (4 * blocks) + zeros(bat_bytes(blocks) - 4 * blocks), table_offset)
    for offset, raw in payloads:
        pwrite_all(fd, raw, offset)
    pwrite_all(fd, raw_footer, pos)
