"""Resize, merge, reconnect and convert, and what each refuses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import KINDS, MiB

import vhdfile
from vhdfile import DiskFormat, DiskType


@pytest.mark.parametrize(("fmt", "dtype"), KINDS)
def test_grow_keeps_data_and_adds_zeros(filled, fmt: str, dtype: str) -> None:
    path, reference = filled(fmt, dtype)
    info = vhdfile.resize(path, 40 * MiB)
    assert info.virtual_size == 40 * MiB
    with vhdfile.open_disk(path) as disk:
        assert disk.read(0, len(reference)) == reference
        assert disk.read(len(reference), 40 * MiB - len(reference)) == bytes(32 * MiB)


def test_grow_a_dynamic_vhd_past_its_bat(tmp_path: Path) -> None:
    path = tmp_path / "d.vhd"
    vhdfile.create(path, "vhd", "dynamic", 4 * MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(0, b"a" * MiB)
    vhdfile.resize(path, 3000 * MiB)  # 1500 entries: the BAT moves behind the data
    with vhdfile.open_disk(path, writable=True) as disk:
        assert disk.read(0, MiB) == b"a" * MiB
        disk.write(2999 * MiB, b"z")
    with vhdfile.open_disk(path) as disk:
        assert disk.read(2999 * MiB, 2) == b"z\0"


def test_shrink_vhdx_down_to_its_data_only(tmp_path: Path) -> None:
    path = tmp_path / "s.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", 64 * MiB, block_size=MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(10 * MiB - 3, b"end")
        disk.write(30 * MiB, bytes(MiB))  # allocated zeros do not count
        assert vhdfile.minimum_size(disk) == 10 * MiB
    with pytest.raises(vhdfile.RequestError, match="cannot shrink below"):
        vhdfile.resize(path, 9 * MiB)
    assert vhdfile.resize(path, 10 * MiB).virtual_size == 10 * MiB
    vhdfile.resize(path, 64 * MiB)
    with vhdfile.open_disk(path) as disk:  # what lay past the end came back as zeros
        assert disk.read(10 * MiB - 3, 3) == b"end"
        assert disk.read(10 * MiB, 54 * MiB) == bytes(54 * MiB)


def test_vhd_cannot_shrink(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "d.vhd", "vhd", "dynamic", 8 * MiB)
    with pytest.raises(vhdfile.RequestError, match="only VHDX"):
        vhdfile.resize(tmp_path / "d.vhd", 4 * MiB)


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_merge_into_parent_and_delete_child(tmp_path: Path, fmt: str) -> None:
    base, child = tmp_path / f"b.{fmt}", tmp_path / f"c.{fmt}"
    vhdfile.create(base, fmt, "dynamic", 8 * MiB)
    with vhdfile.open_disk(base, writable=True) as disk:
        disk.write(0, b"B" * (3 * MiB))
    vhdfile.create(child, fmt, "differencing", parent=base)
    with vhdfile.open_disk(child, writable=True) as disk:
        disk.write(MiB + 5, b"C" * 1000)
        disk.write(7 * MiB, b"D" * 512)
    with vhdfile.open_disk(child) as disk:
        expected = disk.read(0, 8 * MiB)
    info = vhdfile.merge(child, delete_child=True)
    assert not child.exists() and info.path == str(base)
    with vhdfile.open_disk(base) as disk:
        assert disk.read(0, 8 * MiB) == expected


def test_merge_into_grandparent(tmp_path: Path) -> None:
    paths = [tmp_path / f"{n}.vhdx" for n in "abc"]
    vhdfile.create(paths[0], "vhdx", "dynamic", 4 * MiB, block_size=MiB)
    for i, data in ((1, b"1"), (2, b"2")):
        vhdfile.create(paths[i], "vhdx", "differencing", parent=paths[i - 1])
        with vhdfile.open_disk(paths[i], writable=True) as disk:
            disk.write(i * MiB, data * 4096)
    with vhdfile.open_disk(paths[2]) as disk:
        expected = disk.read(0, 4 * MiB)
    vhdfile.merge(paths[2], paths[0])
    with vhdfile.open_disk(paths[0]) as disk:
        assert disk.read(0, 4 * MiB) == expected


def test_merge_refuses_a_disk_without_parent(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "a.vhdx", "vhdx", "dynamic", MiB)
    with pytest.raises(vhdfile.RequestError, match="no parent"):
        vhdfile.merge(tmp_path / "a.vhdx")


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_reconnect_a_moved_parent(tmp_path: Path, fmt: str) -> None:
    base, child = tmp_path / f"b.{fmt}", tmp_path / f"c.{fmt}"
    vhdfile.create(base, fmt, "dynamic", 4 * MiB)
    vhdfile.create(child, fmt, "differencing", parent=base)
    (tmp_path / "moved").mkdir()
    moved = tmp_path / "moved" / "renamed"
    shutil.move(base, moved)
    with pytest.raises(vhdfile.ParentNotFoundError, match="no parent file found"):
        vhdfile.open_disk(child)
    info = vhdfile.set_parent(child, moved, parent_path_in_file=r"C:\images\renamed")
    assert info.parent_locator.absolute_path == r"C:\images\renamed"
    assert info.parent_locator.relative_path == r".\moved\renamed"
    with vhdfile.open_disk(child) as disk:
        assert disk.parent is not None and disk.parent.path == str(tmp_path / "moved/renamed")


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_reconnect_to_another_disk_needs_ignore_id_mismatch(tmp_path: Path, fmt: str) -> None:
    vhdfile.create(tmp_path / f"b.{fmt}", fmt, "dynamic", 4 * MiB)
    vhdfile.create(tmp_path / f"other.{fmt}", fmt, "dynamic", 4 * MiB)
    child = tmp_path / f"c.{fmt}"
    vhdfile.create(child, fmt, "differencing", parent=tmp_path / f"b.{fmt}")
    before = child.read_bytes()
    with pytest.raises(vhdfile.ParentMismatchError):
        vhdfile.set_parent(child, tmp_path / f"other.{fmt}")
    assert child.read_bytes() == before
    vhdfile.set_parent(child, tmp_path / f"other.{fmt}", ignore_id_mismatch=True)
    with vhdfile.open_disk(child) as disk:
        assert disk.parent.path == str(tmp_path / f"other.{fmt}")


def test_writing_to_a_vhdx_parent_breaks_its_children(tmp_path: Path) -> None:
    base, child = tmp_path / "b.vhdx", tmp_path / "c.vhdx"
    vhdfile.create(base, "vhdx", "dynamic", 4 * MiB)
    vhdfile.create(child, "vhdx", "differencing", parent=base)
    with vhdfile.open_disk(base, writable=True) as disk:
        disk.write(0, b"x" * 512)
    with pytest.raises(vhdfile.ParentMismatchError, match="parent linkage"):
        vhdfile.open_disk(child)
    assert vhdfile.inspect(child).parent_path == str(base)  # still described


@pytest.mark.parametrize(("src_fmt", "src_type"), KINDS)
@pytest.mark.parametrize(("dst_fmt", "dst_type"), KINDS)
def test_convert_keeps_content_and_sparseness(
    filled, tmp_path: Path, src_fmt: str, src_type: str, dst_fmt: str, dst_type: str
) -> None:
    source, reference = filled(src_fmt, src_type, 16 * MiB)
    dest = tmp_path / f"out.{dst_fmt}"
    seen: list[tuple[int, int]] = []
    info = vhdfile.convert(
        source, dest, dst_fmt, dst_type, progress=lambda done, total: seen.append((done, total))
    )
    assert (info.format, info.type) == (DiskFormat(dst_fmt), DiskType(dst_type))
    with vhdfile.open_disk(dest) as disk:
        assert disk.read(0, len(reference)) == reference
    assert seen and seen[-1][0] == seen[-1][1]
    if dst_type == "dynamic":  # only the blocks holding non-zero data are allocated
        bs = info.block_size
        touched = {i for i in range(0, len(reference), bs) if any(reference[i : i + bs])}
        with vhdfile.open_disk(dest) as disk:
            stored = sum(e.length for e in disk.extents())
        assert stored == sum(min(bs, len(reference) - i) for i in touched)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_convert_flattens_a_chain(tmp_path: Path) -> None:
    vhdfile.create(tmp_path / "b.vhdx", "vhdx", "dynamic", 4 * MiB)
    with vhdfile.open_disk(tmp_path / "b.vhdx", writable=True) as disk:
        disk.write(0, b"b" * MiB)
    vhdfile.create(tmp_path / "c.vhdx", "vhdx", "differencing", parent=tmp_path / "b.vhdx")
    with vhdfile.open_disk(tmp_path / "c.vhdx", writable=True) as disk:
        disk.write(512, b"c" * 512)
        expected = disk.read(0, 4 * MiB)
    info = vhdfile.convert(tmp_path / "c.vhdx", tmp_path / "flat.vhd", "vhd")
    assert info.parent_path is None
    with vhdfile.open_disk(tmp_path / "flat.vhd") as disk:
        assert disk.read(0, 4 * MiB) == expected
