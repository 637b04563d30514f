"""Creating every kind of file, writing guest data at any offset and reading it back."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vhdfile.vhd_helpers import KINDS, MiB, apply, pattern_writes

import vhdfile
from vhdfile import DiskFormat, DiskType


@pytest.mark.parametrize(("fmt", "dtype"), KINDS)
def test_written_data_reads_back(filled, fmt: str, dtype: str) -> None:
    path, reference = filled(fmt, dtype)
    with vhdfile.open_disk(path) as disk:
        assert disk.read(0, len(reference)) == reference
        assert disk.read(MiB + 1, 10) == reference[MiB + 1 : MiB + 11]
        info = disk.info
    assert (info.format, info.type) == (DiskFormat(fmt), DiskType(dtype))
    assert info.virtual_size == len(reference)
    assert vhdfile.detect_format(path) is DiskFormat(fmt)


@pytest.mark.parametrize(
    ("fmt", "block", "lss"), [("vhd", 512 * 1024, 512), ("vhdx", MiB, 4096), ("vhdx", 4 * MiB, 512)]
)
def test_block_and_sector_sizes(filled, fmt: str, block: int, lss: int) -> None:
    kwargs = {"block_size": block} | ({"logical_sector_size": lss} if fmt == "vhdx" else {})
    path, reference = filled(fmt, "dynamic", **kwargs)
    with vhdfile.open_disk(path) as disk:
        assert disk.read(0, len(reference)) == reference
        assert (disk.info.block_size, disk.info.logical_sector_size) == (block, lss)


def test_hyperv_defaults(tmp_path: Path) -> None:
    vhdx = vhdfile.create(tmp_path / "a.vhdx", "vhdx", "dynamic", 64 * MiB)
    vhd = vhdfile.create(tmp_path / "a.vhd", "vhd", "dynamic", 64 * MiB)
    child = vhdfile.create(tmp_path / "c.vhdx", "vhdx", "differencing", parent=tmp_path / "a.vhdx")
    assert (vhdx.block_size, vhdx.logical_sector_size, vhdx.physical_sector_size) == (
        32 * MiB,
        512,
        4096,
    )
    assert vhdx.file_size == 4 * MiB  # Hyper-V's empty dynamic VHDX
    assert (vhd.block_size, vhd.creator) == (2 * MiB, "win ")
    assert child.block_size == 2 * MiB and child.parent_path == str(tmp_path / "a.vhdx")


def test_extents_are_where_data_was_written(tmp_path: Path) -> None:
    path = tmp_path / "d.vhd"
    vhdfile.create(path, "vhd", "dynamic", 16 * MiB)
    with vhdfile.open_disk(path, writable=True) as disk:
        disk.write(5 * MiB, b"x")
        disk.write(12 * MiB, b"y" * (3 * MiB))
    with vhdfile.open_disk(path) as disk:
        assert [(e.offset, e.length) for e in disk.extents()] == [
            (4 * MiB, 2 * MiB),
            (12 * MiB, 4 * MiB),
        ]


@pytest.mark.parametrize("fmt", ["vhd", "vhdx"])
def test_differencing_reads_through_parent_and_writes_to_child(tmp_path: Path, fmt: str) -> None:
    base, child = tmp_path / f"base.{fmt}", tmp_path / f"child.{fmt}"
    size = 8 * MiB
    reference = bytearray(size)
    base_writes = pattern_writes(size)
    apply(reference, base_writes)
    vhdfile.create(base, fmt, "dynamic", size)
    with vhdfile.open_disk(base, writable=True) as disk:
        for offset, data in base_writes:
            disk.write(offset, data)
    base_bytes = base.read_bytes()
    vhdfile.create(child, fmt, "differencing", parent=base)
    child_writes = [(MiB + 1000, b"c" * 5000), (7 * MiB + 11, b"d" * 20)]
    with vhdfile.open_disk(child, writable=True) as disk:
        for offset, data in child_writes:
            disk.write(offset, data)
    apply(reference, child_writes)
    with vhdfile.open_disk(child) as disk:
        assert disk.read(0, size) == reference
        own = disk.extents()
        assert own and all(e.length < 2 * MiB for e in own)  # sector-precise, not whole blocks
        assert disk.extents(through_parents=True)[0].offset == 0
        assert [d.path for d in disk.chain] == [str(child), str(base)]
    assert base.read_bytes() == base_bytes  # the parent is never written


@pytest.mark.parametrize(
    ("fmt", "dtype", "kwargs", "field"),
    [
        ("vhd", "dynamic", {"virtual_size": 2041 * 1024 * MiB}, "virtual size"),
        ("vhd", "dynamic", {"virtual_size": MiB + 1}, "virtual size"),
        ("vhd", "dynamic", {"virtual_size": MiB, "block_size": MiB}, "block size"),
        ("vhd", "fixed", {"virtual_size": MiB, "block_size": 2 * MiB}, "block size"),
        ("vhd", "dynamic", {"virtual_size": MiB, "logical_sector_size": 4096}, "sector size"),
        ("vhdx", "dynamic", {"virtual_size": 65 * 1024 * 1024 * MiB}, "virtual size"),
        ("vhdx", "dynamic", {"virtual_size": MiB, "block_size": 3 * MiB}, "block size"),
        ("vhdx", "dynamic", {"virtual_size": MiB, "block_size": 512 * 1024}, "block size"),
        (
            "vhdx",
            "dynamic",
            {"virtual_size": MiB + 512, "logical_sector_size": 4096},
            "virtual size",
        ),
        ("vhdx", "dynamic", {"virtual_size": MiB, "logical_sector_size": 1024}, "sector size"),
        ("vhdx", "differencing", {"virtual_size": MiB}, "parent"),
    ],
)
def test_create_refuses_what_hyperv_refuses(
    tmp_path: Path, fmt: str, dtype: str, kwargs: dict, field: str
) -> None:
    path = tmp_path / f"x.{fmt}"
    with pytest.raises(vhdfile.RequestError) as err:
        vhdfile.create(path, fmt, dtype, **kwargs)
    assert err.value.field == field
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_create_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "x.vhdx"
    path.write_bytes(b"precious")
    with pytest.raises(vhdfile.RequestError, match="already exists"):
        vhdfile.create(path, "vhdx", "dynamic", MiB)
    assert path.read_bytes() == b"precious"


def test_format_comes_from_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "looks-like.vhd"
    vhdfile.create(tmp_path / "real.vhdx", "vhdx", "dynamic", MiB)
    (tmp_path / "real.vhdx").rename(path)
    assert vhdfile.inspect(path).format is DiskFormat.VHDX
    raw = tmp_path / "raw.vhd"
    raw.write_bytes(bytes(4096))
    assert vhdfile.detect_format(raw) is None
    with pytest.raises(vhdfile.UnsupportedImageError, match="raw"):
        vhdfile.inspect(raw)


def test_reads_and_writes_outside_the_disk_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.vhdx"
    vhdfile.create(path, "vhdx", "dynamic", MiB)
    with vhdfile.open_disk(path) as disk:
        with pytest.raises(vhdfile.RequestError):
            disk.read(MiB - 1, 2)
        with pytest.raises(vhdfile.RequestError, match="read-only"):
            disk.write(0, b"x")
