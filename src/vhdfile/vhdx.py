"""The VHDX format ([MS-VHDX] v1): fixed, dynamic and differencing disks.

Layout this module writes (Hyper-V's shape: a 4 MiB empty dynamic file):

    0        file identifier "vhdxfile" + creator
    64 KiB   header 1            128 KiB  header 2
    192 KiB  region table 1      256 KiB  region table 2
    1 MiB    log (1 MiB)
    2 MiB    metadata region (1 MiB): table, then the items
    3 MiB    BAT region (8 bytes an entry, padded to 1 MiB)
    ...      payload blocks and sector bitmap blocks, 1 MiB aligned

Crash safety: payload data is written before the BAT entry that points to it (entries
are kept in memory until `flush`, which fsyncs first); the two headers are updated
alternately, so one of them is always whole; metadata changes in place go through the
log (`commit`).
"""

from __future__ import annotations

import array
import os
import struct
import sys
import uuid
from dataclasses import dataclass, field

import crc32c

from . import _bitmap, _vhdx_log
from ._backend import FormatBackend, Run, add_run
from ._fileio import MiB, TiB, file_size, fsync, pread_exact, preadinto_exact, pwrite_all, round_up
from .errors import CorruptImageError, UnsupportedImageError
from .model import ABSENT, DATA, ZERO, DiskFormat, DiskType, ParentLocator

KiB = 1024
SIGNATURE = b"vhdxfile"
HEADER_OFFSETS = (64 * KiB, 128 * KiB)
REGION_OFFSETS = (192 * KiB, 256 * KiB)
HEADER_SIZE = 4 * KiB
REGION_SIZE = 64 * KiB
MAX_SIZE = 64 * TiB
DEFAULT_BLOCK_SIZE = 32 * MiB
DEFAULT_DIFF_BLOCK_SIZE = 2 * MiB
CREATOR = "vhdfile"
LOG_OFFSET, LOG_LENGTH = 1 * MiB, 1 * MiB
METADATA_OFFSET, METADATA_LENGTH = 2 * MiB, 1 * MiB
BAT_OFFSET = 3 * MiB

BAT_GUID = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
METADATA_GUID = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
FILE_PARAMETERS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
VIRTUAL_DISK_ID = uuid.UUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
LOGICAL_SECTOR_SIZE = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
PHYSICAL_SECTOR_SIZE = uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556")
PARENT_LOCATOR = uuid.UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
VHDX_LOCATOR_TYPE = uuid.UUID("B04AEFB7-D19E-4A81-B789-25B8E9445913")
KNOWN_ITEMS = {
    FILE_PARAMETERS,
    VIRTUAL_DISK_SIZE,
    VIRTUAL_DISK_ID,
    LOGICAL_SECTOR_SIZE,
    PHYSICAL_SECTOR_SIZE,
    PARENT_LOCATOR,
}

# BAT entry states
NOT_PRESENT, UNDEFINED, BLOCK_ZERO, UNMAPPED, FULLY_PRESENT, PARTIALLY_PRESENT = 0, 1, 2, 3, 6, 7
SB_PRESENT = 6

_HEADER = struct.Struct("<4sIQ16s16s16sHHIQ")
_REGION_HEADER = struct.Struct("<4sIII")
_REGION_ENTRY = struct.Struct("<16sQII")
_META_HEADER = struct.Struct("<8sHH20x")
_META_ENTRY = struct.Struct("<16sIIII")
_LOCATOR_HEADER = struct.Struct("<16sHH")
_LOCATOR_ENTRY = struct.Struct("<IIHH")


@dataclass(frozen=True)
class Header:
    sequence: int
    file_write_guid: uuid.UUID
    data_write_guid: uuid.UUID
    log_guid: uuid.UUID
    log_version: int
    version: int
    log_length: int
    log_offset: int

    @classmethod
    def parse(cls, raw: bytes) -> Header | None:
        sig, csum, seq, fw, dw, lg, lver, ver, llen, loff = _HEADER.unpack_from(raw)
        body = bytearray(raw)
        body[4:8] = bytes(4)
        if sig != b"head" or crc32c.crc32c(body) != csum:
            return None
        return cls(
            seq,
            uuid.UUID(bytes_le=fw),
            uuid.UUID(bytes_le=dw),
            uuid.UUID(bytes_le=lg),
            lver,
            ver,
            llen,
            loff,
        )

    def pack(self) -> bytes:
        buf = bytearray(HEADER_SIZE)
        _HEADER.pack_into(
            buf,
            0,
            b"head",
            0,
            self.sequence,
            self.file_write_guid.bytes_le,
            self.data_write_guid.bytes_le,
            self.log_guid.bytes_le,
            self.log_version,
            self.version,
            self.log_length,
            self.log_offset,
        )
        struct.pack_into("<I", buf, 4, crc32c.crc32c(buf))
        return bytes(buf)


