"""The VHDX metadata log: finding the active sequence, replaying it, writing entries.

A VHDX file whose header carries a non-zero LogGuid may hold metadata updates (BAT,
region table, metadata) that were committed to the log but not yet to their final place.
Reading such a file as if it were clean shows stale tables, so vhdfile always replays:
on disk when the file is opened for writing, in memory (an overlay of the logged
writes) when it is opened read-only, so inspecting a file never changes it.

The same module writes log entries: vhdfile's in-place metadata changes (resize,
reconnecting a parent) go through the log exactly as Hyper-V's do, so an interruption
leaves either the old or the new metadata, never a mix.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

import crc32c

from .errors import CorruptImageError, UnsupportedImageError

LOG_SECTOR = 4096
ENTRY_HEADER = struct.Struct("<4sIIIQII16sQQ")  # 64 bytes
DESCRIPTOR = struct.Struct("<4sIQQQ")  # 32 bytes; for "zero": reserved, length, offset, seq
DATA_SECTOR = struct.Struct("<4sI4084sI")
MAX_LOG_BYTES = 256 * 1024 * 1024
PROTECTED_END = 192 * 1024  # file identifier and headers are never written through the log


@dataclass(frozen=True)
class LoggedWrite:
    """One replayed write: `data` at `offset`, or `zero_length` zeros when data is None."""

    offset: int
    data: bytes | None
    zero_length: int = 0

    @property
    def end(self) -> int:
        return self.offset + (len(self.data) if self.data is not None else self.zero_length)


@dataclass(frozen=True)
class ActiveLog:
    writes: list[LoggedWrite]
    flushed_file_offset: int
    last_file_offset: int
    head_sequence: int


@dataclass(frozen=True)
class _Entry:
    start: int  # byte offset in the log
    length: int
    sequence: int
    tail: int
    flushed: int
    last: int
    writes: list[LoggedWrite]


def _desc_sectors(count: int) -> int:
    return -(-(count + 2) // 128)


def _parse_entry(log: bytes, start: int, log_guid: bytes, budget: list[int]) -> _Entry | None:
    """The valid entry at `start` of the circular log, or None."""
    size = len(log)
    if start + ENTRY_HEADER.size > size:
        return None
    (sig, csum, length, tail, seq, count, _res, guid, flushed, last) = ENTRY_HEADER.unpack_from(
        log, start
    )
    if (
        sig != b"loge"
        or length == 0
        or length % LOG_SECTOR
        or length > size
        or seq == 0
        or guid != log_guid
        or tail % LOG_SECTOR
        or tail >= size
    ):
        return None
    dsec = _desc_sectors(count)
    if dsec * LOG_SECTOR > length:
        return None
    raw = (
        log[start : start + length]
        if start + length <= size
        else (log[start:] + log[: start + length - size])
    )
    budget[0] -= length
    if budget[0] < 0:
        return None
    body = bytearray(raw)
    body[4:8] = b"\0\0\0\0"
    if crc32c.crc32c(body) != csum:
        return None
    writes: list[LoggedWrite] = []
    data_index = dsec
    for i in range(count):
        sig_d, trailing, leading_or_len, offset, dseq = DESCRIPTOR.unpack_from(raw, 64 + 32 * i)
        if dseq != seq or offset % LOG_SECTOR:
            return None
        if sig_d == b"zero":
            if leading_or_len % LOG_SECTOR:
                return None
            writes.append(LoggedWrite(offset, None, leading_or_len))
        elif sig_d == b"desc":
            if (data_index + 1) * LOG_SECTOR > length:
                return None
            dsig, high, payload, low = DATA_SECTOR.unpack_from(raw, data_index * LOG_SECTOR)
            if dsig != b"data" or (high << 32 | low) != seq:
                return None
            sector = struct.pack("<Q", leading_or_len) + payload + struct.pack("<I", trailing)
            writes.append(LoggedWrite(offset, sector))
            data_index += 1
        else:
            return None
    if data_index * LOG_SECTOR != length:
        return None
    return _Entry(start, length, seq, tail, flushed, last, writes)


def find_active(log: bytes, log_guid: uuid.UUID, *, path: str, log_offset: int) -> ActiveLog | None:
    """The sequence to replay: the valid chain with the highest sequence number whose head
    entry's tail is the chain's own start (so no entry it depends on is missing).

    The log is scanned once, sector by sector, skipping over the entries of each chain
    found; checksumming is bounded by a budget so a crafted log cannot make this slow.
    """
    if len(log) > MAX_LOG_BYTES:
        raise UnsupportedImageError(
            f"a log of {len(log)} bytes is larger than the {MAX_LOG_BYTES} bytes vhdfile replays",
            path=path,
            field="VHDX log length",
            offset=log_offset,
        )
    guid = log_guid.bytes_le
    sectors = len(log) // LOG_SECTOR
    budget = [64 * max(len(log), LOG_SECTOR)]
    parsed: dict[int, _Entry | None] = {}

    def entry_at(sector: int) -> _Entry | None:
        if sector not in parsed:
            parsed[sector] = _parse_entry(log, sector * LOG_SECTOR, guid, budget)
            if budget[0] < 0:
                raise CorruptImageError(
                    "the log holds too many damaged entries to search",
                    path=path,
                    field="VHDX log",
                    offset=log_offset,
                )
        return parsed[sector]

    best: list[_Entry] | None = None
    pos = 0
    while pos < sectors:
        entry = entry_at(pos)
        if entry is None:
            pos += 1
            continue
        chain = [entry]
        seen = {pos}
        while len(chain) < sectors:
            nxt = (chain[-1].start + chain[-1].length) % len(log) // LOG_SECTOR
            candidate = entry_at(nxt)
            if candidate is None or candidate.sequence != chain[-1].sequence + 1 or nxt in seen:
                break
            chain.append(candidate)
            seen.add(nxt)
        end = chain[-1].start + chain[-1].length
        wrapped = any(e.start + e.length > len(log) for e in chain) or end <= entry.start
        head = chain[-1]
        starts = [e.start for e in chain]
        if head.tail in starts and (best is None or head.sequence > best[-1].sequence):
            best = chain[starts.index(head.tail) :]
        if wrapped:
            break
        pos = max(pos + 1, end // LOG_SECTOR)
    if best is None:
        return None
    writes = [w for e in best for w in e.writes]
    for w in writes:
        if w.offset < PROTECTED_END:
            raise CorruptImageError(
                f"a logged write targets {w.offset:#x}, inside the file identifier and headers",
                path=path,
                field="VHDX log descriptor",
                offset=log_offset,
            )
    head = best[-1]
    return ActiveLog(writes, head.flushed, head.last, head.sequence)


def build_entry(
    writes: list[tuple[int, bytes]],
    *,
    sequence: int,
    log_guid: uuid.UUID,
    flushed_file_offset: int,
    last_file_offset: int,
    tail: int = 0,
) -> bytes:
    """One log entry holding whole 4 KiB sectors `writes` [(file offset, 4096 bytes)]."""
    count = len(writes)
    dsec = _desc_sectors(count)
    length = (dsec + count) * LOG_SECTOR
    buf = bytearray(length)
    ENTRY_HEADER.pack_into(
        buf,
        0,
        b"loge",
        0,
        length,
        tail,
        sequence,
        count,
        0,
        log_guid.bytes_le,
        flushed_file_offset,
        last_file_offset,
    )
    for i, (offset, sector) in enumerate(writes):
        if len(sector) != LOG_SECTOR or offset % LOG_SECTOR:
            raise ValueError("log writes are whole, aligned 4 KiB sectors")
        (leading,) = struct.unpack_from("<Q", sector, 0)
        (trailing,) = struct.unpack_from("<I", sector, LOG_SECTOR - 4)
        DESCRIPTOR.pack_into(buf, 64 + 32 * i, b"desc", trailing, leading, offset, sequence)
        DATA_SECTOR.pack_into(
            buf,
            (dsec + i) * LOG_SECTOR,
            b"data",
            sequence >> 32,
            sector[8 : LOG_SECTOR - 4],
            sequence & 0xFFFFFFFF,
        )
    struct.pack_into("<I", buf, 4, crc32c.crc32c(buf))
    return bytes(buf)
