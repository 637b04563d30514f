"""Failures injected part-way through every operation that changes a file: the original
reads back identical (or, past a VHDX commit point, the whole new state)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import MiB

import vhdfile
from vhdfile import vhdx
from vhdfile.errors import OperationFailedError
from vhdfile.vhdx import _InjectedFailure


class Boom(Exception):
    pass


def content(path: Path, limit: int = 16 * MiB) -> tuple[int, bytes]:
    with vhdfile.open_disk(path) as disk:
        return disk.virtual_size, disk.read(0, min(limit, disk.virtual_size))


@pytest.mark.parametrize("dtype", ["fixed", "dynamic"])
@pytest.mark.parametrize("steps", range(6))
def test_vhd_resize_failure_restores_the_file(filled, dtype: str, steps: int) -> None:
    path, _ = filled("vhd", dtype, 4 * MiB)
    before = path.read_bytes()
    try:
        vhdfile.resize(path, 3000 * MiB, _fail_after=steps)
    except OperationFailedError:
        assert path.read_bytes() == before
    else:
        assert content(path)[0] == 3000 * MiB  # fewer writes than steps: it completed


@pytest.mark.parametrize("grow", [True, False])
@pytest.mark.parametrize("steps", range(4))
def test_vhdx_resize_is_atomic(tmp_path: Path, grow: bool, steps: int) -> None:
    path = tmp_path / "r.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 8 * MiB, block_size=MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(MiB, b"data" * 1000)
    before_bytes = path.read_bytes()
    old = content(path)
    new_size = 5000 * MiB if grow else 4 * MiB
    with pytest.raises(_InjectedFailure):
        vhdfile.resize(path, new_size, _fail_after=steps)
    size, data = content(path)  # replays a committed log in memory, read-only
    if steps < 2:  # before the header naming the log: untouched (but for the log area,
        # whose content means nothing while no header names it)
        after = path.read_bytes()
        log = slice(vhdx.LOG_OFFSET, vhdx.LOG_OFFSET + vhdx.LOG_LENGTH)
        assert (
            after[: log.start] + after[log.stop :]
            == before_bytes[: log.start] + before_bytes[log.stop :]
        )
        assert (size, data) == old
    else:  # committed: the whole new state
        assert size == new_size
        assert data[: 4 * MiB] == old[1][: 4 * MiB]


def test_vhd_reconnect_failure_restores_the_file(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "b.vhd", "vhd", "dynamic", 4 * MiB)
    vhdfile.create(tmp_path / "c.vhd", "vhd", "differencing", parent=tmp_path / "b.vhd")
    before = (tmp_path / "c.vhd").read_bytes()
    for steps in range(3):
        with pytest.raises(OperationFailedError):
            vhdfile.set_parent(tmp_path / "c.vhd", tmp_path / "b.vhd", _fail_after=steps)
        assert (tmp_path / "c.vhd").read_bytes() == before


def test_convert_failure_leaves_nothing(filled, tmp_path: Path) -> None:
    source, _ = filled("vhd", "dynamic")

    def fail(done: int, total: int) -> None:
        raise Boom

    names = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(Boom):
        vhdfile.convert(source, tmp_path / "out.vhdx", "vhdx", progress=fail)
    assert {p.name for p in tmp_path.iterdir()} == names


def test_merge_failure_leaves_the_chain_reading_the_same(tmp_path: Path) -> None:
    base, child = tmp_path / "b.vhdx", tmp_path / "c.vhdx"
    vhdfile.create(base, "vhdx", "dynamic", 16 * MiB, block_size=MiB)
    vhdfile.create(child, "vhdx", "differencing", parent=base)
    with vhdfile.open_disk(child, writable=True) as disk:
        for i in range(0, 16, 3):
            disk.write(i * MiB, bytes([i + 1]) * MiB)
    expected = content(child)
    child_bytes = child.read_bytes()
    calls = []

    def fail_late(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise Boom

    with pytest.raises(Boom):
        vhdfile.merge(child, progress=fail_late)
    assert child.read_bytes() == child_bytes
    # The parent was written to, so the child's linkage no longer matches; the content
    # through the chain is still the child's.
    with vhdfile.open_disk(child, check_parent_id=False) as disk:
        assert (disk.virtual_size, disk.read(0, disk.virtual_size)) == expected


def test_a_torn_vhd_end_footer_falls_back_to_the_copy(filled) -> None:
    path, reference = filled("vhd", "dynamic")
    with open(path, "r+b") as f:
        f.seek(-512, 2)
        f.write(b"\0" * 512)
    with vhdfile.open_disk(path) as disk:
        assert disk.read(0, len(reference)) == reference