@dataclass(frozen=True)
class Region:
    guid: uuid.UUID
    offset: int
    length: int
    required: bool


def pack_region_table(regions: list[Region]) -> bytes:
    buf = bytearray(REGION_SIZE)
    _REGION_HEADER.pack_into(buf, 0, b"regi", 0, len(regions), 0)
    for i, r in enumerate(regions):
        _REGION_ENTRY.pack_into(
            buf, 16 + 32 * i, r.guid.bytes_le, r.offset, r.length, int(r.required)
        )
    struct.pack_into("<I", buf, 4, crc32c.crc32c(buf))
    return bytes(buf)


@dataclass
class Metadata:
    block_size: int
    leave_blocks_allocated: bool
    has_parent: bool
    virtual_size: int
    disk_id: uuid.UUID
    logical_sector_size: int
    physical_sector_size: int
    locator: dict[str, str] = field(default_factory=dict)

    def pack(self) -> bytes:
        """The whole metadata region: the table, then the items from 64 KiB."""
        items: list[tuple[uuid.UUID, bytes, int]] = [
            (
                FILE_PARAMETERS,
                struct.pack(
                    "<II",
                    self.block_size,
                    int(self.leave_blocks_allocated) | int(self.has_parent) << 1,
                ),
                4,
            ),
            (VIRTUAL_DISK_SIZE, struct.pack("<Q", self.virtual_size), 6),
            (VIRTUAL_DISK_ID, self.disk_id.bytes_le, 6),
            (LOGICAL_SECTOR_SIZE, struct.pack("<I", self.logical_sector_size), 6),
            (PHYSICAL_SECTOR_SIZE, struct.pack("<I", self.physical_sector_size), 6),
        ]
        if self.has_parent:
            items.append((PARENT_LOCATOR, pack_locator(self.locator), 4))
        buf = bytearray(METADATA_LENGTH)
        _META_HEADER.pack_into(buf, 0, b"metadata", 0, len(items))
        offset = 64 * KiB
        for i, (guid, data, flags) in enumerate(items):
            _META_ENTRY.pack_into(buf, 32 + 32 * i, guid.bytes_le, offset, len(data), flags, 0)
            buf[offset : offset + len(data)] = data
            offset = round_up(offset + len(data), 8)
        return bytes(buf)


def pack_locator(entries: dict[str, str]) -> bytes:
    keys = [(k.encode("utf-16-le"), v.encode("utf-16-le")) for k, v in entries.items()]
    head = _LOCATOR_HEADER.size + _LOCATOR_ENTRY.size * len(keys)
    table = bytearray(_LOCATOR_HEADER.pack(VHDX_LOCATOR_TYPE.bytes_le, 0, len(keys)))
    blob = bytearray()
    for key, value in keys:
        k_off = head + len(blob)
        blob += key
        v_off = head + len(blob)
        blob += value
        table += _LOCATOR_ENTRY.pack(k_off, v_off, len(key), len(value))
    return bytes(table + blob)


