"""VHDX log replay: a file with a committed log is never read as if it were clean."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import MiB

import vhdfile
from vhdfile import _vhdx_log, vhdx
from vhdfile.vhdx import VhdxBackend, _InjectedFailure


def pending_resize(path: Path, new_size: int) -> None:
    """Leave a committed but unapplied size change in the log (a crash after commit)."""
    with pytest.raises(_InjectedFailure):
        vhdfile.resize(path, new_size, _fail_after=2)


def test_read_only_open_replays_in_memory_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "l.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB)
    pending_resize(path, 16 * MiB)
    raw = path.read_bytes()
    backend = VhdxBackend(str(path))
    try:
        assert backend.header.log_guid.int != 0 and backend.virtual_size == 16 * MiB
        assert backend.replayed_log_entries > 0
    finally:
        backend.close()
    assert path.read_bytes() == raw


def test_writable_open_replays_on_disk_and_empties_the_log(tmp_path: Path) -> None:
    path = tmp_path / "l.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB)
    pending_resize(path, 16 * MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        assert disk.virtual_size == 16 * MiB
        assert disk.backend.header.log_guid.int == 0
    backend = VhdxBackend(str(path))
    try:
        assert backend.header.log_guid.int == 0 and backend.virtual_size == 16 * MiB
    finally:
        backend.close()


def test_a_damaged_entry_is_not_replayed(tmp_path: Path) -> None:
    path = tmp_path / "l.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB)
    pending_resize(path, 16 * MiB)
    with open(path, "r+b") as f:  # flip a byte of the entry: its CRC-32C no longer holds
        f.seek(vhdx.LOG_OFFSET + 4096 + 100)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert vhdfile.inspect(path).virtual_size == 8 * MiB


def test_truncated_file_with_a_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(0, b"x" * MiB)  # the file grows to 36 MiB
    pending_resize(path, 16 * MiB)
    with open(path, "r+b") as f:
        f.truncate(5 * MiB)
    with pytest.raises(vhdfile.CorruptImageError, match="FlushedFileOffset"):
        vhdfile.inspect(path)


def test_entry_round_trip_and_sequence_choice() -> None:
    guid = uuid.uuid4()
    sector = bytes(range(256)) * 16
    first = _vhdx_log.build_entry(
        [(1 * MiB, sector)],
        sequence=5,
        log_guid=guid,
        flushed_file_offset=4 * MiB,
        last_file_offset=4 * MiB,
    )
    second = _vhdx_log.build_entry(
        [(2 * MiB, sector[::-1])],
        sequence=6,
        log_guid=guid,
        flushed_file_offset=4 * MiB,
        last_file_offset=8 * MiB,
        tail=0,
    )
    log = (first + second).ljust(MiB, b"\0")
    active = _vhdx_log.find_active(log, guid, path="x", log_offset=MiB)
    assert active is not None and active.head_sequence == 6
    assert [(w.offset, w.data) for w in active.writes] == [(MiB, sector), (2 * MiB, sector[::-1])]
    assert active.last_file_offset == 8 * MiB
    assert _vhdx_log.find_active(log, uuid.uuid4(), path="x", log_offset=MiB) is None
    # A head whose tail points before the sequence it belongs to is incomplete.
    orphan = _vhdx_log.build_entry(
        [(MiB, sector)],
        sequence=9,
        log_guid=guid,
        flushed_file_offset=0,
        last_file_offset=0,
        tail=8192 * 4,
    )
    assert _vhdx_log.find_active(orphan.ljust(MiB, b"\0"), guid, path="x", log_offset=MiB) is None


def test_log_writes_into_headers_are_refused() -> None:
    guid = uuid.uuid4()
    bad = _vhdx_log.build_entry(
        [(64 * 1024, bytes(4096))],
        sequence=1,
        log_guid=guid,
        flushed_file_offset=0,
        last_file_offset=0,
    )
    with pytest.raises(vhdfile.CorruptImageError, match="headers"):
        _vhdx_log.find_active(bad.ljust(MiB, b"\0"), guid, path="x", log_offset=MiB)
    assert struct.calcsize("<Q") == 8