def bat_layout(
    virtual_size: int, block_size: int, logical_sector: int, differencing: bool
) -> tuple[int, int, int]:
    """(payload blocks, chunk ratio, BAT entries) as [MS-VHDX] 2.5 defines them."""
    chunk_ratio = (1 << 23) * logical_sector // block_size
    blocks = -(-virtual_size // block_size)
    chunks = -(-blocks // chunk_ratio)
    entries = chunks * (chunk_ratio + 1) if differencing else blocks + (blocks - 1) // chunk_ratio
    return blocks, chunk_ratio, entries


def guid_text(value: uuid.UUID) -> str:
    return "{" + str(value) + "}"


class VhdxBackend(FormatBackend):
    format = DiskFormat.VHDX

    def __init__(self, path: str, writable: bool = False) -> None:
        super().__init__(path, writable)
        self._overlay: list[_vhdx_log.LoggedWrite] = []
        self._virtual_file_end = 0
        try:
            self._load()
        except BaseException:
            os.close(self.fd)
            self.fd = -1
            raise

    # -- reading structures (through the replay overlay, if any) -------------------------
    def read_struct(self, length: int, offset: int, what: str) -> bytes:
        if not self._overlay:
            return pread_exact(self.fd, length, offset, path=self.path, field=what)
        buf = bytearray(length)
        self.readinto_file(memoryview(buf), offset, what)
        return bytes(buf)

    def readinto_file(self, view: memoryview, offset: int, what: str) -> None:
        if not self._overlay:
            preadinto_exact(self.fd, view, offset, path=self.path, field=what)
            return
        # Replayed in memory: the file may be shorter than the log says it will be.
        real = max(0, min(len(view), file_size(self.fd) - offset))
        if offset + len(view) > max(self._virtual_file_end, file_size(self.fd)):
            raise CorruptImageError(
                "the file ends inside this data", path=self.path, field=what, offset=offset
            )
        if real:
            preadinto_exact(self.fd, view[:real], offset, path=self.path, field=what)
        view[real:] = bytes(len(view) - real)
        end = offset + len(view)
        for w in self._overlay:  # in log order: later writes win
            if w.end <= offset or w.offset >= end:
                continue
            a, b = max(w.offset, offset), min(w.end, end)
            view[a - offset : b - offset] = (
                w.data[a - w.offset : b - w.offset] if w.data is not None else bytes(b - a)
            )

    def _load(self) -> None:
        path = self.path
        size = file_size(self.fd)
        ident = pread_exact(self.fd, 8 + 512, 0, path=path, field="VHDX file identifier")
        if ident[:8] != SIGNATURE:
            raise CorruptImageError(
                f"signature is {ident[:8]!r}, expected {SIGNATURE!r}",
                path=path,
                field="VHDX file identifier",
                offset=0,
            )
        self.creator = ident[8:].decode("utf-16-le", errors="replace").split("\x00", 1)[0]
        headers = []
        for off in HEADER_OFFSETS:
            raw = pread_exact(self.fd, HEADER_SIZE, off, path=path, field="VHDX header")
            headers.append((Header.parse(raw), off))
        valid = [(h, off) for h, off in headers if h is not None]
        if not valid:
            raise CorruptImageError(
                "neither header has a valid signature and CRC-32C",
                path=path,
                field="VHDX headers",
                offset=HEADER_OFFSETS[0],
            )
        header, slot = max(valid, key=lambda pair: pair[0].sequence)
        self.header, self._header_slot = header, slot
        if header.version != 1:
            raise UnsupportedImageError(
                f"version {header.version}; only 1 is known",
                path=path,
                field="VHDX header version",
                offset=slot + 66,
            )
        if header.log_version != 0:
            raise UnsupportedImageError(
                f"log version {header.log_version}; only 0 is known",
                path=path,
                field="VHDX header log version",
                offset=slot + 64,
            )
        self._replay_log(size)
        self._load_regions()
        self._load_metadata()
        self._load_bat()

    def _replay_log(self, size: int) -> None:
        h = self.header
        if h.log_guid.int == 0 or h.log_length == 0:
            return
        if (
            h.log_offset % MiB
            or h.log_offset < MiB
            or h.log_length % MiB
            or h.log_offset + h.log_length > size
        ):
            raise CorruptImageError(
                f"log of {h.log_length} bytes at {h.log_offset:#x} is not 1 MiB aligned "
                "inside the file",
                path=self.path,
                field="VHDX header log offset",
                offset=self._header_slot + 72,
            )
        raw = pread_exact(self.fd, h.log_length, h.log_offset, path=self.path, field="VHDX log")
        active = _vhdx_log.find_active(raw, h.log_guid, path=self.path, log_offset=h.log_offset)
        if active is None:
            return  # a log GUID with no valid sequence: nothing was committed
        if active.flushed_file_offset > size:
            raise CorruptImageError(
                f"the log was written when the file had {active.flushed_file_offset} bytes; "
                f"it now has {size}: the file was truncated",
                path=self.path,
                field="VHDX log FlushedFileOffset",
                offset=h.log_offset,
            )
        for w in active.writes:
            if w.offset < h.log_offset + h.log_length and w.end > h.log_offset:
                raise CorruptImageError(
                    f"a logged write at {w.offset:#x} targets the log itself",
                    path=self.path,
                    field="VHDX log descriptor",
                    offset=h.log_offset,
                )
        self.replayed_log_entries = len(active.writes)
        if not self.writable:
            self._overlay = active.writes
            self._virtual_file_end = max(size, active.last_file_offset)
            return
        for w in active.writes:
            if w.data is not None:
                pwrite_all(self.fd, w.data, w.offset)
            else:
                for start in range(w.offset, w.end, MiB):
                    pwrite_all(self.fd, bytes(min(MiB, w.end - start)), start)
        if size < active.last_file_offset:
            os.ftruncate(self.fd, round_up(active.last_file_offset, MiB))
        fsync(self.fd)
        self._write_header(log_guid=uuid.UUID(int=0))

    def _load_regions(self) -> None:
        errors = []
        for off in REGION_OFFSETS:
            raw = self.read_struct(REGION_SIZE, off, "VHDX region table")
            sig, csum, count, _ = _REGION_HEADER.unpack_from(raw)
            body = bytearray(raw)
            body[4:8] = bytes(4)
            if sig != b"regi" or crc32c.crc32c(body) != csum:
                errors.append(off)
                continue
            if count > 2047:
                raise CorruptImageError(
                    f"{count} entries; at most 2047 fit",
                    path=self.path,
                    field="VHDX region table entry count",
                    offset=off + 8,
                )
            regions = {}
            for i in range(count):
                guid, r_off, r_len, req = _REGION_ENTRY.unpack_from(raw, 16 + 32 * i)
                region = Region(uuid.UUID(bytes_le=guid), r_off, r_len, bool(req & 1))
                if region.guid not in (BAT_GUID, METADATA_GUID):
                    if region.required:
                        raise UnsupportedImageError(
                            f"required region {region.guid} is not one vhdfile knows",
                            path=self.path,
                            field="VHDX region table",
                            offset=off + 16 + 32 * i,
                        )
                    continue
                if r_off % MiB or r_off < MiB or r_len == 0 or r_len % MiB:
                    raise CorruptImageError(
                        f"region {region.guid} at {r_off:#x}, {r_len} bytes, is not 1 MiB "
                        "aligned after the header section",
                        path=self.path,
                        field="VHDX region table entry",
                        offset=off + 16 + 32 * i,
                    )
                regions[region.guid] = region
            for needed in (BAT_GUID, METADATA_GUID):
                if needed not in regions:
                    raise CorruptImageError(
                        f"the required region {needed} is missing",
                        path=self.path,
                        field="VHDX region table",
                        offset=off,
                    )
            self.regions = regions
            return
        raise CorruptImageError(
            "neither region table has a valid signature and CRC-32C",
            path=self.path,
            field="VHDX region table",
            offset=errors[0],
        )

    def _load_metadata(self) -> None:
        region = self.regions[METADATA_GUID]
        base = region.offset
        table = self.read_struct(64 * KiB, base, "VHDX metadata table")
        sig, _res, count = _META_HEADER.unpack_from(table)
        if sig != b"metadata":
            raise CorruptImageError(
                f"signature is {sig!r}, expected b'metadata'",
                path=self.path,
                field="VHDX metadata table",
                offset=base,
            )
        if count > 2047:
            raise CorruptImageError(
                f"{count} entries; at most 2047 fit",
                path=self.path,
                field="VHDX metadata entry count",
                offset=base + 10,
            )
        items: dict[uuid.UUID, bytes] = {}
        for i in range(count):
            guid_b, i_off, i_len, flags, _r = _META_ENTRY.unpack_from(table, 32 + 32 * i)
            guid = uuid.UUID(bytes_le=guid_b)
            where = base + 32 + 32 * i
            if guid not in KNOWN_ITEMS:
                if flags & 4:
                    raise UnsupportedImageError(
                        f"required metadata item {guid} is not one vhdfile knows",
                        path=self.path,
                        field="VHDX metadata table",
                        offset=where,
                    )
                continue
            if i_len and (i_off < 64 * KiB or i_off + i_len > region.length or i_len > MiB):
                raise CorruptImageError(
                    f"item {guid} ({i_len} bytes at +{i_off:#x}) is outside the metadata region",
                    path=self.path,
                    field="VHDX metadata entry",
                    offset=where,
                )
            items[guid] = self.read_struct(i_len, base + i_off, f"VHDX metadata item {guid}")
        self._meta_items = items

        def item(guid: uuid.UUID, fmt: str, name: str) -> tuple:
            raw = items.get(guid)
            if raw is None:
                raise CorruptImageError(
                    f"the required item {guid} is missing",
                    path=self.path,
                    field=f"VHDX metadata {name}",
                    offset=base,
                )
            size = struct.calcsize(fmt)
            if len(raw) < size:
                raise CorruptImageError(
                    f"{len(raw)} bytes, expected {size}",
                    path=self.path,
                    field=f"VHDX metadata {name}",
                    offset=base,
                )
            return struct.unpack_from(fmt, raw)

        bs, flags = item(FILE_PARAMETERS, "<II", "file parameters")
        (vsize,) = item(VIRTUAL_DISK_SIZE, "<Q", "virtual disk size")
        (disk_id,) = item(VIRTUAL_DISK_ID, "<16s", "virtual disk id")
        (lss,) = item(LOGICAL_SECTOR_SIZE, "<I", "logical sector size")
        (pss,) = item(PHYSICAL_SECTOR_SIZE, "<I", "physical sector size")
        if bs < MiB or bs > 256 * MiB or bs & (bs - 1):
            raise CorruptImageError(
                f"block size {bs} is not a power of two from 1 MiB to 256 MiB",
                path=self.path,
                field="VHDX block size",
                offset=base,
            )
        for name, value in (("logical sector size", lss), ("physical sector size", pss)):
            if value not in (512, 4096):
                raise CorruptImageError(
                    f"{value}; it must be 512 or 4096",
                    path=self.path,
                    field=f"VHDX {name}",
                    offset=base,
                )
        if vsize == 0 or vsize % lss or vsize > MAX_SIZE:
            raise CorruptImageError(
                f"{vsize} is not a positive multiple of the {lss}-byte logical sector up to 64 TiB",
                path=self.path,
                field="VHDX virtual disk size",
                offset=base,
            )
        has_parent = bool(flags & 2)
        self.meta = Metadata(
            bs, bool(flags & 1), has_parent, vsize, uuid.UUID(bytes_le=disk_id), lss, pss
        )
        self.virtual_size, self.block_size = vsize, bs
        self.logical_sector_size, self.physical_sector_size = lss, pss
        self.disk_id = self.meta.disk_id
        if has_parent:
            self.type = DiskType.DIFFERENCING
        elif self.meta.leave_blocks_allocated:
            self.type = DiskType.FIXED
        else:
            self.type = DiskType.DYNAMIC
        self.parent_locator = None
        if has_parent:
            raw = items.get(PARENT_LOCATOR)
            if raw is None:
                raise CorruptImageError(
                    "a differencing disk without a parent locator",
                    path=self.path,
                    field="VHDX metadata parent locator",
                    offset=base,
                )
            self.meta.locator = self._parse_locator(raw, base)
            loc = self.meta.locator
            self.parent_locator = ParentLocator(
                absolute_path=loc.get("absolute_win32_path"),
                relative_path=loc.get("relative_path"),
                volume_path=loc.get("volume_path"),
                linkage=loc.get("parent_linkage"),
                linkage2=loc.get("parent_linkage2"),
            )

    def _parse_locator(self, raw: bytes, base: int) -> dict[str, str]:
        where = "VHDX parent locator"
        if len(raw) < _LOCATOR_HEADER.size:
            raise CorruptImageError(
                "too short for its header", path=self.path, field=where, offset=base
            )
        ltype, _r, count = _LOCATOR_HEADER.unpack_from(raw)
        if uuid.UUID(bytes_le=ltype) != VHDX_LOCATOR_TYPE:
            raise UnsupportedImageError(
                f"locator type {uuid.UUID(bytes_le=ltype)} is not the VHDX parent locator",
                path=self.path,
                field=where,
                offset=base,
            )
        if _LOCATOR_HEADER.size + count * _LOCATOR_ENTRY.size > len(raw):
            raise CorruptImageError(
                f"{count} entries do not fit in {len(raw)} bytes",
                path=self.path,
                field=where,
                offset=base,
            )
        entries = {}
        for i in range(count):
            k_off, v_off, k_len, v_len = _LOCATOR_ENTRY.unpack_from(
                raw, _LOCATOR_HEADER.size + _LOCATOR_ENTRY.size * i
            )
            if k_off + k_len > len(raw) or v_off + v_len > len(raw):
                raise CorruptImageError(
                    f"entry {i} points outside the locator",
                    path=self.path,
                    field=where,
                    offset=base,
                )
            try:
                key = raw[k_off : k_off + k_len].decode("utf-16-le")
                value = raw[v_off : v_off + v_len].decode("utf-16-le")
            except UnicodeDecodeError as exc:
                raise CorruptImageError(
                    f"entry {i} is not UTF-16: {exc}", path=self.path, field=where, offset=base
                ) from None
            entries[key] = value
        if "parent_linkage" not in entries:
            raise CorruptImageError(
                "the parent_linkage entry is missing", path=self.path, field=where, offset=base
            )
        return entries

    def _load_bat(self) -> None:
        region = self.regions[BAT_GUID]
        blocks, ratio, entries = bat_layout(
            self.virtual_size, self.block_size, self.logical_sector_size, self.meta.has_parent
        )
        if entries * 8 > region.length:
            raise CorruptImageError(
                f"the BAT region holds {region.length // 8} entries; the disk needs {entries}",
                path=self.path,
                field="VHDX BAT region",
                offset=REGION_OFFSETS[0],
            )
        bat = array.array("Q")
        bat.frombytes(self.read_struct(entries * 8, region.offset, "VHDX BAT"))
        if sys.byteorder == "big":
            bat.byteswap()
        self.bat = bat
        self._blocks, self._chunk_ratio = blocks, ratio
        self._sectors_per_block = self.block_size // self.logical_sector_size
        self._pending_bat: set[int] = set()
        self._sb_cache: dict[int, bytearray] = {}
        self._dirty_sb: set[int] = set()
        self._runs_cache: dict[int, list[tuple[int, int]]] = {}
        self._wrote_header = False
        self._alloc_end = 0

    def linkage_id(self) -> str:
        return guid_text(self.header.data_write_guid)

    # -- mapping ------------------------------------------------------------------------
    def _pb_index(self, block: int) -> int:
        return block + block // self._chunk_ratio

    def _sb_index(self, chunk: int) -> int:
        return (chunk + 1) * self._chunk_ratio + chunk

    def _entry_offset(self, index: int, what: str) -> int:
        value = self.bat[index]
        offset = (value >> 20) * MiB
        if offset < MiB or offset >= max(self._virtual_file_end, file_size(self.fd)):
            raise CorruptImageError(
                f"{what} points at {offset:#x}, outside the file",
                path=self.path,
                field=f"VHDX BAT entry {index}",
                offset=self.regions[BAT_GUID].offset + 8 * index,
            )
        return offset

    def _sector_runs(self, block: int) -> list[tuple[int, int]]:
        """Present sectors of a partially present block, from its chunk's sector bitmap."""
        runs = self._runs_cache.get(block)
        if runs is None:
            chunk, in_chunk = divmod(block, self._chunk_ratio)
            bitmap = self._sector_bitmap(chunk)
            if bitmap is None:
                raise CorruptImageError(
                    f"block {block} is partially present but its chunk has no sector bitmap",
                    path=self.path,
                    field=f"VHDX BAT entry {self._sb_index(chunk)}",
                    offset=self.regions[BAT_GUID].offset,
                )
            spb = self._sectors_per_block
            first = in_chunk * spb
            part = bytes(bitmap[first // 8 : (first + spb) // 8])
            runs = _bitmap.set_runs(part, spb, msb_first=False)
            if len(self._runs_cache) > 8192:
                self._runs_cache.clear()
            self._runs_cache[block] = runs
        return runs

    def _sector_bitmap(self, chunk: int) -> bytearray | None:
        bitmap = self._sb_cache.get(chunk)
        if bitmap is not None:
            return bitmap
        index = self._sb_index(chunk)
        if index >= len(self.bat):
            return None
        state = self.bat[index] & 7
        if state == NOT_PRESENT:
            return None
        if state != SB_PRESENT:
            raise CorruptImageError(
                f"sector bitmap state {state}; expected 0 or 6",
                path=self.path,
                field=f"VHDX BAT entry {index}",
                offset=self.regions[BAT_GUID].offset + 8 * index,
            )
        offset = self._entry_offset(index, "sector bitmap block")
        bitmap = bytearray(self.read_struct(MiB, offset, f"VHDX sector bitmap of chunk {chunk}"))
        if len(self._sb_cache) > 64:
            for key in [k for k in self._sb_cache if k not in self._dirty_sb]:
                del self._sb_cache[key]
        self._sb_cache[chunk] = bitmap
        return bitmap

    def map(self, offset: int, length: int) -> list[Run]:
        runs: list[list[int]] = []
        bs = self.block_size
        diff = self.meta.has_parent
        lss = self.logical_sector_size
        while length > 0:
            block, within = divmod(offset, bs)
            n = min(length, bs - within)
            index = self._pb_index(block)
            state = self.bat[index] & 7
            if state in (NOT_PRESENT, UNDEFINED, UNMAPPED):
                add_run(runs, ABSENT, n)
            elif state == BLOCK_ZERO:
                add_run(runs, ZERO, n)
            elif state == FULLY_PRESENT:
                add_run(runs, DATA, n, self._entry_offset(index, f"payload block {block}") + within)
            elif state == PARTIALLY_PRESENT and diff:
                base = self._entry_offset(index, f"payload block {block}")
                pos, end = within, within + n
                for first, count in self._sector_runs(block):
                    a, b = max(first * lss, pos), min((first + count) * lss, end)
                    if a >= b:
                        continue
                    add_run(runs, ABSENT, a - pos)
                    add_run(runs, DATA, b - a, base + a)
                    pos = b
                add_run(runs, ABSENT, end - pos)
            else:
                raise CorruptImageError(
                    f"payload block {block} has state {state}, which is not "
                    f"valid in a {self.type} disk",
                    path=self.path,
                    field=f"VHDX BAT entry {index}",
                    offset=self.regions[BAT_GUID].offset + 8 * index,
                )
            offset += n
            length -= n
        return runs  # type: ignore[return-value]

    # -- writing ------------------------------------------------------------------------
    def _write_header(
        self, *, log_guid: uuid.UUID | None = None, new_data_guid: bool = False
    ) -> None:
        """Write the next header into the other slot: the switch is atomic (one of the two
        headers is always whole, and readers take the valid one with the higher sequence)."""
        h = self.header
        new = Header(
            h.sequence + 1,
            uuid.uuid4(),
            uuid.uuid4() if new_data_guid else h.data_write_guid,
            h.log_guid if log_guid is None else log_guid,
            0,
            1,
            h.log_length,
            h.log_offset,
        )
        slot = HEADER_OFFSETS[1] if self._header_slot == HEADER_OFFSETS[0] else HEADER_OFFSETS[0]
        pwrite_all(self.fd, new.pack(), slot)
        fsync(self.fd)
        self.header, self._header_slot = new, slot

    def _begin_data_write(self) -> None:
        if not self._wrote_header:
            self._write_header(new_data_guid=True)
            self._wrote_header = True

    def _allocate(self, length: int) -> int:
        start = round_up(max(file_size(self.fd), self._alloc_end), MiB)
        os.ftruncate(self.fd, start + length)
        self._alloc_end = start + length
        return start

    def write(self, offset: int, data: memoryview) -> None:
        self._begin_data_write()
        bs = self.block_size
        lss = self.logical_sector_size
        diff = self.meta.has_parent
        pos = 0
        while pos < len(data):
            block, within = divmod(offset + pos, bs)
            n = min(len(data) - pos, bs - within)
            index = self._pb_index(block)
            state = self.bat[index] & 7
            if state in (FULLY_PRESENT, PARTIALLY_PRESENT):
                base = self._entry_offset(index, f"payload block {block}")
                if state == PARTIALLY_PRESENT:
                    self._mark_present(block, within // lss, n // lss)
            else:
                base = self._allocate(bs)
                whole = within == 0 and n == bs
                if diff and state != BLOCK_ZERO and not whole:
                    new_state = PARTIALLY_PRESENT
                    self._mark_present(block, within // lss, n // lss)
                else:
                    new_state = FULLY_PRESENT
                self.bat[index] = (base // MiB) << 20 | new_state
                self._pending_bat.add(index)
            pwrite_all(self.fd, data[pos : pos + n], base + within)
            pos += n

    def _mark_present(self, block: int, first: int, count: int) -> None:
        chunk, in_chunk = divmod(block, self._chunk_ratio)
        bitmap = self._sector_bitmap(chunk)
        if bitmap is None:
            bitmap = bytearray(MiB)
            index = self._sb_index(chunk)
            self.bat[index] = (self._allocate(MiB) // MiB) << 20 | SB_PRESENT
            self._pending_bat.add(index)
            self._sb_cache[chunk] = bitmap
        _bitmap.set_range(
            bitmap, in_chunk * self._sectors_per_block + first, count, msb_first=False
        )
        self._dirty_sb.add(chunk)
        self._runs_cache.pop(block, None)

    def flush(self) -> None:
        if not (self._pending_bat or self._dirty_sb):
            return
        self.sync()  # payload data before the bitmaps and BAT entries that expose it
        for chunk in sorted(self._dirty_sb):
            offset = self._entry_offset(self._sb_index(chunk), "sector bitmap block")
            pwrite_all(self.fd, self._sb_cache[chunk], offset)
        self._dirty_sb.clear()
        if self._pending_bat:
            self.sync()
            indices = sorted(self._pending_bat)
            bat_offset = self.regions[BAT_GUID].offset
            # Contiguous runs of changed entries, one write each.
            start = prev = indices[0]
            for i in [*indices[1:], None]:
                if i is not None and i == prev + 1:
                    prev = i
                    continue
                chunk = self.bat[start : prev + 1]
                if sys.byteorder == "big":
                    chunk.byteswap()
                pwrite_all(self.fd, chunk.tobytes(), bat_offset + 8 * start)
                if i is not None:
                    start = prev = i
            self._pending_bat.clear()
        self.sync()

    # -- metadata changes through the log ----------------------------------------------
    def commit(
        self,
        writes: list[tuple[int, bytes]],
        *,
        last_file_offset: int | None = None,
        fail_after: int | None = None,
    ) -> None:
        """Apply metadata writes atomically: log entry, header naming the log (the commit
        point), the writes in place, then a header with an empty log.

        `fail_after` injects a failure after that many steps (tests use it to show an
        interruption leaves the old or the new state, never a mix).
        """
        self.flush()
        step = 0

        def checkpoint() -> None:
            nonlocal step
            step += 1
            if fail_after is not None and step > fail_after:
                raise _InjectedFailure(f"injected failure after step {fail_after}")

        sectors = _to_log_sectors(self.fd, writes, self.path)
        size = file_size(self.fd)
        log_guid = uuid.uuid4()
        entry = _vhdx_log.build_entry(
            sectors,
            sequence=1,
            log_guid=log_guid,
            flushed_file_offset=size,
            last_file_offset=max(size, last_file_offset or 0),
        )
        if len(entry) > self.header.log_length:
            raise UnsupportedImageError(
                f"the change needs {len(entry)} bytes of log; the log has {self.header.log_length}",
                path=self.path,
                field="VHDX log length",
                offset=self._header_slot + 68,
            )
        checkpoint()
        pwrite_all(self.fd, entry, self.header.log_offset)
        fsync(self.fd)
        checkpoint()
        self._write_header(log_guid=log_guid)  # commit point
        checkpoint()
        for offset, data in sectors:
            pwrite_all(self.fd, data, offset)
        if last_file_offset and size < last_file_offset:
            os.ftruncate(self.fd, last_file_offset)
        fsync(self.fd)
        checkpoint()
        self._write_header(log_guid=uuid.UUID(int=0))


class _InjectedFailure(Exception):
    pass


def _to_log_sectors(fd: int, writes: list[tuple[int, bytes]], path: str) -> list[tuple[int, bytes]]:
    """Whole 4 KiB sectors holding `writes`, merged with what the file has around them."""
    sectors: dict[int, bytearray] = {}
    for offset, data in writes:
        first = offset - offset % _vhdx_log.LOG_SECTOR
        end = round_up(offset + len(data), _vhdx_log.LOG_SECTOR)
        for s in range(first, end, _vhdx_log.LOG_SECTOR):
            if s not in sectors:
                old = os.pread(fd, _vhdx_log.LOG_SECTOR, s)
                sectors[s] = bytearray(old.ljust(_vhdx_log.LOG_SECTOR, b"\0"))
        for s in range(first, end, _vhdx_log.LOG_SECTOR):
            a, b = max(s, offset), min(s + _vhdx_log.LOG_SECTOR, offset + len(data))
            sectors[s][a - s : b - s] = data[a - offset : b - offset]
    return [(s, bytes(sectors[s])) for s in sorted(sectors)]


def build(
    fd: int,
    disk_type: DiskType,
    size: int,
    block_size: int,
    logical_sector: int,
    physical_sector: int,
    disk_id: uuid.UUID,
    locator: dict[str, str] | None = None,
) -> None:
    """Lay out a new VHDX in an empty file (fixed: every block allocated, in order)."""
    diff = disk_type is DiskType.DIFFERENCING
    blocks, ratio, entries = bat_layout(size, block_size, logical_sector, diff)
    bat_length = round_up(entries * 8, MiB)
    data_start = BAT_OFFSET + bat_length
    ident = bytearray(64 * KiB)
    ident[:8] = SIGNATURE
    creator = CREATOR.encode("utf-16-le")
    ident[8 : 8 + len(creator)] = creator
    pwrite_all(fd, ident, 0)
    guid = uuid.uuid4()
    for seq, off in enumerate(HEADER_OFFSETS):
        header = Header(
            seq, uuid.uuid4() if seq else guid, guid, uuid.UUID(int=0), 0, 1, LOG_LENGTH, LOG_OFFSET
        )
        pwrite_all(fd, header.pack(), off)
    table = pack_region_table(
        [
            Region(BAT_GUID, BAT_OFFSET, bat_length, True),
            Region(METADATA_GUID, METADATA_OFFSET, METADATA_LENGTH, True),
        ]
    )
    for off in REGION_OFFSETS:
        pwrite_all(fd, table, off)
    meta = Metadata(
        block_size,
        disk_type is DiskType.FIXED,
        diff,
        size,
        disk_id,
        logical_sector,
        physical_sector,
        dict(locator or {}),
    )
    pwrite_all(fd, meta.pack(), METADATA_OFFSET)
    bat = array.array("Q", bytes(8 * entries))
    if disk_type is DiskType.FIXED:
        for block in range(blocks):
            bat[block + block // ratio] = (
                (data_start + block * block_size) // MiB
            ) << 20 | FULLY_PRESENT
    if sys.byteorder == "big":
        bat.byteswap()
    pwrite_all(fd, bat.tobytes(), BAT_OFFSET)
    end = data_start + (blocks * block_size if disk_type is DiskType.FIXED else 0)
    os.ftruncate(fd, end)
